"""discover's question for an rp-lockbox: the first fast input's voltage on its SCPI server (port 5000)."""

from __future__ import annotations

import re
from typing import Any

from ...discover import Probe, tcp_parts

NUMBER = re.compile(rb"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\r\n")


def identify(reply: bytes) -> dict[str, Any] | None:
    if not NUMBER.fullmatch(reply):
        return None
    return {"Model": "rp-lockbox", "measurement": "lockbox",
            "Channels": {"in1": {"Type": "FastAnalogIn", "DeviceChannel": 1, "field-key": "in1"},
                         "in2": {"Type": "FastAnalogIn", "DeviceChannel": 2, "field-key": "in2"}}}  # fmt: skip


def place(target: str) -> dict[str, Any]:
    host, port = tcp_parts(target)
    return {"Address": host, "SCPIConnectionParams": {"Port": port}}


PROBES = (Probe("tcp", b"ANALOG:IN1:VOLT?\r\n", identify, read_to=b"\r\n", port=5000, place=place),)
