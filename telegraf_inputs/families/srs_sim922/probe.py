"""discover's question for a SIM922 on its own port: ``*IDN?``, 9600 8N1 (in a SIM900, the mainframe answers)."""

from __future__ import annotations

from typing import Any

from ...discover import Probe


def identify(reply: bytes) -> dict[str, Any] | None:
    if not reply.startswith(b"Stanford_Research_Systems,SIM922,"):
        return None
    return {"Model": "SRS SIM922", "measurement": "cryotemperature",
            "Channels": {f"t{n}": {"DeviceChannel": n, "Type": "Temperature", "field-key": f"t{n}",
                                   "tags": {"unit": "K"}} for n in (1, 2, 3, 4)}}  # fmt: skip


PROBES = (Probe("serial", b"*IDN?\n", identify, read_to=b"\n"),)
