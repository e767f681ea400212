"""What both ends of a PM100 conversation share: the SCPI queries a channel Type asks, and their replies.

The meter speaks SCPI over USBTMC (VISA ``USB0::0x1313::0x8078::<serial>::INSTR``),
newline-terminated.  ``SENS:POW:UNIT W`` is set at connect, so power reads in
watts.  A measurement the meter cannot make reads 9.91E+37.
"""

from __future__ import annotations

import re

from ...vocabulary import Kind, Vocabulary

#: the channel Types: the SCPI query of each, and what its reply holds
VOCABULARY = Vocabulary(
    Kind("Power", "MEAS:POW?", "the power, in W"),
    Kind("PowerUnit", "SENS:POW:UNIT?", "the unit the meter shows", field="string"),
    Kind("PowerAutoRange", "SENS:POW:RANG:AUTO?", "auto ranging on or off", field="boolean"),
    Kind("Wavelength", "SENS:CORR:WAV?", "the correction wavelength, nm"),
    Kind("BeamDiameter", "SENS:CORR:BEAM?", "the beam diameter, mm"),
    Kind("NumAverages", "SENS:AVER:COUN?", "how many readings each is the mean of", field="integer"),
    Kind("ZeroMagnitude", "SENS:CORR:COLL:ZERO:MAGN?", "the dark offset subtracted, W"),
    Kind("Sensor", "SYST:SENSOR:IDN?", "the head's name, with _serial and _calibration fields", field="sensor"),
)
SET_WATTS = "SENS:POW:UNIT W"
NO_DATA = 9.9e37  # 9.91E+37 and more: no measurement
NO_MEASUREMENT = "9.91000000E+37"  # what the meter answers then
NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
UNITS = ("W", "DBM")


class ReplyError(Exception):
    """A reply that is not what its query asks for."""


def sensor_identity(reply: str, query: str) -> tuple[str, str, str]:
    """(name, serial number, calibration message) of the sensor head, from either form a meter writes:
    ``S130C,210921324,21-SEP-2021,1,3,33`` (PM100D) or ``"S130C","210921324","21-SEP-2021",1,3,2147484069``
    (PM100D2/D3, quoted), as pymeasure's tests record them."""
    items = [item.strip().strip('"').strip() for item in reply.strip().split(",")]
    if len(items) < 6 or not items[0] or not all(NUMBER.fullmatch(item) for item in items[3:6]):
        raise ReplyError(f"{query!r} answered {reply.strip()[:80]!r}, not name,serial,calibration,type,subtype,flags")
    return items[0], items[1], items[2]


def parse(reply: str, query: str, field_type: str) -> float | int | bool | str:
    text = reply.strip()
    if field_type == "sensor":
        return sensor_identity(reply, query)[0]
    if field_type == "string":
        if text.upper() not in UNITS:
            raise ReplyError(f"{query!r} answered {text[:80]!r}, not W or DBM")
        return text.upper()
    if field_type == "boolean":
        if text not in ("0", "1"):
            raise ReplyError(f"{query!r} answered {text[:80]!r}, not 0 or 1")
        return text == "1"
    if not NUMBER.fullmatch(text):
        raise ReplyError(f"{query!r} answered {text[:80]!r}, not a number")
    if field_type == "integer":
        value = float(text)
        if not value.is_integer():
            raise ReplyError(f"{query!r} answered {text[:80]!r}, not a whole number")
        return int(value)
    return float(text)
