"""Met One DR-528 handheld particle counters on a serial port.

A gather sends ``4`` CR once and reads the counter's record: a CSV header line
and a data line, each to its line end, never by waiting out the timeout (the
older logger's ``readlines()`` took the whole ``Timeout``, 10 s in its
example, for every reading).  The record must have a header and a data line of
equal length, distinct labels and numbers throughout.  A channel's ID (or its
``Type``) names the header label it reads, as in the older logger's files:
``0.3(CF)``, ``AT(C)``, ``RH(%)``.  Counts below zero and humidity outside 0-100 %
are errors, never values.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...base import DeviceSpec, Reading
from ...config import ChannelConfig, Declaration, DeviceConfig, Node
from ...keys import Text
from ...serial_lines import (
    BadReply,
    SerialDevice,
    SerialDriver,
    SerialSession,
    serial_fields,
    serial_keys,
    timed,
)
from .protocol import LABELS, LINE_END, MAX_LINE, REQUEST, ReplyError, parse_record


@dataclass(frozen=True)
class CounterChannel:
    config: ChannelConfig
    labels: tuple[str, ...]  # the header labels it may read: its ID, then its Type


@dataclass(frozen=True)
class CounterDevice(SerialDevice):
    channels: tuple[CounterChannel, ...] = ()


DECLARATION = Declaration(
    measurement="particlecounts",
    device=serial_keys(baudrate=115200, timeout_s=2.0, doc="the counter's RS-232 line (115200 8N1 in the older "
                       "logger's example)"),
    channel=(
        Text("Type", "the header label to read when the channel's ID is not one (e.g. 0.3(CF), AT(C), RH(%)); "
             "the older logger's files repeat the label here or describe it"),
    ),
)  # fmt: skip


#: echoed requests and blank lines skipped before the record at most
MAX_SKIPPED = 3


class CounterSession(SerialSession):
    hint = "; check the cable and that SerialConnectionParams match the counter (115200 8N1)"

    def record(self, device: CounterDevice) -> dict[str, float]:
        line = self.query(device, REQUEST, LINE_END, limit=MAX_LINE)
        lines: list[bytes] = []
        for _ in range(MAX_SKIPPED + 2):  # an echo of the request and blank lines before the header are skipped
            if line.strip() and line.strip() != REQUEST.strip():
                lines.append(line)
                if len(lines) == 2:
                    break
            line = self.port.read_until(LINE_END, MAX_LINE)
            if not line.endswith(LINE_END):
                raise self.refused(f"record cut short after {len(lines)} line(s): {line[:80]!r}")
        else:
            raise self.refused(f"no header and data line after {MAX_SKIPPED} echoed or blank lines")
        try:
            return parse_record(*lines)
        except ReplyError as exc:
            raise self.refused(str(exc)) from None

    def read_device(self, device: SerialDevice) -> list[Reading]:
        assert isinstance(device, CounterDevice)
        record, when = timed(lambda: self.record(device))
        if isinstance(record, BadReply):  # one record serves every channel: each fails with it (one log line)
            return [Reading(ch.config, None, when, problem=str(record), failed=True) for ch in device.channels]
        readings = []
        for ch in device.channels:
            label = next((label for label in ch.labels if label in record), None)
            if label is None:
                missing = f"the record has no {ch.labels[0]!r}; its labels: {', '.join(record)}"
                readings.append(Reading(ch.config, None, when, problem=missing, failed=True))
                continue
            value = record[label]
            problem: str | None = None
            if label.endswith("(CF)") and value < 0:
                problem = f"{label} is {value:g}, a negative count"
            elif label.startswith("RH") and not 0 <= value <= 100:
                problem = f"{label} is {value:g} %, outside 0-100 %"
            readings.append(Reading(ch.config, value, when, problem=problem, failed=problem is not None))
        return readings


class Dr528Driver(SerialDriver):
    """Met One DR-528."""

    declaration = DECLARATION
    session = CounterSession

    def device_of(self, config: DeviceConfig, node: Node) -> CounterDevice:
        channels = tuple(
            CounterChannel(ch, tuple(dict.fromkeys(x for x in (ch.key, (ch.type or "").strip()) if x)))
            for ch in config.channels
        )
        return CounterDevice(config=config, **serial_fields(config.values, 3), channels=channels)

    def plan(self, device: DeviceSpec) -> str | None:
        assert isinstance(device, CounterDevice)
        unusual = [ch.config.key for ch in device.channels if not set(ch.labels) & set(LABELS)]
        unusual_text = f"; not a label of the usual record: {', '.join(unusual)}" if unusual else ""
        return f"'4' CR and one record per gather{unusual_text}"


DRIVER = Dr528Driver()
