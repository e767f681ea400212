"""discover's question for a DAQ970A/973A: ``*IDN?`` on the raw SCPI socket; its entry reads channel 101."""

from __future__ import annotations

from typing import Any

from ...discover import Probe, socket_resource


def identify(reply: bytes) -> dict[str, Any] | None:
    parts = [p.strip() for p in reply.decode("ascii", "replace").split(",")]
    if len(parts) < 3 or not parts[0].startswith(("Keysight", "Agilent")) or not parts[1].startswith("DAQ97"):
        return None
    channels = {"101": {"DeviceChannel": 101, "Type": "DCV", "field-key": "value"}}
    return {
        "Model": f"Keysight {parts[1]}",
        "VISAIDN": ",".join(parts),
        "measurement": "voltage",
        "Timeout": 5000,
        "Channels": channels,
    }


PROBES = (Probe("tcp", b"*IDN?\n", identify, port=5025, place=socket_resource),)
