"""SMC HRS-series thermo-chillers over their serial port (RS-232C or RS-485).

The chillers speak two serial protocols, chosen on the front panel:

* the *simple communication protocol* (ASCII): ``[STX] station R command
  [ETX] [BCC]`` answered by ``[STX] station [ACK] command 5-digit-data [ETX]
  [BCC]`` or ``[STX] station [NAK] code [ETX] [BCC]``.  Its command table has
  two readable items, PV1 and SV1; this is what the older logger used.
* *MODBUS RTU*: function 03 reads holding registers.  The register map has
  what the simple protocol lacks: discharge pressure, resistivity (or flow and
  conductivity on HRS100/150), the status flag word and the alarm flag words.

``ITEMS`` is the table of what a channel ``Type`` reads in each protocol.
Replies are read up to their end (ETX and BCC, or a MODBUS frame's announced
length), never by waiting for a timeout; each one is checked completely.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol, TypeVar

from ..config import ChannelConfig, DeviceConfig, Node, parse_device
from ..lineprotocol import FieldValue
from .base import DeviceError, DeviceSpec, Driver, Reading, Session, simulate_per_connection

STX, ETX, ACK, NAK = 0x02, 0x03, 0x06, 0x15
T = TypeVar("T")
Decoded = tuple[FieldValue, dict[str, FieldValue]]  # a channel's value and its extra fields

#: meaning of the simple protocol's exception codes (the manual's table 5.5-1)
NAK_CODES = {
    "0": "equipment malfunction (memory error)",
    "1": "value out of the set range",
    "2": "setting not allowed, or the item does not exist",
    "3": "abnormal code (non-numeric data where a number belongs)",
}
#: MODBUS exception codes
MODBUS_EXCEPTIONS = {
    1: "illegal function",
    2: "illegal data address",
    3: "illegal data value",
    4: "slave device failure",
    6: "slave device busy",
}


def bcc(frame: bytes) -> int:
    """The simple protocol's block check: XOR of every byte from STX to ETX."""
    return functools.reduce(lambda a, b: a ^ b, frame, 0)


def crc16(data: bytes) -> int:
    """MODBUS RTU CRC-16 (polynomial 0xA001 reflected, initial 0xFFFF)."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def with_crc(frame: bytes) -> bytes:
    """Append the CRC, low byte first, as MODBUS RTU sends it."""
    return frame + crc16(frame).to_bytes(2, "little")


NO_REPLY_HINT = (
    "; check the cable, and that SerialConnectionParams, InternalAddress, Protocol and BCC match the "
    "chiller's communication settings"
)


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
    return with_crc(bytes([station, 0x03]) + start.to_bytes(2, "big") + count.to_bytes(2, "big"))


def parse_modbus_reply(reply: bytes, station: int, count: int) -> list[int]:
    """Check a complete function-03 reply (or exception) and return the registers."""
    if len(reply) < 5:
        raise ReplyError(f"malformed reply {reply.hex(' ')}")
    if crc16(reply[:-2]) != int.from_bytes(reply[-2:], "little"):
        raise ReplyError(f"CRC error in reply {reply.hex(' ')}")
    if reply[0] != station:
        raise ReplyError(f"reply from station {reply[0]}, expected {station}: {reply.hex(' ')}")
    if reply[1] == 0x83:
        meaning = MODBUS_EXCEPTIONS.get(reply[2], "unknown exception code")
        raise ReplyError(f"MODBUS exception {reply[2]}: {meaning}")
    if reply[1] != 0x03 or reply[2] != 2 * count or len(reply) != 5 + 2 * count:
        raise ReplyError(f"malformed reply {reply.hex(' ')} to a read of {count} register(s)")
    data = reply[3:-2]
    return [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]


def signed16(word: int) -> int:
    return word - 0x10000 if word & 0x8000 else word


# --------------------------------------------------------------------------- what a channel can read

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


def _decode_pressure(regs: Sequence[int]) -> Decoded:
    if regs[4] & (1 << 4):  # the chiller shows PSI (1 PSI per digit): report MPa all the same
        return round(regs[2] * PSI_TO_MPA, 4), {}
    return regs[2] / 100, {}


def _decode_status(regs: Sequence[int]) -> Decoded:
    word = regs[4]
    return word, {name: bool(word & (1 << bit)) for bit, name in STATUS_BITS.items()}


def _decode_alarms(regs: Sequence[int]) -> Decoded:
    words = {1: regs[5], 2: regs[6], 3: regs[7]}
    flags = {name: bool(words[w] & (1 << b)) for (w, b), name in ALARM_BITS.items()}
    active = [name for name, on in flags.items() if on]
    active += [f"flag3_bit{b}" for b in range(16) if words[3] & (1 << b)]
    # unnamed bits of words 1 and 2 (marked unused in the manual) still count
    active += [f"flag{w}_bit{b}" for w in (1, 2) for b in range(16) if words[w] & (1 << b) and (w, b) not in ALARM_BITS]
    return len(active), {**flags, "flag3": words[3], "active": ",".join(active)}


@dataclass(frozen=True)
class Item:
    """One readable item: its simple-protocol command and/or how MODBUS has it."""

    description: str
    unit: str
    command: str | None = None  # simple protocol
    decode: Callable[[Sequence[int]], Decoded] | None = None  # registers 0-7
    models: str | None = None  # regex of models that have it (None: all)


ITEMS: dict[str, Item] = {
    "PV1": Item(
        "circulating fluid discharge temperature",
        "°C or °F, as set on the chiller",
        command="PV1",
        decode=lambda r: (signed16(r[0]) / 10, {}),
    ),
    "SV1": Item("circulating fluid set temperature", "°C or °F, as set on the chiller", command="SV1"),
    "PRESSURE": Item("circulating fluid discharge pressure", "MPa", decode=_decode_pressure),
    "RESISTIVITY": Item(
        "electric resistivity of the circulating fluid (0 without the sensor option)",
        "MΩ·cm",
        decode=lambda r: (r[3] / 10, {}),
        models=r"HRS0\d\d",
    ),
    "FLOW": Item("circulating fluid flow rate", "L/min", decode=lambda r: (r[1] / 10, {}), models=r"HRS1[05]0"),
    "CONDUCTIVITY": Item(
        "electric conductivity of the circulating fluid", "µS/cm", decode=lambda r: (r[3] / 10, {}), models=r"HRS1[05]0"
    ),
    "STATUS": Item("status flag word, and one boolean field per flag", "", decode=_decode_status),
    "ALARMS": Item("number of active alarms, one boolean per alarm, and their names", "", decode=_decode_alarms),
}
PROTOCOLS = ("simple", "modbus")


@dataclass(frozen=True)
class HrsChannel:
    config: ChannelConfig
    type: str
    item: Item


@dataclass(frozen=True)
class HrsDevice(DeviceSpec):
    """An SMC HRS chiller entry."""

    address: str = ""
    baudrate: int = 9600
    bytesize: int = 8
    parity: str = "N"
    stopbits: float = 1
    station: int = 1
    protocol: str = "simple"
    model: str = "HRS012"  # from Model, without "SMC"
    bcc: bool = False
    timeout_s: float = 1.0
    channels: tuple[HrsChannel, ...] = ()

    @property
    def line(self) -> tuple[int, int, str, float]:
        return (self.baudrate, self.bytesize, self.parity, self.stopbits)


# --------------------------------------------------------------------------- the session


class Port(Protocol):
    """What is used of a pyserial port."""

    def write(self, data: bytes) -> int | None: ...
    def read(self, size: int = 1) -> bytes: ...
    def read_until(self, expected: bytes = ..., size: int | None = None) -> bytes: ...
    def reset_input_buffer(self) -> None: ...
    def close(self) -> None: ...


class HrsSession(Session):
    """One open serial port, shared by the chillers on it (RS-485 multi-drop)."""

    def __init__(self, port: Port) -> None:
        self.port = port

    # The port's timeout (the device's Timeout) is set once, when it is opened: pyserial
    # reconfigures the port each time it changes.  Every read below ends as soon as its
    # bytes are in; the timeout only bounds a reply that does not come.

    def exchange_simple(self, device: HrsDevice, command: str) -> bytes:
        """Send one request, return the reply frame up to its ETX (and BCC)."""
        self.port.reset_input_buffer()  # a late reply to an earlier request must not be taken for this one
        self.port.write(simple_request(device.station, command, device.bcc))
        received = self.port.read_until(bytes([ETX]), 256)
        start = received.rfind(bytes([STX]))  # line noise before STX is skipped
        if start < 0:
            if not received:
                raise DeviceError(f"no reply to {command} within Timeout {device.timeout_s:g} s{NO_REPLY_HINT}")
            raise ReplyError(f"reply to {command} without STX: {received!r}")
        reply = received[start:]
        if not reply.endswith(bytes([ETX])):
            raise ReplyError(f"reply to {command} cut short: {reply!r} has no ETX")
        if device.bcc:
            check = self.port.read(1)
            if not check:
                raise ReplyError(f"reply to {command} cut short: {reply!r} has no BCC after ETX")
            reply += check
        return reply

    def read_simple(self, device: HrsDevice, command: str) -> int:
        """One simple-protocol read: the checked reply's data, in tenths."""
        return parse_simple_reply(self.exchange_simple(device, command), device.station, command, device.bcc)

    def exchange_modbus(self, device: HrsDevice, start: int, count: int) -> list[int]:
        self.port.reset_input_buffer()
        self.port.write(modbus_read_request(device.station, start, count))
        reply = self.port.read(3)  # station, function, byte count (or exception code)
        if not reply:
            raise DeviceError(
                f"no reply to a read of register {start:04X}h within Timeout {device.timeout_s:g} s{NO_REPLY_HINT}"
            )
        if len(reply) == 3:
            need = 2 if reply[1] & 0x80 else reply[2] + 2
            reply += self.port.read(need) if need <= 2 * count + 2 else b""
        return parse_modbus_reply(reply, device.station, count)

    def read(self, device: DeviceSpec) -> list[Reading]:
        assert isinstance(device, HrsDevice)
        try:
            return self._read_device(device)
        except (OSError, ValueError) as exc:  # pyserial's SerialException is an OSError
            raise DeviceError(
                f"serial port {device.address} failed ({exc}); unplugged? It is reopened at the next gather"
            ) from exc

    @staticmethod
    def _timed(exchange: Callable[..., T], *args: object) -> tuple[T | ReplyError, int]:
        """Run one exchange; return its result (or the ReplyError) and the time midway through it."""
        start = time.time_ns()
        try:
            result: T | ReplyError = exchange(*args)
        except ReplyError as exc:
            result = exc
        return result, (start + time.time_ns()) // 2

    def _read_device(self, device: HrsDevice) -> list[Reading]:
        if device.protocol == "modbus":
            return self._read_modbus(device)
        readings = []
        for ch in device.channels:
            assert ch.item.command is not None
            tenths, when = self._timed(self.read_simple, device, ch.item.command)
            readings.append(_reading(ch, tenths, when, lambda t: (t / 10, {})))
        return readings

    def _read_modbus(self, device: HrsDevice) -> list[Reading]:
        block: list[int] | ReplyError | None = None
        set_temp: list[int] | ReplyError | None = None
        block_time = set_time = 0
        if any(ch.item.decode is not None for ch in device.channels):
            block, block_time = self._timed(self.exchange_modbus, device, BLOCK_START, BLOCK_COUNT)
        if any(ch.type == "SV1" for ch in device.channels):
            set_temp, set_time = self._timed(self.exchange_modbus, device, SET_TEMP_REGISTER, 1)
        readings = []
        for ch in device.channels:
            if ch.type == "SV1":
                readings.append(_reading(ch, set_temp, set_time, lambda r: (signed16(r[0]) / 10, {})))
            else:
                assert ch.item.decode is not None
                readings.append(_reading(ch, block, block_time, ch.item.decode))
        return readings

    def close(self) -> None:
        try:
            self.port.close()
        except Exception:  # closing a port whose adapter vanished may fail; nothing to do
            pass


def _reading(ch: HrsChannel, raw: T | ReplyError | None, when: int, decode: Callable[[T], Decoded]) -> Reading:
    """The reading of one channel from its exchange's result: a value, or the reply's error."""
    if isinstance(raw, ReplyError):
        return Reading(ch.config, None, when, problem=str(raw), failed=True)
    assert raw is not None
    value, extra = decode(raw)
    return Reading(ch.config, value, when, extra=extra)


# --------------------------------------------------------------------------- the driver

MODEL_PATTERN = re.compile(r"\s*SMC[\s_-]*(HRSH?\d{3}[A-Z0-9-]*)\s*", re.IGNORECASE)
PARITIES = ("N", "E", "O", "M", "S")  # none, even, odd, mark, space


def open_serial(device: HrsDevice) -> Port:
    """Open a port path or a pyserial URL (socket://, rfc2217://) with the device's line settings."""
    import serial

    port: Port = serial.serial_for_url(
        device.address,
        baudrate=device.baudrate,
        bytesize=device.bytesize,
        parity=device.parity,
        stopbits=device.stopbits,
        timeout=device.timeout_s,
    )
    return port


class SmcHrsDriver(Driver):
    """SMC HRS-series thermo-chillers (HRS012 ... HRS150, HRSH)."""

    name = "smc_hrs"
    models = ('SMC HRS-series chillers (Model "SMC HRS012-AN-10-T", "SMC-HRS030-AF-20", ...)',)

    def __init__(self, opener: Callable[[HrsDevice], Port] = open_serial) -> None:
        self.opener = opener

    def handles(self, model: str) -> bool:
        return MODEL_PATTERN.fullmatch(model) is not None

    def parse(self, node: Node) -> HrsDevice:
        config: DeviceConfig = parse_device(
            node, default_measurement="smc_hrs", extra_device_keys={"SerialConnectionParams"}
        )
        match = MODEL_PATTERN.fullmatch(config.model)
        assert match is not None
        model = match.group(1).upper()
        params = config.params
        params.check_keys({"InternalAddress", "Protocol", "BCC"})
        protocol = params.text("Protocol", "simple", choices=PROTOCOLS)
        station = params.integer("InternalAddress", 1, minimum=1, maximum=99 if protocol == "simple" else 247)
        line = node.object("SerialConnectionParams", {})
        line.check_keys({"baudrate", "bytesize", "stopbits", "parity"})
        parity = line.text("parity", "N", choices=PARITIES)
        stopbits = line.number("stopbits", 1)
        if stopbits not in (1, 1.5, 2):
            raise line.error(f"stopbits must be 1, 1.5 or 2, found {stopbits!r}", "stopbits")
        bytesize = line.integer("bytesize", 8, minimum=5, maximum=8)
        baudrate = line.integer("baudrate", 9600, minimum=50, maximum=4_000_000)
        timeout_s = float(node.number("Timeout", 1.0, exclusive_minimum=0, maximum=3600))
        channels = tuple(self._parse_channel(ch, protocol, model) for ch in config.channels)
        exchanges = len(channels) if protocol == "simple" else 2
        deadline = node.number("Deadline", None, exclusive_minimum=0)
        return HrsDevice(
            config=config,
            connection=node.text("Address").strip(),
            deadline_s=float(deadline) if deadline is not None else timeout_s * exchanges + 1,
            address=node.text("Address").strip(),
            baudrate=baudrate,
            bytesize=bytesize,
            parity=parity,
            stopbits=stopbits,
            station=station,
            protocol=protocol,
            model=model,
            bcc=params.boolean("BCC", False),
            timeout_s=timeout_s,
            channels=channels,
        )

    @staticmethod
    def _parse_channel(ch: ChannelConfig, protocol: str, model: str) -> HrsChannel:
        ch.params.check_keys(())
        if ch.type is None:
            raise ch.node.error(f"missing key 'Type': what to read, one of {', '.join(ITEMS)}")
        kind = ch.type.strip().upper()
        item = ITEMS.get(kind)
        if item is None:
            raise ch.node.error(f"unknown Type {ch.type!r}; the HRS chillers have {', '.join(ITEMS)}", "Type")
        if protocol == "simple" and item.command is None:
            raise ch.node.error(
                f"{kind} is read over MODBUS only: the simple communication protocol has PV1 and SV1. Set the "
                'chiller\'s serial protocol to MODBUS and DeviceSpecificParams.Protocol to "modbus"',
                "Type",
            )
        if item.models is not None and not re.match(item.models, model):
            raise ch.node.error(f"{kind} ({item.description}) is not in the register map of {model}", "Type")
        return HrsChannel(ch, kind, item)

    def check_all(self, devices: Sequence[DeviceSpec]) -> None:
        """Chillers on one port (RS-485) need one line setting, one protocol and distinct stations."""
        first: dict[str, HrsDevice] = {}
        for device in devices:
            assert isinstance(device, HrsDevice)
            other = first.setdefault(device.connection, device)
            if other is device:
                continue
            node = device.config.node
            setting = (device.line, device.protocol, device.bcc, device.timeout_s)
            if setting != (other.line, other.protocol, other.bcc, other.timeout_s):
                raise node.error(
                    f"shares Address {device.address!r} with device {other.name!r} but not its "
                    "SerialConnectionParams, Protocol, BCC and Timeout; one port has one setting",
                    "Address",
                )
            if device.station == other.station:
                raise node.error(
                    f"shares Address {device.address!r} and station {device.station} with device {other.name!r}",
                    "DeviceSpecificParams",
                )

    def open(self, devices: Sequence[DeviceSpec]) -> Session:
        device = devices[0]
        assert isinstance(device, HrsDevice)
        try:
            return HrsSession(self.opener(device))
        except (OSError, ValueError) as exc:
            raise DeviceError(f"cannot open serial port {device.address}: {exc}") from exc

    def simulate(self, devices: Sequence[DeviceSpec]) -> tuple[list[DeviceSpec], Callable[[], None]]:
        from ..sim.smc_hrs import HrsSimulator

        def start(group: list[HrsDevice]) -> HrsSimulator:
            first = group[0]  # check_all made sure that chillers sharing a port share its settings
            return HrsSimulator(
                stations=[d.station for d in group],
                protocol=first.protocol,
                bcc=first.bcc,
                baudrate=first.baudrate,
                bytesize=first.bytesize,
                parity=first.parity,
                stopbits=first.stopbits,
                model=first.model,
            ).start()

        def point(device: HrsDevice, sim: HrsSimulator) -> DeviceSpec:
            return replace(device, address=sim.path, connection=f"sim|{sim.path}")

        return simulate_per_connection([d for d in devices if isinstance(d, HrsDevice)], start, point)
