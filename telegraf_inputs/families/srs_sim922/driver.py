"""SRS SIM922 diode temperature monitors, each on its own port or several in one SIM900 mainframe.

A gather asks ``TVAL? n`` for each temperature channel, or ``TVAL? 0`` (all
four) once from three channels on, whichever is fewer bytes on the line; the
same with ``VOLT?`` for voltage channels.  In a SIM900
(``DeviceSpecificParams.SIM900Port``), the module is reached with
``CONN p,"xyz"`` and left with the escape ``xyz``, or with ``SIM900Addressing``
``SNDT`` each query goes as ``SNDT p,"..."`` and its reply is collected with
``NINP? p`` and ``RAWN? p,n``; the modules of one mainframe share its port and
are read one after another.  Replies are read to
their CR LF and must hold the numbers asked for; a temperature of 0 K or below (no diode,
or outside its curve) is a warning, never a value.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from ...base import DeviceSpec, Reading
from ...config import ChannelConfig, Declaration, DeviceConfig, Node
from ...keys import Custom, Integer, Text
from ...serial_lines import (
    BadReply,
    NoReply,
    SerialDevice,
    SerialDriver,
    SerialSession,
    reading_of,
    serial_fields,
    serial_keys,
    timed,
)
from .protocol import (
    ADDRESSING,
    ALL_FROM,
    CHANNELS,
    COMMAND_END,
    ESCAPE,
    READ_TO,
    VOCABULARY,
    ReplyError,
    bytes_waiting,
    connect,
    parse_values,
    raw_bytes,
    send_terminated,
)

POLL_S = 0.02  # between NINP? polls while a module's reply is not yet whole


@dataclass(frozen=True)
class SimChannel:
    config: ChannelConfig
    number: int  # 1 to 4
    type: str


@dataclass(frozen=True)
class Sim922Device(SerialDevice):
    sim900_port: int | None = None  # the mainframe slot, None when the module is on its own port
    addressing: str = "CONN"  # how the mainframe is asked: CONN pass-through, or SNDT / NINP? / RAWN?
    channels: tuple[SimChannel, ...] = ()

    def queries(self) -> list[tuple[str, str, list[int]]]:
        return queries(self.channels)


def queries(channels: Sequence[SimChannel]) -> list[tuple[str, str, list[int]]]:
    """(query, Type, channel numbers it answers): one per channel, or one for all four from ALL_FROM on."""
    out = []
    for kind in VOCABULARY.types():
        numbers = sorted({ch.number for ch in channels if ch.type == kind})
        if len(numbers) >= ALL_FROM:
            out.append((_query(kind, 0), kind, list(range(1, CHANNELS + 1))))
        else:
            out += [(_query(kind, n), kind, [n]) for n in numbers]
    return out


def _query(kind: str, number: int) -> str:
    """The query of channel ``number`` (0: all four) of Type ``kind``."""
    return (VOCABULARY.kinds[kind].request or "").format(channel=number)


def _channel_number(node: Node, key: str) -> int:
    number: int = node.integer(key, minimum=1, maximum=CHANNELS)
    return number


DECLARATION = Declaration(
    measurement="temperature",
    device=serial_keys(doc="the serial line, as set on the SIM922 or the SIM900 mainframe"),
    device_params=(
        Integer("SIM900Port", "the SIM900 mainframe slot (1-8) the SIM922 sits in; leave out when the SIM922 has "
                "its own serial port", minimum=1, maximum=8),
        Text("SIM900Addressing", "how the SIM900 reaches the module: CONN (pass-through until an escape) or SNDT "
             "(each message sent with SNDT, its reply collected with NINP? and RAWN?, as QMI does)", "CONN",
             choices=ADDRESSING),
    ),
    channel=(
        Custom("DeviceChannel", "the SIM922 channel, 1 to 4", reader=_channel_number,
               json_schema=Integer("", minimum=1, maximum=CHANNELS).fragment()),
        Text("Type", VOCABULARY.doc(), "Temperature", choices=VOCABULARY.types()),
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
        passing = device.sim900_port is not None and device.addressing == "CONN"
        if passing:
            assert device.sim900_port is not None
            self.port.write(connect(device.sim900_port))
        results: dict[tuple[str, int], tuple[float | BadReply, int]] = {}
        try:
            for query, kind, numbers in device.queries():
                values, when = timed(partial(self._values, device, query, len(numbers)))
                for i, n in enumerate(numbers):
                    results[kind, n] = (values if isinstance(values, BadReply) else values[i], when)
        finally:
            if passing:
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
        if device.sim900_port is not None and device.addressing == "SNDT":
            raw = self._through_sndt(device, device.sim900_port, query)
        else:
            raw = self.query(device, query.encode("ascii") + COMMAND_END, READ_TO, limit=256)
        try:
            return parse_values(raw, query, count)
        except ReplyError as exc:
            raise self.refused(str(exc)) from None

    def _through_sndt(self, device: Sim922Device, slot: int, query: str, limit: int = 256) -> bytes:
        """One module query through the mainframe: SNDT, then NINP? / RAWN? until the reply's LF, within Timeout."""
        self.settle(device.timeout_s, f"port {device.address}")
        self.port.reset_input_buffer()
        self.port.write(send_terminated(slot, query))
        give_up = time.monotonic() + device.timeout_s
        reply = b""
        while not reply.endswith(READ_TO):
            waiting = self.query(device, bytes_waiting(slot), READ_TO, limit=16).strip()
            if not waiting.isdigit():
                raise self.refused(f"NINP? {slot} answered {waiting[:40]!r}, not a byte count")
            count = min(int(waiting), limit - len(reply))
            if count > 0:
                self.port.write(raw_bytes(slot, count))
                chunk = self.port.read(count)
                if len(chunk) < count:
                    raise self.refused(f"RAWN? {slot},{count} gave {len(chunk)} bytes within Timeout: {chunk!r}")
                reply += chunk
            if len(reply) >= limit and not reply.endswith(READ_TO):
                raise self.refused(f"a reply to {query!r} longer than {limit} bytes without its end: {reply[:80]!r}")
            if not reply.endswith(READ_TO):
                if time.monotonic() > give_up:
                    raise NoReply(f"no whole reply to {query!r} from SIM900 slot {slot} within Timeout "
                                  f"{device.timeout_s:g} s (so far {reply[:80]!r}){self.hint}")  # fmt: skip
                time.sleep(POLL_S)
        return reply


class Sim922Driver(SerialDriver):
    """SRS SIM922."""

    declaration = DECLARATION
    session = Sim922Session

    def device_of(self, config: DeviceConfig, node: Node) -> Sim922Device:
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
            addressing=config.params["SIM900Addressing"],
            channels=channels,
        )

    bus = "SIM900Port"

    def bus_key(self, device: Sim922Device) -> object:
        """Modules in one SIM900 share its port in distinct slots; a SIM922 on its own port is alone there."""
        return device.sim900_port or "none (no SIM900Port)"

    def plan(self, device: DeviceSpec) -> str | None:
        assert isinstance(device, Sim922Device)
        via = f"SIM900 slot {device.sim900_port} ({device.addressing}): " if device.sim900_port else ""
        return via + ", ".join(query for query, _, _ in device.queries()) + " per gather"


DRIVER = Sim922Driver()
