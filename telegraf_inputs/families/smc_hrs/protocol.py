"""What both ends of the SMC HRS serial line share: frames, checksums, codes, the register map.

Simple communication protocol (ASCII): a read request ``[STX] station R command
[ETX] [BCC]`` is answered ``[STX] station [ACK] command 5-digit-data [ETX] [BCC]``
or ``[STX] station [NAK] code [ETX] [BCC]``; BCC is the XOR of STX..ETX and is
sent only when it is switched on at the chiller.  MODBUS RTU: function 03 reads
holding registers; frames end in a CRC-16, low byte first.
"""

from __future__ import annotations

import functools
import re

from ... import modbus

STX, ETX, ACK, NAK = 0x02, 0x03, 0x06, 0x15

#: meaning of the simple protocol's exception codes (the manual's table 5.5-1)
NAK_CODES = {
    "0": "equipment malfunction (memory error)",
    "1": "value out of the set range",
    "2": "setting not allowed, or the item does not exist",
    "3": "abnormal code (non-numeric data where a number belongs)",
}


#: MODBUS exception codes
def bcc(frame: bytes) -> int:
    """The simple protocol's block check: XOR of every byte from STX to ETX."""
    return functools.reduce(lambda a, b: a ^ b, frame, 0)


class ReplyError(Exception):
    """The chiller answered, but not with a usable value (NAK, checksum, ...)."""


# --------------------------------------------------------------------------- the simple protocol


def simple_request(station: int, command: str, with_bcc: bool) -> bytes:
    """``[STX] 01 R PV1 [ETX] [BCC]``: a read request of the simple protocol."""
    frame = bytes([STX]) + f"{station:02d}R{command}".encode("ascii") + bytes([ETX])
    return frame + bytes([bcc(frame)]) if with_bcc else frame


def parse_simple_reply(reply: bytes, station: int, command: str, with_bcc: bool) -> int:
    """Check one complete reply and return its data (tenths); raise ReplyError."""
    frame = reply[:-1] if with_bcc else reply
    if len(frame) < 4 or frame[0] != STX or frame[-1] != ETX:
        raise ReplyError(f"malformed reply {reply!r}")
    if with_bcc and bcc(frame) != reply[-1]:
        raise ReplyError(f"checksum error in reply {reply!r} (BCC {reply[-1]:#04x}, computed {bcc(frame):#04x})")
    body = frame[1:-1]
    got_station = body[:2].decode("ascii", "replace")
    if got_station != f"{station:02d}":
        raise ReplyError(f"reply from station {got_station!r}, expected {station:02d}: {reply!r}")
    kind, rest = body[2], body[3:]
    if kind == NAK:
        code = rest.decode("ascii", "replace")
        meaning = NAK_CODES.get(code, "unknown exception code")
        raise ReplyError(f"negative reply (NAK) to {command}: exception code {code!r}, {meaning}")
    if kind != ACK:
        raise ReplyError(f"malformed reply {reply!r} (neither ACK nor NAK after the station number)")
    text = rest.decode("ascii", "replace")
    if text[:3] != command:
        raise ReplyError(f"reply is for command {text[:3]!r}, not {command}: {reply!r}")
    data = text[3:]
    if not re.fullmatch(r"-\d{4}|\d{5}", data):
        raise ReplyError(f"reply data {data!r} to {command} is not 5 digits (or '-' and 4 digits)")
    return int(data)


# --------------------------------------------------------------------------- MODBUS RTU


def modbus_read_request(station: int, start: int, count: int) -> bytes:
    """Function 03, read ``count`` holding registers from ``start``."""
    return modbus.rtu_read_request(station, start, count, function=0x03)


def parse_modbus_reply(reply: bytes, station: int, count: int) -> list[int]:
    """Check a complete function-03 reply (or exception) and return the registers."""
    try:
        return modbus.parse_rtu_reply(reply, station, count, function=0x03)
    except modbus.ModbusError as exc:
        raise ReplyError(str(exc)) from None


def signed16(word: int) -> int:
    return word - 0x10000 if word & 0x8000 else word


# --------------------------------------------------------------------------- the MODBUS register map

#: the status flag word (register 0004h), bit -> field name
STATUS_BITS = {
    0: "run",
    1: "operation_stop_alarm",
    2: "operation_continued_alarm",
    4: "pressure_unit_psi",
    5: "serial_mode",
    9: "temp_ready",
    10: "temperature_unit_f",
    11: "run_timer",
    12: "stop_timer",
    13: "restart_after_power_failure",
    14: "anti_freezing",
    15: "automatic_fluid_filling",
}
#: alarm flag words 1 and 2 (registers 0005h, 0006h): (word, bit) -> alarm name
ALARM_BITS = {
    (1, 0): "low_tank_level",
    (1, 1): "high_discharge_temp",
    (1, 2): "discharge_temp_rise",
    (1, 3): "discharge_temp_drop",
    (1, 4): "high_return_temp",
    (1, 5): "high_discharge_pressure",
    (1, 6): "abnormal_pump_operation",
    (1, 7): "discharge_pressure_rise",
    (1, 8): "discharge_pressure_drop",
    (1, 9): "high_compressor_intake_temp",
    (1, 10): "low_compressor_intake_temp",
    (1, 11): "low_superheat_temp",
    (1, 12): "high_compressor_discharge_pressure",
    (1, 14): "refrigerant_high_side_pressure_drop",
    (1, 15): "refrigerant_low_side_pressure_rise",
    (2, 0): "refrigerant_low_side_pressure_drop",
    (2, 1): "compressor_overload",
    (2, 2): "communication_error",
    (2, 3): "memory_error",
    (2, 4): "dc_line_fuse_cut",
    (2, 5): "discharge_temp_sensor_failure",
    (2, 6): "return_temp_sensor_failure",
    (2, 7): "compressor_intake_temp_sensor_failure",
    (2, 8): "discharge_pressure_sensor_failure",
    (2, 9): "compressor_discharge_pressure_sensor_failure",
    (2, 10): "compressor_intake_pressure_sensor_failure",
    (2, 11): "pump_maintenance",
    (2, 12): "fan_maintenance",
    (2, 13): "compressor_maintenance",
    (2, 14): "contact_input_1",
    (2, 15): "contact_input_2",
}
PSI_TO_MPA = 0.006894757

#: registers 0000h-0007h come in one read; the set temperature (000Bh) in another
BLOCK_START, BLOCK_COUNT, SET_TEMP_REGISTER = 0x0000, 8, 0x000B
