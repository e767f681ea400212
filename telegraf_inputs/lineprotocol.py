"""Encode metrics as InfluxDB line protocol.

Escaping follows the InfluxDB v2 line protocol reference and what Telegraf's
parser does: in a measurement, comma and space are escaped; in tag keys, tag
values and field keys, comma, equals sign and space are escaped; any other
backslash is taken literally.  String field values are double-quoted with
double quote and backslash escaped.

Some names have no unambiguous encoding (a backslash at the end, or right
before a character that needs escaping, or a control character); those raise
``ValueError`` here, and the config loader rejects them before start-up.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

FieldValue = float | int | bool | str
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


@dataclass(frozen=True)
class Metric:
    """One point: measurement, tags, fields and a timestamp in nanoseconds."""

    measurement: str
    fields: Mapping[str, FieldValue]
    tags: Mapping[str, str] = field(default_factory=dict)
    time_ns: int | None = None


def check_name(text: str, what: str, specials: str = ",= ") -> None:
    """Raise ValueError if ``text`` cannot be written unambiguously as a name."""
    if not text:
        raise ValueError(f"{what} is empty")
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise ValueError(f"{what} {text!r} contains a control character")
    # Telegraf reads "\\\\" as two backslashes where InfluxDB reads one, and unescapes '\\"' in field keys
    if text.endswith("\\") or any(f"\\{c}" in text for c in specials + '\\"'):
        raise ValueError(
            f"{what} {text!r} has a backslash at its end, before another backslash, a double quote or one of "
            f"{specials!r}, which line protocol cannot carry unambiguously"
        )


def _escaper(specials: str):
    table = str.maketrans({c: "\\" + c for c in specials})
    # The same names come back every gather: remember each checked, escaped name.
    done: dict[str, str] = {}

    def escape(text: str, what: str) -> str:
        escaped = done.get(text)
        if escaped is None:
            check_name(text, what, specials)
            escaped = text.translate(table)
            if len(done) < 20_000:  # bounded: string tag values may vary without end
                done[text] = escaped
        return escaped

    return escape


_escape_measurement = _escaper(", ")
_escape_key = _escaper(",= ")
_STRING_TABLE = str.maketrans({"\\": "\\\\", '"': '\\"'})


def _format_value(key: str, value: FieldValue) -> str:
    # bool before int: bool is a subclass of int.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        if not INT64_MIN <= value <= INT64_MAX:
            raise ValueError(f"integer field {key!r} is {value}, outside the 64-bit range line protocol carries")
        return f"{value}i"
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"field {key!r} is {value}, which line protocol cannot carry")
        return repr(value)
    if isinstance(value, str):
        if "\n" in value or "\r" in value or "\x00" in value:
            raise ValueError(f"string field {key!r} contains a line break or NUL byte")
        return '"' + value.translate(_STRING_TABLE) + '"'
    raise TypeError(f"field {key!r} has unsupported type {type(value).__name__}")


def encode(metric: Metric) -> str:
    """Return ``metric`` as one line of line protocol, without the newline."""
    if metric.measurement.startswith("#"):
        raise ValueError(f"measurement {metric.measurement!r} starts with '#', which marks a comment")
    if not metric.fields:
        raise ValueError(f"metric {metric.measurement!r} has no fields")
    parts = [_escape_measurement(metric.measurement, "measurement")]
    for key in sorted(metric.tags):
        parts.append(f",{_escape_key(key, 'tag key')}={_escape_key(metric.tags[key], 'tag value')}")
    fields = []
    for key, value in metric.fields.items():
        fields.append(f"{_escape_key(key, 'field key')}={_format_value(key, value)}")
    line = "".join(parts) + " " + ",".join(fields)
    if metric.time_ns is not None:
        if not 0 <= metric.time_ns <= INT64_MAX:
            raise ValueError(f"time stamp {metric.time_ns} ns is outside 1970-2262, which line protocol carries")
        line += f" {int(metric.time_ns)}"
    return line


def encode_batch(metrics: Iterable[Metric]) -> str:
    """Return all metrics as newline-terminated lines, ready to write at once."""
    return "".join(encode(m) + "\n" for m in metrics)
