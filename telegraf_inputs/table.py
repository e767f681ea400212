"""Readings as a person reads them: one row per device, channel and field (``run --once --format table``, ``watch``).

Columns: device, channel, field, value, unit (the line's ``unit`` tag), error (why a channel, or the
whole device, gave nothing).  Text from instruments is shown as one bounded line.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from dataclasses import dataclass

from .base import DeviceSpec
from .lineprotocol import Metric
from .logs import one_line

COLUMNS = ("device", "channel", "field", "value", "unit", "error")
MAX_CELL = 60  # characters of a value; an error gets MAX_ERROR
MAX_ERROR = 240


@dataclass
class Row:
    device: str
    channel: str
    field: str
    value: str
    unit: str
    error: str
    at: float = dataclasses.field(default_factory=time.monotonic)  # when it was read (for watch's age column)

    def cells(self) -> tuple[str, ...]:
        short = (one_line(c, MAX_CELL) for c in (self.device, self.channel, self.field, self.value, self.unit))
        return (*short, one_line(self.error, MAX_ERROR))


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def rows_of(device: DeviceSpec, outcome: object) -> list[Row]:
    """The rows of one device's outcome (a runtime Outcome)."""
    name = device.config.name
    channels: list[tuple[str, Metric | str]] = getattr(outcome, "channels", [])
    if not channels:
        problem = getattr(outcome, "problem", "") or "no channel read"
        return [Row(name, "", "", "", "", problem)]
    out = []
    for key, item in channels:
        if isinstance(item, str):
            out.append(Row(name, key, "", "", "", item))
            continue
        unit = item.tags.get("unit", "")
        out += [Row(name, key, f, _value(v), unit, "") for f, v in item.fields.items()]
    return out


class Table:
    """The latest rows of every device, in the order devices were first read."""

    def __init__(self) -> None:
        self.by_device: dict[str, list[Row]] = {}
        self.lock = threading.Lock()

    def add(self, device: DeviceSpec, outcome: object) -> None:
        rows = rows_of(device, outcome)
        with self.lock:
            self.by_device[device.label] = rows

    def rows(self) -> list[Row]:
        with self.lock:
            return [row for rows in self.by_device.values() for row in rows]

    def render(self) -> str:
        """A plain text table, columns aligned."""
        cells = [COLUMNS, *(row.cells() for row in self.rows())]
        widths = [max(len(line[i]) for line in cells) for i in range(len(COLUMNS))]
        return "".join("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() + "\n"
                       for line in cells)  # fmt: skip
