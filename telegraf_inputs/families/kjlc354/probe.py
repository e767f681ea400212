"""discover's question for a KJLC 354/352 gauge: the ion-gauge pressure of address 01 (``#01RD``), 19200 8N1."""

from __future__ import annotations

import re
from typing import Any

from ...discover import Probe

REPLY = re.compile(rb"\*01 [ 0-9.E+-]{8}\x00?\r")


def identify(reply: bytes) -> dict[str, Any] | None:
    if not REPLY.fullmatch(reply):
        return None
    return {"Model": "KJLC 354", "measurement": "pressure", "DeviceSpecificParams": {"InternalAddress": "01"},
            "Channels": {"ig": {"Type": "IGPressure", "field-key": "pressure", "tags": {"unit": "Torr"}}}}  # fmt: skip


PROBES = (Probe("serial", b"#01RD\r", identify, read_to=b"\r", line=(19200, 8, "N", 1)),)
