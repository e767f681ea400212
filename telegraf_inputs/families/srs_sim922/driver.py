"""SRS SIM922 diode temperature monitors, each on its own port or several in one SIM900 mainframe.

A gather asks ``TVAL? n`` for each temperature channel, or ``TVAL? 0`` (all
four) once from three channels on, whichever is fewer bytes on the line; the
same with ``VOLT?`` for voltage channels.  In a SIM900
(``DeviceSpecificParams.SIM900Port``), the module is reached with
``CONN p,"xyz"`` and left with the escape ``xyz``; the modules of one
mainframe share its port and are read one after another.  Replies are read to
their CR LF and must hold the numbers asked for; a temperature of 0 K or below (no diode,
or outside its curve) is a warning, never a value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from ...base import DeviceSpec, Reading
from ...config import ChannelConfig, ConfigError, Declaration, Node, parse_device
from ...keys import Custom, Integer, Text
from ...serial_lines import (
    BadReply,
    SerialDevice,
    SerialDriver,
    SerialSession,
    reading_of,
    serial_fields,
    serial_keys,
    shared_port_problems,
    timed,
)
from .protocol import ALL_FROM, CHANNELS, COMMAND_END, ESCAPE, QUERIES, REPLY_END, ReplyError, connect, parse_values

TYPES = tuple(QUERIES)


@dataclass(frozen=True)
class SimChannel:
    config: ChannelConfig
    number: int  # 1 to 4
    type: str


@dataclass(frozen=True)
class Sim922Device(SerialDevice):
    sim900_port: int | None = None  # the mainframe slot, None when the module is on its own port
    channels: tuple[SimChannel, ...] = ()

    def queries(self) -> list[tuple[str, str, list[int]]]:
        return queries(self.channels)


def queries(channels: Sequence[SimChannel]) -> list[tuple[str, str, list[int]]]:
    """(query, Type, channel numbers it answers): one per channel, or one for all four from ALL_FROM on."""
    out = []
    for kind, query in QUERIES.items():
        numbers = sorted({ch.number for ch in channels if ch.type == kind})
        if len(numbers) >= ALL_FROM:
            out.append((f"{query} 0", kind, list(range(1, CHANNELS + 1))))
        else:
            out += [(f"{query} {n}", kind, [n]) for n in numbers]
    return out


def _channel_number(node: Node, key: str) -> int:
    number: int = node.integer(key, minimum=1, maximum=CHANNELS)
    return number


DECLARATION = Declaration(
    measurement="temperature",
    device=serial_keys(doc="the serial line, as set on the SIM922 or the SIM900 mainframe"),
    device_params=(
        Integer("SIM900Port", "the SIM900 mainframe slot (1-8) the SIM922 sits in; leave out when the SIM922 has "
                "its own serial port", minimum=1, maximum=8),
    ),
    channel=(
        Custom("DeviceChannel", "the SIM922 channel, 1 to 4", reader=_channel_number,
               json_schema=Integer("", minimum=1, maximum=CHANNELS).fragment()),
        Text("Type", "Temperature (K) or Voltage (the diode's, V)", "Temperature", choices=TYPES),
    ),
)  # fmt: skip


def _number(ch: ChannelConfig) -> int:
    """DeviceChannel, or the 3 July 2024 files' tags.SRSSIM922ChannelName ("1" to "4")."""
    number = ch.values["DeviceChannel"]
    if number is not None:
        return int(number)
    old = ch.tags.get("SRSSIM922ChannelName")
    if old is not None and old.strip() in ("1", "2", "3", "4"):
        return int(old)
    where = "tags.SRSSIM922ChannelName" if old is not None else "DeviceChannel"
    raise ch.node.error(f"give the SIM922 channel, 1 to 4, as DeviceChannel (found {old!r})"
                        if old is not None else "required key 'DeviceChannel' is missing (the channel, 1 to 4)",
                        where)  # fmt: skip


class Sim922Session(SerialSession):
    hint = "; check the cable, SIM900Port and that SerialConnectionParams match the SIM922 or SIM900"

    def read_device(self, device: SerialDevice) -> list[Reading]:
        assert isinstance(device, Sim922Device)
        if device.sim900_port is not None:
            self.port.write(connect(device.sim900_port))
        results: dict[tuple[str, int], tuple[float | BadReply, int]] = {}
        try:
            for query, kind, numbers in device.queries():
                values, when = timed(partial(self._values, device, query, len(numbers)))
                for i, n in enumerate(numbers):
                    results[kind, n] = (values if isinstance(values, BadReply) else values[i], when)
        finally:
            if device.sim900_port is not None:
                self.port.write(ESCAPE.encode("ascii"))
        readings = []
        for ch in device.channels:
            value, when = results[ch.type, ch.number]
            if ch.type == "Temperature" and isinstance(value, float) and value <= 0:
                problem = f"channel {ch.number} reads {value:g} K: no diode, or outside its calibration curve"
                readings.append(Reading(ch.config, value, when, problem=problem))
            else:
                readings.append(reading_of(ch.config, value, when))
        return readings

    def _values(self, device: Sim922Device, query: str, count: int) -> list[float]:
        raw = self.query(device, query.encode("ascii") + COMMAND_END, REPLY_END, limit=256)
        try:
            return parse_values(raw, query, count)
        except ReplyError as exc:
            raise self.refused(str(exc)) from None


class Sim922Driver(SerialDriver):
    """SRS SIM922."""

    declaration = DECLARATION
    session = Sim922Session

    def parse(self, node: Node) -> Sim922Device:
        config = parse_device(node, DECLARATION)
        channels = tuple(SimChannel(ch, _number(ch), ch.values["Type"]) for ch in config.channels)
        seen: dict[tuple[int, str], str] = {}
        for ch in channels:
            other = seen.setdefault((ch.number, ch.type), ch.config.key)
            if other != ch.config.key:
                raise ch.config.node.error(f"channel {ch.number} ({ch.type}) is already read by channel {other!r}",
                                           "DeviceChannel")  # fmt: skip
        return Sim922Device(
            config=config,
            **serial_fields(config.values, len(queries(channels))),
            sim900_port=config.params["SIM900Port"],
            channels=channels,
        )

    def check_all(self, devices: Sequence[DeviceSpec]) -> list[ConfigError]:
        """Modules in one SIM900 share its port in distinct slots; a SIM922 on its own port is alone there."""
        return shared_port_problems(devices, lambda d: d.sim900_port or "none (no SIM900Port)", "SIM900Port")

    def plan(self, device: DeviceSpec) -> str | None:
        assert isinstance(device, Sim922Device)
        via = f"SIM900 slot {device.sim900_port}: " if device.sim900_port else ""
        return via + ", ".join(query for query, _, _ in device.queries()) + " per gather"


DRIVER = Sim922Driver()
