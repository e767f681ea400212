"""KJLC 354 / 352 ion gauges (InstruTech IGM401 / IGM402) on an RS-485 line.

Each gather sends each distinct command of the device's channels once, in
channel order, 50 ms apart as the bus requires; with ``ConfirmFilamentIsOn``
the filament status (``IGS``) goes first, and an ion-gauge pressure is not read
while the filament is off.  A reply is read to its CR (13 bytes), never by
waiting out the timeout, and checked completely: length, address echo, ``*``
(or ``?``, the gauge's error reply) and the number's format.  A gauge that is
off (9.90E+09) or a convection gauge over range (1.01E+03) is a warning for
that channel, never a value.  Several gauges on one port share one connection.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from ...base import Asked, DeviceSpec, Reading, requests_of
from ...config import Declaration, DeviceConfig, Node
from ...keys import Custom, Flag, Text, Values
from ...lineprotocol import FieldValue
from ...serial_lines import (
    BadReply,
    SerialDevice,
    SerialDriver,
    SerialSession,
    ask_each,
    reading_of,
    serial_fields,
    serial_keys,
)
from .protocol import (
    ADDRESS,
    CG_OVER_RANGE,
    COMMAND_GAP_S,
    END,
    IG_OFF,
    REPLY_LENGTH,
    VOCABULARY,
    ReplyError,
    filament,
    payload,
    pressure,
    request,
)


@dataclass(frozen=True)
class GaugeDevice(SerialDevice):
    gauge_address: str = "01"
    confirm_filament: bool = False
    channels: tuple[Asked, ...] = ()

    def commands(self) -> list[str]:
        """The distinct commands of a gather, in order (IGS first when the filament is checked)."""
        return requests_of(self.channels, ["IGS"] if self.confirm_filament else [])


def _address(node: Node, key: str) -> str:
    value = node.value[key]
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 99:
        return f"{value:02d}"  # 1 -> "01" (the older logger's files give strings)
    text = value.strip() if isinstance(value, str) else None
    if text is None or not ADDRESS.fullmatch(text):
        raise node.error(f'the gauge\'s address is two hex digits, 00 to FF (e.g. "01"), found {value!r}', key)
    return text.upper()


def _flag(values: Values, params: Values, key: str, default: bool) -> bool:
    """A flag given in DeviceSpecificParams (since August 2023) or at the top (the February 2023 files)."""
    top, inner = values[key], params[key]
    if top is not None and inner is not None:
        raise params.node.error(f"give {key} once: in DeviceSpecificParams or at the top of the device", key)
    chosen = inner if inner is not None else top
    return default if chosen is None else bool(chosen)


DECLARATION = Declaration(
    measurement="pressure",
    device=(
        *serial_keys(baudrate=19200, doc="the RS-485 line, as set on the gauge (19200 8N1 from the factory)"),
        Flag("ConfirmFilamentIsOn", "as in DeviceSpecificParams (where the older logger's files since August 2023 "
             "have it)"),
        Flag("ReadCombinedPressure", "as in DeviceSpecificParams"),
    ),
    device_params=(
        Custom("InternalAddress", "the gauge's RS-485 address: two hex digits, 00 to FF (factory 01)",
               required=True, reader=_address,
               json_schema={"anyOf": [{"type": "string", "pattern": "^\\s*[0-9A-Fa-f]{2}\\s*$"},
                                      {"type": "integer", "minimum": 0, "maximum": 99}]}),
        Flag("ConfirmFilamentIsOn", "ask the filament status (IGS) first; no ion-gauge pressure while it is off"),
        Flag("ReadCombinedPressure", "Type Pressure reads the combined IG + convection gauge pressure (RDS): "
             "default true for the KJLC 352, false for the 354"),
    ),
    channel=(
        Text("Type", VOCABULARY.doc(), required=True, choices=VOCABULARY.types()),
    ),
)  # fmt: skip


class GaugeSession(SerialSession):
    """One RS-485 port and the gauges on it."""

    gap_s = COMMAND_GAP_S
    hint = "; check the RS-485 wiring, InternalAddress and that SerialConnectionParams match the gauge"

    def exchange(self, device: GaugeDevice, command: str) -> str:
        raw = self.query(device, request(device.gauge_address, command), END, limit=4 * REPLY_LENGTH)
        try:
            return payload(raw, device.gauge_address, command)
        except ReplyError as exc:
            raise self.refused(str(exc)) from None

    def read_device(self, device: SerialDevice) -> list[Reading]:
        assert isinstance(device, GaugeDevice)
        ask = partial(self.exchange, device)
        replies = ask_each(["IGS"] if device.confirm_filament else [], ask)
        status, _ = replies.get("IGS", ("", 0))
        off = device.confirm_filament and not isinstance(status, BadReply) and not _filament_on(status)
        replies.update(ask_each([c for c in device.commands() if c not in replies and not (off and c == "RD")], ask))
        return [_reading(ch, replies, device.confirm_filament) for ch in device.channels]


def _filament_on(status: str) -> bool:
    try:
        return filament(status)
    except ReplyError:
        return True  # a garbled status: the pressure is read, and its own checks apply


def _reading(ch: Asked, replies: dict[str, tuple[str | BadReply, int]], confirm: bool) -> Reading:
    if ch.request not in replies:  # RD skipped: the filament is off
        _, when = replies["IGS"]
        return Reading(ch.config, None, when, problem="the ion gauge's filament is off (IGS); no pressure read")
    data, when = replies[ch.request]
    if isinstance(data, BadReply):
        return reading_of(ch.config, data, when)
    try:
        value: FieldValue = filament(data) if ch.request == "IGS" else pressure(data, ch.request)
    except ReplyError as exc:
        return Reading(ch.config, None, when, problem=str(exc), failed=True)
    if value == IG_OFF and ch.request in ("RD", "RDS"):
        return Reading(ch.config, value, when, problem="the ion gauge is off (9.90E+09: filament off or an IG error)")
    if value == CG_OVER_RANGE and ch.request.startswith("RDCG"):
        return Reading(ch.config, value, when, problem="the convection gauge is over range or unplugged (1.01E+03)")
    return Reading(ch.config, value, when)


class Kjlc354Driver(SerialDriver):
    """KJLC 354 / 352 ion gauges."""

    declaration = DECLARATION
    session = GaugeSession

    def device_of(self, config: DeviceConfig, node: Node) -> GaugeDevice:
        values, params = config.values, config.params
        combined = _flag(values, params, "ReadCombinedPressure", "352" in config.model)
        confirm = _flag(values, params, "ConfirmFilamentIsOn", False)
        pressure_command = "RDS" if combined else "RD"
        channels = tuple(
            Asked(ch, VOCABULARY.kinds[ch.values["Type"]].request or pressure_command, type=ch.values["Type"])
            for ch in config.channels
        )  # fmt: skip
        exchanges = len({ch.request for ch in channels} | ({"IGS"} if confirm else set()))
        return GaugeDevice(
            config=config,
            **serial_fields(values, exchanges),  # each command may take the timeout
            gauge_address=params["InternalAddress"],
            confirm_filament=confirm,
            channels=channels,
        )

    bus = "address"

    def bus_key(self, device: GaugeDevice) -> object:
        return device.gauge_address

    def plan(self, device: DeviceSpec) -> str | None:
        assert isinstance(device, GaugeDevice)
        return f"address {device.gauge_address}: " + ", ".join(device.commands()) + " per gather"


DRIVER = Kjlc354Driver()
