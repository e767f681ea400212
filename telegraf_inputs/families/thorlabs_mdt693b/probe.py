"""discover's question for an MDT693B: the X axis's voltage (``xvoltage?``), 115200 8N1, read to the ``>``."""

from __future__ import annotations

import re
from typing import Any

from ...discover import Probe

REPLY = re.compile(rb"(xvoltage\?\r?\n?)?\[\s*[0-9.]+\]\r>")


def identify(reply: bytes) -> dict[str, Any] | None:
    if not REPLY.fullmatch(reply.strip(b"\n")):
        return None
    return {
        "Model": "Thorlabs MDT693B",
        "measurement": "piezo",
        "Channels": {a: {"Type": "Vout", "Axis": a, "field-key": a, "tags": {"unit": "V"}} for a in "xyz"},
    }


PROBES = (Probe("serial", b"xvoltage?\n", identify, read_to=b">", line=(115200, 8, "N", 1), usb=((0x0403, 0x6001),)),)
