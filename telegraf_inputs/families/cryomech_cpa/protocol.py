"""What both ends of a Cryomech CPA panel's Modbus TCP link share: its input register map.

One read (function 04) of input registers 1 to 55 (3.x panel) or 1 to 53 (2.x)
holds everything.  Common to both panels: 1 operating state, 2 compressor
running, 29 pressure scale, 30 temperature scale (low bytes), 31 serial number.
The 3.x panel gives the readings as 16-bit integers x 10 (40 coolant in ... 49
motor current), hours of operation, warnings and alarms as 32-bit numbers, low
word first; the 2.x panel gives readings, warnings and alarms as 32-bit IEEE
floats, low word first (3-4 warnings ... 27-28 hours).  A 2.x panel's warnings
and alarms float is the negated sum of the flags: -1 is bit 0 (coolant in high)
alone, -2**30 bit 30 (inverter comm loss), as Cryomech's own sample code for
2.x panels over Modbus TCP decodes it (Cryomech/SampleCode, CPA_2xxx_ModbusTCP.py,
buildMessage).
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

FIRST = 1
COUNT = {"3": 55, "2": 53}  # registers read per panel version, from register 1
PRESSURE_UNITS = {0: "psi", 1: "bar", 2: "kPa"}
TEMPERATURE_UNITS = {0: "F", 1: "C", 2: "K"}
STATES = {
    0: "idle",
    2: "starting",
    3: "running",
    5: "stopping",
    6: "error lockout",
    7: "error",
    8: "helium over-temperature cool-down",
    9: "power related error",
    15: "recovered from error",
}
#: warning and alarm bits (the same list in both panels)
FLAG_BITS = (
    "coolant_in_high", "coolant_in_low", "coolant_out_high", "coolant_out_low", "oil_high", "oil_low",
    "helium_high", "helium_low", "low_pressure_high", "low_pressure_low", "high_pressure_high", "high_pressure_low",
    "delta_pressure_high", "delta_pressure_low", "motor_current_low", "three_phase_error", "power_supply_error",
    "static_pressure_high", "static_pressure_low", "motor_stall", "coolant_in_sensor", "coolant_out_sensor",
    "helium_sensor", "oil_sensor", "high_pressure_sensor", "low_pressure_sensor", "motor_current_sensor",
    "motor_current_high", "inverter_error", "driver_comm_loss", "inverter_comm_loss",
)  # fmt: skip


@dataclass(frozen=True)
class Quantity:
    """A reading: where it is in each panel's map, and what kind of unit it has."""

    register3: int  # 3.x panel: a 16-bit integer x 10
    register2: int  # 2.x panel: the low word of a 32-bit float
    kind: str  # "temperature", "pressure", "current", "hours"


#: channel Type -> quantity (the first six are the older logger's names, "CoolantIntTemperature" as it spelt it)
QUANTITIES = {
    "CoolantIntTemperature": Quantity(40, 7, "temperature"),
    "CoolantOutTemperature": Quantity(41, 9, "temperature"),
    "OilTemperature": Quantity(42, 11, "temperature"),
    "HeTemperature": Quantity(43, 13, "temperature"),
    "LowPressure": Quantity(44, 15, "pressure"),
    "HighPressure": Quantity(46, 19, "pressure"),
    "LowPressureAverage": Quantity(45, 17, "pressure"),
    "HighPressureAverage": Quantity(47, 21, "pressure"),
    "DeltaPressureAverage": Quantity(48, 23, "pressure"),
    "MotorCurrent": Quantity(49, 25, "current"),
    "HoursOfOperation": Quantity(50, 27, "hours"),
}
#: 32-bit words of the 3.x panel, low word first
WARNINGS3, ALARMS3, HOURS3 = 52, 54, 50
WARNINGS2, ALARMS2 = 3, 5


def word32(low: int, high: int) -> int:
    return (high << 16) | low


def float32(low: int, high: int) -> float:
    return float(struct.unpack(">f", word32(low, high).to_bytes(4, "big"))[0])


def float_words(value: float) -> tuple[int, int]:
    """(low word, high word) of a 32-bit float, as the 2.x panel sends it."""
    raw = int.from_bytes(struct.pack(">f", value), "big")
    return raw & 0xFFFF, raw >> 16


class FlagError(ValueError):
    """A 2.x panel's warnings or alarms float that is no negated sum of flags."""


def flags_of_float(value: float) -> int:
    """The flag bits of a 2.x panel's warnings or alarms float, the negated sum of 2**bit for each flag set."""
    if not math.isfinite(value) or value != math.floor(value):
        raise FlagError(f"{value!r} is not a whole number")
    word = -int(value)
    if not 0 <= word < 1 << len(FLAG_BITS):
        raise FlagError(
            f"{value!r} is not a negated sum of the {len(FLAG_BITS)} flags (0 to -{(1 << len(FLAG_BITS)) - 1})"
        )
    return word


def float_of_flags(word: int) -> float:
    """What a 2.x panel sends for these flag bits."""
    return float(-word)


class Panel:
    """The registers of one read, from register 1, and what they mean for the panel's version."""

    def __init__(self, registers: list[int], version: str) -> None:
        self.registers = registers
        self.version = version

    def reg(self, number: int) -> int:
        return self.registers[number - FIRST]

    def value(self, quantity: Quantity) -> float:
        if self.version == "3":
            if quantity.kind == "hours":
                return word32(self.reg(HOURS3), self.reg(HOURS3 + 1)) / 10
            raw = self.reg(quantity.register3)
            return (raw - 0x10000 if raw & 0x8000 else raw) / 10  # temperatures below zero on the °F/°C scales
        return float32(self.reg(quantity.register2), self.reg(quantity.register2 + 1))

    def flags(self, warnings: bool) -> int:
        """The flag bits of the warnings (or alarms) word; FlagError if a 2.x panel's float is not a flag sum."""
        if self.version == "3":
            first = WARNINGS3 if warnings else ALARMS3
            return word32(self.reg(first), self.reg(first + 1))
        first = WARNINGS2 if warnings else ALARMS2
        return flags_of_float(float32(self.reg(first), self.reg(first + 1)))

    @property
    def state(self) -> int:
        return self.reg(1)

    @property
    def running(self) -> bool:
        return self.reg(2) > 0

    @property
    def pressure_unit(self) -> str | None:
        return PRESSURE_UNITS.get(self.reg(29) & 0xFF)

    @property
    def temperature_unit(self) -> str | None:
        return TEMPERATURE_UNITS.get(self.reg(30) & 0xFF)
