"""Thorlabs MDT693B 3-axis piezo controllers over their USB virtual serial port.

A channel reads an axis's output voltage (``Type`` ``Vout``, ``Axis`` x, y or
z, as the older logger's files have it), its limits, or the output limit
switch.  Each reply is read to the prompt ``>`` that ends it, never by waiting
out the timeout, and must hold one bracketed value within 0-150 V.
"""

from __future__ import annotations

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
from .protocol import AXES, COMMAND_END, PROMPT, QUERIES, ReplyError, parse_value

TYPES = tuple(QUERIES)


@dataclass(frozen=True)
class PiezoDevice(SerialDevice):
    channels: tuple[Asked, ...] = ()


DECLARATION = Declaration(
    measurement="piezo",
    device=serial_keys(baudrate=115200, doc="the USB virtual serial port's line (115200 8N1; the older logger's "
                       "example gave none, which meant 9600 there and could not talk to the controller)"),
    channel=(
        Text("Type", "Vout (an axis's output voltage), Vmin, Vmax (an axis's limits), Vlimit (the output limit "
             "switch, 75, 100 or 150 V)", required=True, choices=TYPES),
        Text("Axis", "x, y or z (for Vout, Vmin, Vmax)", choices=AXES),
    ),
)  # fmt: skip


def _query(ch: ChannelConfig) -> str:
    kind, axis = ch.values["Type"], ch.values["Axis"]
    template = QUERIES[kind]
    if "{axis}" in template and axis is None:
        raise ch.node.error(f'Type "{kind}" needs the Axis: x, y or z', "Axis")
    if "{axis}" not in template and axis is not None:
        raise ch.node.error(f'Type "{kind}" has no Axis', "Axis")
    return template.format(axis=axis or "")


class PiezoSession(SerialSession):
    hint = "; check the USB cable and that SerialConnectionParams match the controller (115200 8N1)"

    def read_device(self, device: SerialDevice) -> list[Reading]:
        assert isinstance(device, PiezoDevice)
        results = ask_each(requests_of(device.channels), partial(self._value, device))
        return [reading_of(ch.config, *results[ch.request]) for ch in device.channels]

    def _value(self, device: PiezoDevice, query: str) -> float:
        raw = self.query(device, query.encode("ascii") + COMMAND_END, PROMPT, limit=256)
        try:
            return parse_value(raw, query)
        except ReplyError as exc:
            raise self.refused(str(exc)) from None


class Mdt693bDriver(SerialDriver):
    """Thorlabs MDT693B."""

    declaration = DECLARATION
    session = PiezoSession

    def parse(self, node: Node) -> PiezoDevice:
        config = parse_device(node, DECLARATION)
        channels = tuple(Asked(ch, _query(ch)) for ch in config.channels)
        return PiezoDevice(
            config=config, **serial_fields(config.values, len({ch.request for ch in channels})), channels=channels
        )

    def plan(self, device: DeviceSpec) -> str | None:
        assert isinstance(device, PiezoDevice)
        return ", ".join(requests_of(device.channels)) + " per gather"


DRIVER = Mdt693bDriver()
