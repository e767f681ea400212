"""discover's question for a Cryomech CPA panel: a Modbus TCP read of its first input registers (port 502).

Read-only (function 04). A 3.x panel answers 55 registers, a 2.x one 53; the answer must be a
well-formed Modbus reply of this unit, and its pressure and temperature scales must be ones the panel
has.  The entry reads the older logger's six channels.
"""

from __future__ import annotations

import struct
from typing import Any

from ...discover import Probe
from .protocol import COUNT, FIRST, PRESSURE_UNITS, TEMPERATURE_UNITS, float32

TRANSACTION = 0x5A5A


def identify(reply: bytes) -> dict[str, Any] | None:
    count = COUNT["2"]
    if len(reply) < 9 + 2 * count:
        return None
    transaction, protocol, length, unit, function, size = struct.unpack(">HHHBBB", reply[:9])
    if (transaction, protocol, unit, function, size) != (TRANSACTION, 0, 1, 4, 2 * count) or length != 3 + 2 * count:
        return None
    registers = struct.unpack(f">{count}H", reply[9 : 9 + 2 * count])
    if registers[28] & 0xFF not in PRESSURE_UNITS or registers[29] & 0xFF not in TEMPERATURE_UNITS:
        return None
    coolant2 = float32(registers[6], registers[7])  # a 2.x panel's coolant-in float; a 3.x one has an integer
    version = 2 if 1 < coolant2 < 500 and registers[39] == 0 else 3  # in register 40 instead
    channels = {"in": "CoolantIntTemperature", "out": "CoolantOutTemperature", "oil": "OilTemperature",
                "he": "HeTemperature", "lp": "LowPressure", "hp": "HighPressure"}  # fmt: skip
    return {"Model": "Cryomech CPA1110", "measurement": "compressor", "DeviceSpecificParams": {"PanelVersion": version},
            "Channels": {k: {"Type": t, "field-key": k} for k, t in channels.items()}}  # fmt: skip


REQUEST = struct.pack(">HHHBBHH", TRANSACTION, 0, 6, 1, 4, FIRST, COUNT["2"])
PROBES = (Probe("tcp", REQUEST, identify, read_to=None, length=9 + 2 * COUNT["2"], port=502),)
