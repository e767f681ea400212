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

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from ... import serial_lines
from ...base import DeviceError, DeviceSpec, Driver, Picked, Reading, Session
from ...config import ChannelConfig, ConfigError, Declaration, DeviceConfig, Node
from ...keys import Custom, Flag, Integer, Number, Text
from ...lineprotocol import FieldValue
from ...logs import describe
from ...serial_lines import Port, Resync, serial_section
from ...transports import serial_port_key
from . import MODEL_REGEX
from .protocol import (
    ALARM_BITS,
    BLOCK_COUNT,
    BLOCK_START,
    ETX,
    PSI_TO_MPA,
    SET_TEMP_REGISTER,
    STATUS_BITS,
    STX,
    ReplyError,
    modbus_read_request,
    parse_modbus_reply,
    parse_simple_reply,
    signed16,
    simple_request,
)

T = TypeVar("T")
Decoded = tuple[FieldValue, dict[str, FieldValue]]  # a channel's value and its extra fields

NO_REPLY_HINT = (
    "; check the cable, and that SerialConnectionParams, InternalAddress, Protocol and BCC match the "
    "chiller's communication settings"
)

# --------------------------------------------------------------------------- what a channel can read


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
class HrsChannel(Picked):
    """A chiller channel: its Type, and the item that reads it (a simple-protocol command, a register)."""

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


class HrsSession(Resync, Session):
    """One open serial port, shared by the chillers on it (RS-485 multi-drop); drained after a failed reply."""

    def __init__(self, port: Port, key: str) -> None:
        self.port = port
        self.track(key)

    # The port's timeout (the device's Timeout) is set once, when it is opened: pyserial
    # reconfigures the port each time it changes.  Every read below ends as soon as its
    # bytes are in; the timeout only bounds a reply that does not come.

    def exchange_simple(self, device: HrsDevice, command: str) -> bytes:
        """Send one request, return the reply frame up to its ETX (and BCC)."""
        self.settle(device.timeout_s, f"port {device.address}")
        self.port.reset_input_buffer()  # what came between two exchanges answers neither
        self.port.write(simple_request(device.station, command, device.bcc))
        received = self.port.read_until(bytes([ETX]), 256)
        start = received.rfind(bytes([STX]))  # line noise before STX is skipped
        if start < 0:
            if not received:
                self.in_step = False
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
        self.settle(device.timeout_s, f"port {device.address}")
        self.port.reset_input_buffer()
        self.port.write(modbus_read_request(device.station, start, count))
        reply = self.port.read(3)  # station, function, byte count (or exception code)
        if not reply:
            self.in_step = False
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
                f"serial port {device.address} failed ({describe(exc)}); unplugged? It is reopened at the next gather"
            ) from exc

    def _timed(self, exchange: Callable[..., T], *args: object) -> tuple[T | ReplyError, int]:
        """Run one exchange; return its result (or the ReplyError: the line is then out of step) and the time
        midway through it."""
        start = time.time_ns()
        try:
            result: T | ReplyError = exchange(*args)
        except ReplyError as exc:
            self.in_step = False
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
        self.close_port()


def _reading(ch: HrsChannel, raw: T | ReplyError | None, when: int, decode: Callable[[T], Decoded]) -> Reading:
    """The reading of one channel from its exchange's result: a value, or the reply's error."""
    if isinstance(raw, ReplyError):
        return Reading(ch.config, None, when, problem=str(raw), failed=True)
    assert raw is not None
    value, extra = decode(raw)
    return Reading(ch.config, value, when, extra=extra)


# --------------------------------------------------------------------------- the driver

MODEL_PATTERN = re.compile(MODEL_REGEX, re.IGNORECASE)


def open_serial(device: HrsDevice) -> Port:
    """Open the chiller's port path or pyserial URL (socket://, rfc2217://) with its line settings."""
    return serial_lines.open_serial(device.address, device.line, device.timeout_s)


def _station(node: Node, key: str) -> int:
    station: int = node.integer(key, minimum=1, maximum=247)
    return station


DECLARATION = Declaration(
    measurement="smc_hrs",
    device=(
        Text("Address", "serial port (/dev/ttyUSB0, COM3, /dev/serial/by-id/...) or pyserial URL "
             "(socket://host:port, rfc2217://host:port)", required=True, non_empty=True),
        Number("Timeout", "seconds to wait for each reply", 1.0, exclusive_minimum=0, maximum=3600),
        serial_section("the serial line, as set on the chiller"),
    ),
    device_params=(
        Custom("InternalAddress", "the chiller's station number: 1-99 (simple protocol), 1-247 (MODBUS)", 1,
               reader=_station, json_schema=Integer("", minimum=1, maximum=247).fragment()),
        Text("Protocol", "the serial protocol set on the chiller", "simple", choices=PROTOCOLS),
        Flag("BCC", "simple protocol: BCC on (as set on the chiller)", False),
    ),
    channel=(Text("Type", "what to read: " + ", ".join(ITEMS), required=True),),
)  # fmt: skip


class SmcHrsDriver(Driver):
    """SMC HRS-series thermo-chillers (HRS012 ... HRS150, HRSH)."""

    declaration = DECLARATION

    connect = staticmethod(open_serial)

    def device_of(self, config: DeviceConfig, node: Node) -> HrsDevice:
        match = MODEL_PATTERN.fullmatch(config.model)
        if match is None:
            raise node.error(f"{config.model!r} is not an SMC HRS model (e.g. SMC HRS012-AN-10-T)", "Model")
        model = match.group(1).upper()
        values, params, line = config.values, config.params, config.values["SerialConnectionParams"]
        protocol, station = params["Protocol"], params["InternalAddress"]
        if protocol == "simple" and station > 99:
            raise params.node.error(f"{station} is outside the allowed range 1..99 of the simple protocol",
                                    "InternalAddress")  # fmt: skip
        timeout_s = float(values["Timeout"])
        channels = tuple(self._parse_channel(ch, protocol, model) for ch in config.channels)
        exchanges = len(channels) if protocol == "simple" else 2
        deadline = values["Deadline"]
        address = values["Address"].strip()
        return HrsDevice(
            config=config,
            connection=serial_port_key(address),  # /dev/serial/by-id/... and /dev/ttyUSB0 may be one port
            deadline_s=float(deadline) if deadline is not None else timeout_s * exchanges + 1,
            address=address,
            baudrate=line["baudrate"],
            bytesize=line["bytesize"],
            parity=line["parity"],
            stopbits=line["stopbits"],
            station=station,
            protocol=protocol,
            model=model,
            bcc=params["BCC"],
            timeout_s=timeout_s,
            channels=channels,
        )

    @staticmethod
    def _parse_channel(ch: ChannelConfig, protocol: str, model: str) -> HrsChannel:
        assert ch.type is not None
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

    def check_all(self, devices: Sequence[DeviceSpec]) -> list[ConfigError]:
        """Chillers on one port (RS-485) need one line setting, one protocol and distinct stations."""
        first: dict[str, HrsDevice] = {}
        stations: dict[tuple[str, int], HrsDevice] = {}
        problems = []
        for device in devices:
            assert isinstance(device, HrsDevice)
            node = device.config.node
            other = first.setdefault(device.connection, device)
            setting = (device.line, device.protocol, device.bcc, device.timeout_s)
            if other is not device and setting != (other.line, other.protocol, other.bcc, other.timeout_s):
                problems.append(
                    node.error(
                        f"shares the port of device {other.label} ({other.address!r}) but not its "
                        "SerialConnectionParams, Protocol, BCC and Timeout; one port has one setting",
                        "Address",
                    )
                )
            same_station = stations.setdefault((device.connection, device.station), device)
            if same_station is not device:
                problems.append(
                    node.error(
                        f"station {device.station} on the port of device {same_station.label} "
                        f"({same_station.address!r}) is that device's already: two entries would read one chiller",
                        "DeviceSpecificParams",
                    )
                )
        return problems

    def alarms(self, device: DeviceSpec) -> list[ChannelConfig]:
        assert isinstance(device, HrsDevice)
        return [ch.config for ch in device.channels if ch.type == "ALARMS"]

    def fields(self, device: DeviceSpec) -> list[tuple[ChannelConfig, tuple[str, ...]]]:
        assert isinstance(device, HrsDevice)
        extras = {"STATUS": tuple(STATUS_BITS.values()), "ALARMS": (*ALARM_BITS.values(), "flag3", "active")}
        return [
            (ch.config, (ch.config.field_key, *(f"{ch.config.field_key}_{x}" for x in extras.get(ch.type, ()))))
            for ch in device.channels
        ]

    def open(self, devices: Sequence[DeviceSpec]) -> Session:
        device = devices[0]
        assert isinstance(device, HrsDevice)
        try:
            return HrsSession(self.opener(device), device.connection)
        except (OSError, ValueError) as exc:
            raise DeviceError(f"cannot open serial port {device.address}: {describe(exc)}") from exc


DRIVER = SmcHrsDriver()
