"""What a driver is: it parses its devices' config, opens sessions and reads.

A *session* is one open connection to an instrument.  Several device entries
may share one connection (the same DAQ address): the runtime opens one session
for all of them and never lets two reads use it at once.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from ..config import ChannelConfig, DeviceConfig, Node
from ..lineprotocol import FieldValue


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


D = TypeVar("D", bound=DeviceSpec)


def by_connection(devices: Sequence[D]) -> dict[str, list[D]]:
    """The devices grouped by the connection they share, in the order first seen."""
    groups: dict[str, list[D]] = {}
    for device in devices:
        groups.setdefault(device.connection, []).append(device)
    return groups


class Stoppable(Protocol):
    def stop(self) -> None: ...


S = TypeVar("S", bound=Stoppable)


def simulate_per_connection(
    devices: Sequence[D], start: Callable[[list[D]], S], point: Callable[[D, S], DeviceSpec]
) -> tuple[list[DeviceSpec], Callable[[], None]]:
    """Start one simulator per connection (``start`` gets the devices sharing it), point each device at its own.

    Returns the re-pointed devices and a function that stops every simulator.
    """
    sims = {connection: start(group) for connection, group in by_connection(devices).items()}

    def stop() -> None:
        for sim in sims.values():
            sim.stop()

    return [point(device, sims[device.connection]) for device in devices], stop


class Session(ABC):
    """One open connection, serving the devices that share it."""

    @abstractmethod
    def read(self, device: DeviceSpec) -> list[Reading]:
        """Read every channel of ``device``; raise DeviceError (or OSError) on failure."""

    @abstractmethod
    def close(self) -> None:
        """Release the connection; must not raise."""


class Driver(ABC):
    """A device family: the models it handles and how to talk to them."""

    #: short name, used for the executable (telegraf-<name>) and default measurement
    name: str
    #: the exact "Model" strings this driver accepts (compared case-insensitively)
    models: tuple[str, ...]

    def handles(self, model: str) -> bool:
        """True if ``model`` (a config "Model" string) is one of this driver's."""
        return model.strip().upper() in {m.upper() for m in self.models}

    @abstractmethod
    def parse(self, node: Node) -> DeviceSpec:
        """Parse and check one device entry; raise ConfigError naming the JSON path."""

    def check_all(self, devices: Sequence[DeviceSpec]) -> None:  # noqa: B027 (optional hook)
        """Checks across devices (e.g. two entries sharing an instrument); raise ConfigError."""

    def plan(self, device: DeviceSpec) -> str | None:
        """What reading ``device`` will cost or do, logged at debug level (-v) on start-up."""
        return None

    @abstractmethod
    def open(self, devices: Sequence[DeviceSpec]) -> Session:
        """Open and configure one connection for ``devices`` (which share it)."""

    @abstractmethod
    def simulate(self, devices: Sequence[DeviceSpec]) -> tuple[list[DeviceSpec], Callable[[], None]]:
        """Start built-in simulators; return the devices pointed at them, and a stopper."""
