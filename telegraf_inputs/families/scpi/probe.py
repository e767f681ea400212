"""The read-only question discover asks a LAN instrument: ``*IDN?`` on its raw SCPI socket (port 5025).

A Keysight DAQ970A/973A or a Thorlabs PM100 becomes an entry of its own family; any other instrument a
generic SCPI entry whose one channel records the identification (add the queries you want).
"""

from __future__ import annotations

from typing import Any

from ...discover import Probe, socket_resource

IDN = b"*IDN?\n"


def identify(reply: bytes) -> dict[str, Any] | None:
    text = reply.decode("ascii", "replace").strip()
    parts = [p.strip() for p in text.split(",")]
    if len(parts) < 3 or not parts[0]:
        return None
    if parts[0].startswith(("Keysight", "Agilent")) and parts[1].startswith("DAQ97"):
        return None  # the daq970a family's probe takes it
    if parts[0].startswith("Thorlabs") and parts[1].startswith("PM"):
        return None  # the thorlabs_pm100 family's
    return {"Model": "SCPI", "VISAIDN": text, "measurement": "instrument",
            "DeviceSpecificParams": {"ErrorQuery": "SYST:ERR?"},
            "Channels": {"idn": {"Query": "*IDN?", "FieldType": "string", "field-key": "idn"}}}  # fmt: skip


PROBES = (Probe("tcp", IDN, identify, port=5025, place=socket_resource),)
