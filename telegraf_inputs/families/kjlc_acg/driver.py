"""KJLC ACG capacitance manometers: the gauge streams frames; a gather takes the next valid one.

Nothing is sent to the gauge.  A gather drops what was buffered, then reads
until one complete frame passes every check (length byte, checksum, page),
resynchronising on the length byte after noise, and reads no more than 8
frames' worth of bytes.  A frame with an error bit set, an undefined sensor
type or a value beyond full scale is no value.  Pressure is in Torr,
decoded as INFICON documents it (see protocol.py for where the older logger
differed).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from ...base import DeviceSpec, Picked, Reading
from ...config import ChannelConfig, Declaration, DeviceConfig, Node
from ...keys import Text
from ...lineprotocol import FieldValue
from ...serial_lines import (
    NoReply,
    SerialDevice,
    SerialDriver,
    SerialSession,
    attempt,
    serial_fields,
    serial_keys,
)
from .protocol import ERROR_BITS, FRAME_LENGTH, PAGES, SETPOINT_BITS, Frame, FrameError, find_frame

TYPES = ("Pressure", "Status")
STATUS_FIELDS = ("unit", "heater_ready", *SETPOINT_BITS.values())
MAX_BYTES = 8 * FRAME_LENGTH


@dataclass(frozen=True)
class AcgDevice(SerialDevice):
    channels: tuple[Picked, ...] = ()


DECLARATION = Declaration(
    measurement="pressure",
    device=serial_keys(doc="the gauge's RS-232 line (9600 8N1)"),
    channel=(
        Text("Type", "Pressure (Torr), or Status (the status byte, with the displayed unit, heater and set-point "
             "states as further fields)", "Pressure", choices=TYPES),
    ),
)  # fmt: skip


class AcgSession(SerialSession):
    hint = "; check the cable (gauge TxD pin 13, RxD 14) and that SerialConnectionParams match the gauge (9600 8N1)"

    def next_frame(self, device: AcgDevice) -> Frame:
        self.port.reset_input_buffer()  # frames buffered since the last gather are old
        data = self.port.read(FRAME_LENGTH)
        while True:
            frame = find_frame(data)
            if frame is not None:
                return frame
            if not data:
                raise NoReply(f"no frame within Timeout {device.timeout_s:g} s (the gauge streams every ~20 ms)"
                              f"{self.hint}")  # fmt: skip
            more = self.port.read(1) if len(data) < MAX_BYTES else b""
            if not more:
                raise FrameError(
                    f"no valid frame in {len(data)} bytes (noise, or another baud rate): {data[:27].hex()}"
                )
            data += more

    def read_device(self, device: SerialDevice) -> list[Reading]:
        assert isinstance(device, AcgDevice)
        frame, when = attempt(partial(self.next_frame, device), FrameError)
        return [_reading(ch, frame, when) for ch in device.channels]


def _reading(ch: Picked, frame: Frame | FrameError, when: int) -> Reading:
    if isinstance(frame, FrameError):
        return Reading(ch.config, None, when, problem=str(frame), failed=True)
    if ch.type == "Status":
        extra: dict[str, FieldValue] = {"unit": frame.unit, "heater_ready": bool(frame.status & 0x80)}
        extra.update({name: bool(frame.error & (1 << bit)) for bit, name in SETPOINT_BITS.items()})
        return Reading(ch.config, frame.status, when, extra=extra)
    errors = [name for bit, name in ERROR_BITS.items() if frame.error & (1 << bit)]
    if errors:
        return Reading(ch.config, None, when, problem=f"the gauge reports: {', '.join(errors)}", failed=True)
    try:
        torr = frame.torr
    except FrameError as exc:
        return Reading(ch.config, None, when, problem=str(exc), failed=True)
    if abs(frame.value) > PAGES[frame.page]:
        return Reading(ch.config, torr, when,
                       problem=f"over range: {torr:.4g} Torr on a {frame.full_scale_torr:g} Torr head")  # fmt: skip
    return Reading(ch.config, torr, when)


class AcgDriver(SerialDriver):
    """KJLC ACG."""

    declaration = DECLARATION
    session = AcgSession

    def device_of(self, config: DeviceConfig, node: Node) -> AcgDevice:
        channels = tuple(Picked(ch, ch.values["Type"]) for ch in config.channels)
        return AcgDevice(config=config, **serial_fields(config.values, 1), channels=channels)

    def fields(self, device: DeviceSpec) -> list[tuple[ChannelConfig, tuple[str, ...]]]:
        assert isinstance(device, AcgDevice)
        return [
            (ch.config, (ch.config.field_key, *(f"{ch.config.field_key}_{x}" for x in STATUS_FIELDS if
                                                ch.type == "Status")))
            for ch in device.channels
        ]  # fmt: skip

    def plan(self, device: DeviceSpec) -> str | None:
        return "the next valid frame of the gauge's stream per gather (nothing is sent)"


DRIVER = AcgDriver()
