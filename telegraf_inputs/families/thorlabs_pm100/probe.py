"""discover's question for a PM100 on a socket: ``*IDN?``; its entry reads the power and the sensor head."""

from __future__ import annotations

from typing import Any

from ...discover import Probe, socket_resource


def identify(reply: bytes) -> dict[str, Any] | None:
    parts = [p.strip() for p in reply.decode("ascii", "replace").split(",")]
    if len(parts) < 3 or not parts[0].startswith("Thorlabs") or not parts[1].startswith("PM"):
        return None
    return {"Model": "Thorlabs PM100", "VISAIDN": ",".join(parts), "measurement": "power",
            "Channels": {"P": {"Type": "Power", "field-key": "power", "tags": {"unit": "W"}},
                         "head": {"Type": "Sensor", "field-key": "sensor"}}}  # fmt: skip


PROBES = (Probe("tcp", b"*IDN?\n", identify, port=5025, place=socket_resource),)
