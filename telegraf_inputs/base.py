"""What a driver is: it parses its devices' config, opens sessions and reads.

A *session* is one open connection to an instrument.  Several device entries
may share one connection (the same DAQ address): the runtime opens one session
for all of them and never lets two reads use it at once.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from .config import ChannelConfig, ConfigError, Declaration, DeviceConfig, Node, parse_device
from .lineprotocol import FieldValue


class DeviceError(Exception):
    """A device could not be read; the message says why, for the log."""


@dataclass(frozen=True)
class Reading:
    """A raw value of one channel and the time (ns since the epoch) it was taken.

    ``problem`` set means the value must not be emitted: either the instrument
    reported something that is not a measurement (an overload, say; ``value`` is
    then what it sent, for the log), or, with ``failed``, reading this channel
    failed (a negative reply, a checksum error), which is logged as an error.

    ``extra`` holds further fields of the same channel (the flags of a status
    word, say); they are written as ``<field-key>_<name>`` in the same line,
    without the channel's Multiplier or Converter.
    """

    channel: ChannelConfig
    value: FieldValue | None
    time_ns: int
    problem: str | None = None
    failed: bool = False
    extra: Mapping[str, FieldValue] = field(default_factory=dict)


@dataclass(frozen=True)
class DeviceSpec:
    """A parsed device: the shared config plus what the runtime needs."""

    config: DeviceConfig
    connection: str  # devices with equal keys share one session
    deadline_s: float  # a read of this device that takes longer is abandoned

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def label(self) -> str:
        """The device as messages name it: ``'name'``, or ``'name' at [3]`` where entries share the name."""
        return self.config.label


@dataclass(frozen=True)
class Asked:
    """A channel read by one request to the instrument: its settings, the request, its Type, and what its
    reply holds (``field_type``).  Channels with the same request share its one exchange in a gather."""

    config: ChannelConfig
    request: str
    type: str = ""
    field_type: str = "float"


@dataclass(frozen=True)
class Wire:
    """A line-oriented instrument's wire, declared in its protocol module: what ends a request and a reply,
    how long a reply may be, and how a reply to a request becomes its value (``parse`` raises one of
    ``refusals`` for a reply that fails its check)."""

    request_end: bytes
    reply_end: bytes
    parse: Callable[[bytes, str], FieldValue]
    refusals: tuple[type[Exception], ...]
    limit: int = 256


@dataclass(frozen=True)
class Picked:
    """A channel whose value is picked out of one reply all the device's channels share (a frame, a
    record): its settings and its Type."""

    config: ChannelConfig
    type: str


def requests_of(channels: Sequence[Asked], first: Sequence[str] = ()) -> list[str]:
    """The distinct requests of a gather, in order (``first`` before the channels')."""
    return list(dict.fromkeys([*first, *(ch.request for ch in channels)]))


D = TypeVar("D", bound=DeviceSpec)


def by_connection(devices: Sequence[D]) -> dict[str, list[D]]:
    """The devices grouped by the connection they share, in the order first seen."""
    groups: dict[str, list[D]] = {}
    for device in devices:
        groups.setdefault(device.connection, []).append(device)
    return groups


def sharing(devices: Sequence[D]) -> list[tuple[D, D]]:
    """Each device on a connection an earlier one has, with the first device on it (for check_all)."""
    groups = by_connection(devices)
    return [(device, group[0]) for group in groups.values() for device in group[1:]]


class Session(ABC):
    """One open connection, serving the devices that share it."""

    @abstractmethod
    def read(self, device: DeviceSpec) -> list[Reading]:
        """Read every channel of ``device``; raise DeviceError (or OSError) on failure."""

    @abstractmethod
    def close(self) -> None:
        """Release the connection; must not raise."""

    def configure(self) -> None:  # noqa: B027 (a hook: most sessions have nothing to set up)
        """Set the instrument up once the connection is open (a scan list, a sensor's wavelength); none by
        default."""


SessionT = TypeVar("SessionT", bound=Session)


def set_up(session: SessionT) -> SessionT:
    """``session`` once configured; if configuring fails, the session is closed and the error raised."""
    try:
        session.configure()
    except BaseException:
        session.close()
        raise
    return session


class Driver(ABC):
    """How to read one family's devices: parse their entries, open connections, check across devices."""

    #: the family's configuration keys (checks at start-up and the JSON Schema)
    declaration: Declaration

    def __init__(self, opener: Callable[[Any], Any] | None = None) -> None:
        """``opener`` opens a device's connection in place of the family's ``connect`` (tests give one)."""
        self.opener: Callable[[Any], Any] = opener or self.connect

    def connect(self, device: Any) -> Any:
        """The family's own way of opening ``device``'s connection, for drivers whose ``open`` uses ``opener``."""
        raise NotImplementedError(f"{type(self).__name__} opens its connections itself")

    def parse(self, node: Node) -> DeviceSpec:
        """Parse and check one device entry against the family's declaration; ConfigError names the JSON path."""
        return self.device_of(parse_device(node, self.declaration), node)

    @abstractmethod
    def device_of(self, config: DeviceConfig, node: Node) -> DeviceSpec:
        """The device an entry describes, its declared keys read (``config``); ConfigError for what they allow
        but this family does not (e.g. two settings that contradict each other)."""

    def check_all(self, devices: Sequence[DeviceSpec]) -> list[ConfigError]:
        """Problems across devices (e.g. two entries sharing an instrument); none by default."""
        return []

    def fields(self, device: DeviceSpec) -> list[tuple[ChannelConfig, tuple[str, ...]]]:
        """Every channel of ``device`` with the names of all the fields it writes (extras included)."""
        return [(ch, (ch.field_key,)) for ch in device.config.channels]

    def alarms(self, device: DeviceSpec) -> list[ChannelConfig]:
        """The channels whose value counts the alarm (or warning) flags the instrument reports: 0 is all clear.

        ``telegraf-lab template`` makes a threshold check of each (crit while a flag is set).
        """
        return []

    def plan(self, device: DeviceSpec) -> str | None:
        """What reading ``device`` will cost or do, logged at debug level (-v) on start-up."""
        return None

    @abstractmethod
    def open(self, devices: Sequence[DeviceSpec]) -> Session:
        """Open and configure one connection for ``devices`` (which share it)."""
