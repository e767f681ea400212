"""Serial lines as the devices file describes them, and opening them with pyserial.

``serial_section`` declares the older logger's ``SerialConnectionParams``
object (``baudrate``, ``bytesize``, ``parity``, ``stopbits``) with a family's
defaults; ``line_of`` turns its checked values into one tuple that devices
sharing a port compare; ``open_serial`` opens a port path or a pyserial URL
(``socket://``, ``rfc2217://``) with it.  ``read_to`` reads a reply to its real
end, never past a size limit or the port's timeout.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, ClassVar, Protocol, TypeVar

from .base import Asked, DeviceError, DeviceSpec, Driver, Reading, Session, Wire, requests_of, sharing
from .config import ChannelConfig, DeviceConfig
from .keys import Custom, Integer, Key, Keys, Number, Section, Text, Values
from .lineprotocol import FieldValue
from .logs import describe
from .nodes import ConfigError, Node
from .transports import DRAIN_TIMEOUTS, serial_port_key
from .vocabulary import Vocabulary

T = TypeVar("T")
E = TypeVar("E", bound=Exception)
log = logging.getLogger("telegraf_inputs")

if sys.platform != "win32":
    from termios import error as _termios_error  # pyserial's flush of a vanished port on POSIX

    _PLATFORM_ERRORS: tuple[type[BaseException], ...] = (_termios_error,)
else:
    _PLATFORM_ERRORS = ()
#: what a failing port raises: pyserial's SerialException is an OSError; a vanished pty, termios.error
PORT_ERRORS: tuple[type[BaseException], ...] = (OSError, ValueError, *_PLATFORM_ERRORS)

#: baud rate, data bits, parity (N, E, O, M, S), stop bits
Line = tuple[int, int, str, float]
PARITIES = ("N", "E", "O", "M", "S")  # none, even, odd, mark, space


class Port(Protocol):
    """What is used of a pyserial port."""

    def write(self, data: bytes) -> int | None: ...
    def read(self, size: int = 1) -> bytes: ...
    def read_until(self, expected: bytes = ..., size: int | None = None) -> bytes: ...
    def reset_input_buffer(self) -> None: ...
    def close(self) -> None: ...


def _stopbits(node: Node, key: str) -> float:
    stopbits: float = node.number(key)
    if stopbits not in (1, 1.5, 2):
        raise node.error(f"stopbits must be 1, 1.5 or 2, found {stopbits!r}", key)
    return stopbits


def serial_section(
    doc: str = "the serial line, as set on the instrument",
    *,
    baudrate: int = 9600,
    bytesize: int = 8,
    parity: str = "N",
    stopbits: float = 1,
    baudrates: tuple[int, ...] | None = None,
) -> Section:
    """The ``SerialConnectionParams`` key with these defaults; ``baudrates``: the only rates the instrument has."""
    baud: Key
    if baudrates is None:
        baud = Integer("baudrate", "bits per second", baudrate, minimum=50, maximum=4_000_000)
    else:
        baud = Custom(
            "baudrate",
            "bits per second: " + ", ".join(map(str, baudrates)),
            baudrate,
            reader=lambda node, key: _one_of(node, key, baudrates),
            json_schema={"enum": list(baudrates)},
        )
    return Section(
        "SerialConnectionParams",
        doc,
        keys=Keys(
            baud,
            Integer("bytesize", "data bits", bytesize, minimum=5, maximum=8),
            Custom("stopbits", "1, 1.5 or 2", stopbits, reader=_stopbits, json_schema={"enum": [1, 1.5, 2]}),
            Text("parity", "N (none), E (even), O (odd), M (mark), S (space)", parity, choices=PARITIES),
        ),
    )


def _one_of(node: Node, key: str, allowed: tuple[int, ...]) -> int:
    value: int = node.integer(key)
    if value not in allowed:
        raise node.error(f"{value} is not a baud rate of this instrument; use one of {', '.join(map(str, allowed))}",
                         key)  # fmt: skip
    return value


def line_of(values: Values) -> Line:
    """The line of a checked ``SerialConnectionParams``."""
    return (values["baudrate"], values["bytesize"], values["parity"], values["stopbits"])


def describe_line(line: Line) -> str:
    """9600 8N1."""
    baud, size, parity, stop = line
    return f"{baud} {size}{parity}{stop:g}"


def open_serial(address: str, line: Line, timeout_s: float, **options: Any) -> Port:
    """Open a port path or a pyserial URL (socket://, rfc2217://) with ``line``; reads end after ``timeout_s``."""
    import serial

    baud, size, parity, stop = line
    port: Port = serial.serial_for_url(
        address, baudrate=baud, bytesize=size, parity=parity, stopbits=stop, timeout=timeout_s, **options
    )
    return port


# -- the driver's side: devices on serial ports, and sessions that read replies to their end ----------


@dataclass(frozen=True)
class SerialDevice(DeviceSpec):
    """A device on a serial port: where, the line, and how long to wait for a reply."""

    address: str = ""
    line: Line = (9600, 8, "N", 1)
    timeout_s: float = 1.0


def serial_keys(
    *, baudrate: int = 9600, timeout_s: float = 1.0, baudrates: tuple[int, ...] | None = None, doc: str = ""
) -> tuple[Key, ...]:
    """``Address``, ``Timeout`` and ``SerialConnectionParams`` with an instrument's defaults."""
    return (
        Text("Address", "serial port (/dev/ttyUSB0, COM3, /dev/serial/by-id/...) or pyserial URL "
             "(socket://host:port, rfc2217://host:port)", required=True, non_empty=True),
        Number("Timeout", "seconds to wait for a reply (a reply is read to its end, never to this)", timeout_s,
               exclusive_minimum=0, maximum=3600),
        serial_section(doc or "the serial line, as set on the instrument", baudrate=baudrate, baudrates=baudrates),
    )  # fmt: skip


def serial_fields(values: Values, deadline_exchanges: int) -> dict[str, Any]:
    """The SerialDevice fields of a checked entry, its connection and a deadline for that many exchanges."""
    address = values["Address"].strip()
    timeout_s = float(values["Timeout"])
    deadline = values["Deadline"]
    return {
        "address": address,
        "line": line_of(values["SerialConnectionParams"]),
        "timeout_s": timeout_s,
        # /dev/serial/by-id/... and /dev/ttyUSB0 may be one port: one connection
        "connection": serial_port_key(address),
        # one Timeout more: the drain of the line after a failed reply (SerialSession.drain)
        "deadline_s": float(deadline) if deadline is not None else timeout_s * (deadline_exchanges + 1) + 1,
    }


class NoReply(DeviceError):
    """Nothing came within the timeout: the instrument is off, unplugged, or set to another line."""


class BadReply(Exception):
    """A reply that came but is not a valid one (cut short, garbled, an error reply); the message says how."""


class Resync:
    """Keeps a serial line in step: a serial line cannot tell a late reply from the next one.

    After a request that got no reply, a cut-short one or one that failed its
    check (``refused``), the line is out of step: before anything else is asked
    on it, ``settle`` drains it until it has been silent for the device's
    ``Timeout``.  A port closed out of step is drained when it is opened again.
    """

    #: ports closed out of step (by their connection key): the next session on them drains first
    unsettled: ClassVar[set[str]] = set()
    port: Port
    key = ""
    in_step = True
    drained = 0  # bytes dropped by drains, over the session

    def track(self, key: str) -> None:
        """Follow the line of connection ``key``: out of step if it was closed so."""
        self.key = key
        self.in_step = key not in Resync.unsettled

    def refused(self, why: str) -> BadReply:
        """A reply that came but failed its check: the line is out of step (what follows may be its rest)."""
        self.in_step = False
        return BadReply(why)

    def settle(self, timeout_s: float, where: str) -> None:
        """If out of step: drop what the line still sends until it has been silent for ``timeout_s``.

        The port's reads end after its timeout (``timeout_s``): a read that returns nothing is that silence.
        DeviceError if the line is still sending after DRAIN_TIMEOUTS of them.
        """
        if self.in_step:
            return
        give_up = time.monotonic() + DRAIN_TIMEOUTS * timeout_s
        dropped = 0
        while data := self.port.read(4096):
            dropped += len(data)
            self.drained += len(data)
            if time.monotonic() > give_up:
                raise DeviceError(
                    f"the line did not fall silent within {DRAIN_TIMEOUTS} x Timeout after a failed reply "
                    f"({dropped} bytes dropped); drained again before the next request"
                )
        self.in_step = True
        if dropped:
            log.debug("%s: dropped %d bytes that came after a failed reply", where, dropped)

    def close_port(self) -> None:
        if self.in_step:
            Resync.unsettled.discard(self.key)
        else:
            Resync.unsettled.add(self.key)
        try:
            self.port.close()
        except Exception:  # closing a port whose adapter vanished may fail; nothing to do
            pass


class SerialSession(Resync, Session):
    """One open serial port, shared by the devices on it (RS-485 multi-drop, a SIM900 mainframe).

    ``read`` turns port failures into a DeviceError naming the port; families
    implement ``read_device``.  ``query`` sends a request and reads its reply to
    its real end, never past ``limit`` bytes; commands on one port are kept at
    least ``gap_s`` apart (instruments on a shared bus need a pause).  After a
    failed reply the line is drained before the next request (``Resync``).
    """

    gap_s = 0.0
    hint = "; check the cable and that SerialConnectionParams match the instrument's settings"

    def __init__(self, port: Port, devices: Sequence[SerialDevice]) -> None:
        self.port = port
        self.devices = list(devices)
        self.last_sent = 0.0
        self.track(self.devices[0].connection if self.devices else "")

    def query(self, device: SerialDevice, request: bytes, end: bytes, limit: int = 256) -> bytes:
        """The reply to ``request`` up to and including ``end``; NoReply if none, BadReply if cut short."""
        self.settle(device.timeout_s, f"port {device.address}")
        wait = self.last_sent + self.gap_s - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self.port.reset_input_buffer()  # what came between two exchanges answers neither
        self.port.write(request)
        self.last_sent = time.monotonic()
        reply = self.port.read_until(end, limit)
        self.last_sent = time.monotonic()
        if not reply:
            self.in_step = False
            raise NoReply(f"no reply to {request!r} within Timeout {device.timeout_s:g} s{self.hint}")
        if not reply.endswith(end):
            if len(reply) >= limit:
                raise self.refused(f"a reply to {request!r} longer than {limit} bytes without its end: "
                                   f"{reply[:80]!r}...")  # fmt: skip
            raise self.refused(f"reply to {request!r} cut short (no {end!r} within Timeout): {reply!r}")
        return reply

    def read(self, device: DeviceSpec) -> list[Reading]:
        assert isinstance(device, SerialDevice)
        try:
            return self.read_device(device)
        except PORT_ERRORS as exc:
            raise DeviceError(
                f"serial port {device.address} failed ({describe(exc)}); unplugged? It is reopened at the next gather"
            ) from exc

    def read_device(self, device: SerialDevice) -> list[Reading]:
        raise NotImplementedError

    def close(self) -> None:
        self.close_port()


def attempt(call: Callable[[], T], refused: type[E]) -> tuple[T | E, int]:
    """Run one exchange; its result (or the ``refused`` exception it raised) and the time midway through it (ns)."""
    start = time.time_ns()
    try:
        result: T | E = call()
    except refused as exc:
        result = exc
    return result, (start + time.time_ns()) // 2


def timed(call: Callable[[], T]) -> tuple[T | BadReply, int]:
    """Run one exchange; its result (or the BadReply) and the time midway through it (ns)."""
    return attempt(call, BadReply)


def ask_each(queries: Iterable[str], ask: Callable[[str], T]) -> dict[str, tuple[T | BadReply, int]]:
    """Each distinct query asked once, in order: its result (or the BadReply) and the time midway through it."""
    return {query: timed(partial(ask, query)) for query in dict.fromkeys(queries)}


def reading_of(config: ChannelConfig, result: FieldValue | BadReply, when: int) -> Reading:
    """A channel's reading from its exchange's result: the value, or the bad reply as a failed read."""
    if isinstance(result, BadReply):
        return Reading(config, None, when, problem=str(result), failed=True)
    return Reading(config, result, when)


def open_port(device: SerialDevice, **options: Any) -> Port:
    """Open the device's port with its line and timeout; DeviceError naming the port if it cannot be."""
    try:
        return open_serial(device.address, device.line, device.timeout_s, **options)
    except PORT_ERRORS as exc:
        raise DeviceError(f"cannot open serial port {device.address}: {describe(exc)}") from exc


def shared_port_problems(devices: Sequence[DeviceSpec], bus_key: Callable[[Any], object] | None = None,
                         bus_what: str = "address") -> list[ConfigError]:  # fmt: skip
    """Devices on one port need one line setting and Timeout, and (on a bus) distinct ``bus_key``s."""
    problems = []
    for device, other in sharing([d for d in devices if isinstance(d, SerialDevice)]):
        node = device.config.node
        if (device.line, device.timeout_s) != (other.line, other.timeout_s):
            problems.append(node.error(
                f"shares the port of device {other.label} ({other.address!r}) but not its SerialConnectionParams "
                "and Timeout; one port has one setting", "Address"))  # fmt: skip
        if bus_key is None:
            problems.append(node.error(
                f"the port {device.address!r} is already device {other.label}'s; this instrument has one "
                "device per port", "Address"))  # fmt: skip
    if bus_key is None:
        return problems
    seen: dict[tuple[str, object], DeviceSpec] = {}
    for entry in devices:
        key = bus_key(entry)
        same = seen.setdefault((entry.connection, key), entry)
        if same is not entry:
            problems.append(entry.config.node.error(
                f"{bus_what} {key} on the port of device {same.label} is that device's already: two entries "
                "would read one instrument", "DeviceSpecificParams"))  # fmt: skip
    return problems


class SerialDriver(Driver):
    """A family on serial ports: devices on one port share one session (``session``), read one after another.

    By default one device per port; a family on a multi-drop bus names what tells its devices apart
    (``bus``, and each device's ``bus_key``).
    """

    session: type[SerialSession]
    bus: ClassVar[str | None] = None  # on a bus: the name of what tells its devices apart ("address")

    connect = staticmethod(open_port)

    def bus_key(self, device: Any) -> object:
        """On a bus: what tells ``device`` from the others on its port (distinct on one port)."""
        raise NotImplementedError

    def check_all(self, devices: Sequence[DeviceSpec]) -> list[ConfigError]:
        return shared_port_problems(devices, self.bus_key if self.bus else None, self.bus or "")

    def open(self, devices: Sequence[DeviceSpec]) -> Session:
        mine = [d for d in devices if isinstance(d, SerialDevice)]
        return self.session(self.opener(mine[0]), mine)


@dataclass(frozen=True)
class AskedDevice(SerialDevice):
    """A device on a serial line whose channels are each read by one request (``Asked``)."""

    channels: tuple[Asked, ...] = ()


class AskingSession(SerialSession):
    """Asks each distinct request of a device once, on the family's ``wire``; each channel gets its request's
    value.  A family with nothing particular to add is its ``wire`` and its declaration."""

    wire: ClassVar[Wire]

    def read_device(self, device: SerialDevice) -> list[Reading]:
        assert isinstance(device, AskedDevice)
        results = ask_each(requests_of(device.channels), partial(self.ask, device))
        return [self.reading(ch, *results[ch.request]) for ch in device.channels]

    def reading(self, ch: Asked, result: FieldValue | BadReply, when: int) -> Reading:
        """The channel's reading from its request's result (a family may refuse a value here)."""
        return reading_of(ch.config, result, when)

    def ask(self, device: SerialDevice, request: str) -> FieldValue:
        wire = self.wire
        raw = self.query(device, request.encode("ascii") + wire.request_end, wire.reply_end, limit=wire.limit)
        try:
            return wire.parse(raw, request)
        except wire.refusals as exc:
            raise self.refused(str(exc)) from None


class AskingDriver(SerialDriver):
    """A family whose channels are each one request: its ``declaration``, its device class, and its
    ``vocabulary`` (each Type's request), or a ``request`` of its own (a ConfigError names what is wrong)."""

    device: ClassVar[type[AskedDevice]]
    vocabulary: ClassVar[Vocabulary | None] = None

    def request(self, ch: ChannelConfig) -> str:
        assert self.vocabulary is not None, f"{type(self).__name__}: no vocabulary, and no request of its own"
        return self.vocabulary.request(ch.values["Type"], ch.values, ch.node.error)

    def device_of(self, config: DeviceConfig, node: Node) -> AskedDevice:
        channels = tuple(Asked(ch, self.request(ch), type=ch.values["Type"] or "") for ch in config.channels)
        exchanges = len({ch.request for ch in channels})
        return self.device(config=config, **serial_fields(config.values, exchanges), channels=channels)

    def plan(self, device: DeviceSpec) -> str | None:
        assert isinstance(device, AskedDevice)
        return ", ".join(requests_of(device.channels)) + " per gather"
