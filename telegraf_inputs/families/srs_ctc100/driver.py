"""SRS CTC100 cryogenic temperature controllers over their USB virtual serial port.

Each channel names the CTC100 channel as the older logger's files do, in its
tags: ``CTC100ChannelName`` (``CTC100SensorName`` in its first files of
November 2022), and ``CTC100CustomCommand`` for Type ``Custom``.  Those stay
tags of the written lines, as they were.  A gather asks each distinct query
once; a reply is read to its CR LF and must be a number; NaN (an open sensor)
is a warning, never a value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial

from ...base import Asked, DeviceSpec, Reading, requests_of
from ...config import ChannelConfig, Declaration, Node, parse_device
from ...keys import Text
from ...serial_lines import (
    SerialDevice,
    SerialDriver,
    SerialSession,
    ask_each,
    reading_of,
    serial_fields,
    serial_keys,
)
from .protocol import COMMAND_END, QUERIES, REPLY_END, ReplyError, parse_number, remote_name

TYPES = tuple(QUERIES)


@dataclass(frozen=True)
class CtcDevice(SerialDevice):
    channels: tuple[Asked, ...] = ()


DECLARATION = Declaration(
    measurement="temperature",
    device=serial_keys(doc="the USB virtual serial port's line, as set on the CTC100 (9600 8N1)"),
    channel=(
        Text("Type", "Temperature, HeaterPower (the channel's value), PIDSetpoint (an output's PID set point), or "
             "Custom (the query in tags.CTC100CustomCommand)", required=True, choices=TYPES),
    ),
)  # fmt: skip


def _query(ch: ChannelConfig) -> str:
    kind: str = ch.values["Type"]
    template = QUERIES[kind]
    if template is None:
        command = ch.tags.get("CTC100CustomCommand", "").strip()
        if not command:
            raise ch.node.error('Type "Custom" needs the query in tags.CTC100CustomCommand', "tags")
        if any(c in command for c in "\r\n") or not command.isascii():
            raise ch.node.error("tags.CTC100CustomCommand must be one line of ASCII", "tags")
        return command
    name, old = ch.tags.get("CTC100ChannelName"), ch.tags.get("CTC100SensorName")
    if name is not None and old is not None and remote_name(name) != remote_name(old):
        raise ch.node.error(
            f"tags.CTC100ChannelName {name!r} and tags.CTC100SensorName {old!r} name two channels; "
            "give one (CTC100SensorName is its name in the older logger's first files)",
            "tags",
        )
    chosen = name if name is not None else old
    if chosen is None or not remote_name(chosen):
        raise ch.node.error(f'Type "{kind}" needs the CTC100 channel in tags.CTC100ChannelName (e.g. "In1")', "tags")
    query = template.format(name=remote_name(chosen))
    if not query.isascii():
        raise ch.node.error(
            f"the CTC100 channel name {chosen!r} is not ASCII; use its name as set on the panel", "tags"
        )
    return query


class CtcSession(SerialSession):
    hint = "; check the USB cable and that SerialConnectionParams match the CTC100"

    def read_device(self, device: SerialDevice) -> list[Reading]:
        assert isinstance(device, CtcDevice)
        results = ask_each(requests_of(device.channels), partial(self._number, device))
        readings = []
        for ch in device.channels:
            value, when = results[ch.request]
            if isinstance(value, float) and not math.isfinite(value):
                readings.append(Reading(ch.config, value, when, problem=f"{ch.request!r} reads {value} (sensor open?)"))
            else:
                readings.append(reading_of(ch.config, value, when))
        return readings

    def _number(self, device: CtcDevice, query: str) -> float:
        raw = self.query(device, query.encode("ascii") + COMMAND_END, REPLY_END, limit=512)
        try:
            return parse_number(raw, query)
        except ReplyError as exc:
            raise self.refused(str(exc)) from None


class Ctc100Driver(SerialDriver):
    """SRS CTC100."""

    declaration = DECLARATION
    session = CtcSession

    def parse(self, node: Node) -> CtcDevice:
        config = parse_device(node, DECLARATION)
        channels = tuple(Asked(ch, _query(ch), type=ch.values["Type"]) for ch in config.channels)
        return CtcDevice(
            config=config, **serial_fields(config.values, len({ch.request for ch in channels})), channels=channels
        )

    def plan(self, device: DeviceSpec) -> str | None:
        assert isinstance(device, CtcDevice)
        return ", ".join(requests_of(device.channels)) + " per gather"


DRIVER = Ctc100Driver()
