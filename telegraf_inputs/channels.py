"""Turn raw channel readings into metrics: multiplier, converter, tags."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

from .base import Reading
from .config import DeviceConfig
from .lineprotocol import INT64_MAX, INT64_MIN, Metric


@dataclass(frozen=True)
class Rejected:
    """A reading that is not emitted, and why."""

    channel: str
    reason: str
    level: int = logging.WARNING  # ERROR when the read failed, WARNING when the value is unusable


def apply(device: DeviceConfig, reading: Reading) -> Metric | Rejected:
    """Return the metric for one reading, or why it cannot be emitted.

    Numbers are multiplied by the channel's ``Multiplier`` and then passed
    through its polynomial ``Converter``; a result that is not finite is never
    emitted.  Booleans and strings pass through unchanged, and so do the
    reading's ``extra`` fields.
    """
    ch = reading.channel
    if reading.problem is not None:
        return Rejected(ch.key, reading.problem, logging.ERROR if reading.failed else logging.WARNING)
    value = reading.value
    if value is None:
        return Rejected(ch.key, "no value")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:  # an integer beyond any float
            return Rejected(ch.key, f"the instrument returned {str(value)[:40]}..., not a number a field carries")
        if not math.isfinite(number):
            return Rejected(ch.key, f"the instrument returned {number}")
        if ch.multiplier != 1.0 or ch.converter is not None or isinstance(value, float):
            number = number * ch.multiplier
            if ch.converter is not None:
                try:
                    number = ch.converter(number)
                except OverflowError:
                    number = math.inf
            if not math.isfinite(number):
                return Rejected(ch.key, f"Multiplier/Converter turned {value!r} into {number}")
            value = number
    if isinstance(value, int) and not isinstance(value, bool) and not INT64_MIN <= value <= INT64_MAX:
        return Rejected(ch.key, f"the integer {value} does not fit a 64-bit field", logging.ERROR)
    if not 0 <= reading.time_ns <= INT64_MAX:
        return Rejected(ch.key, f"time stamp {reading.time_ns} ns is not a time line protocol carries", logging.ERROR)
    tags = {"device": device.name, **device.tags, **ch.tags}
    fields = {ch.field_key: value, **{f"{ch.field_key}_{name}": extra for name, extra in reading.extra.items()}}
    return Metric(device.measurement, fields, tags, reading.time_ns)
