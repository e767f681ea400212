"""What both ends of a DR-528 line share.

The request is ``4`` and CR; the counter answers with a CSV header line and a
CSV data line: a time stamp, then eight particle sizes (counts, e.g. ``0.3(CF)``),
air temperature ``AT(C)`` and relative humidity ``RH(%)``.  This command and
layout are known only from the older logger, not from Met One's documentation,
so the parser takes what a real counter may add: CR LF or LF, a trailing comma,
fields past the header's.
"""

from __future__ import annotations

import math

REQUEST = b"4\r"
LINE_END = b"\n"
MAX_LINE = 1024
LABELS = ("0.3(CF)", "0.5(CF)", "0.7(CF)", "1.0(CF)", "2.0(CF)", "3.0(CF)", "5.0(CF)", "10.0(CF)", "AT(C)", "RH(%)")


class ReplyError(Exception):
    """A record that is not a header and a matching data line."""


def split(line: bytes) -> list[str]:
    """The line's fields; line ends, NULs and trailing empty fields (a trailing comma) left out."""
    fields = [field.strip() for field in line.decode("ascii").strip(" \t\r\n\0").split(",")]
    while len(fields) > 1 and not fields[-1]:
        fields.pop()
    return fields


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def parse_record(header_line: bytes, data_line: bytes) -> dict[str, float]:
    """Label -> value of one record (the first field, the time stamp, left out); ReplyError if it is not one."""
    try:
        header, data = split(header_line), split(data_line)
    except UnicodeDecodeError:
        raise ReplyError(
            f"record is not ASCII (garbled on the line?): {header_line[:80]!r} {data_line[:80]!r}"
        ) from None
    # a data line may carry fields past the header's (a status, a checksum): they have no label, and
    # the labelled ones keep their places, so they are left out; a shorter data line is refused
    data = data[: len(header)]
    if len(header) != len(data) or len(header) < 2:
        raise ReplyError(f"the header has {len(header)} fields and the data line {len(data)}: {data_line[:120]!r}")
    # the first column is the time stamp: a label that names no reading, over a value that is no number.
    # A record whose first field is a reading's label or a number is the tail of an earlier reply, read out of
    # step (its labels would put values under other channels): refused, never shifted into place
    if "(" in header[0] or _number(header[0]) or _number(data[0]):
        raise ReplyError(f"the record does not start with its time stamp (the tail of an earlier reply?): "
                         f"{header_line[:80]!r} {data_line[:80]!r}")  # fmt: skip
    labels = header[1:]
    if any(not label for label in labels) or len(set(labels)) != len(labels):
        raise ReplyError(f"the header's labels are not distinct names: {header_line[:120]!r}")
    record = {}
    for label, text in zip(labels, data[1:], strict=True):
        try:
            value = float(text)
        except ValueError:
            raise ReplyError(f"{label} is {text[:40]!r}, not a number") from None
        if not math.isfinite(value):
            raise ReplyError(f"{label} is {text[:40]!r}, not a number")
        record[label] = value
    return record


def format_record(stamp: str, values: dict[str, float]) -> bytes:
    header = ",".join(["Date/Time", *values])
    data = ",".join([stamp, *(f"{v:g}" if "(CF)" in k else f"{v:.1f}" for k, v in values.items())])
    return (header + "\r\n" + data + "\r\n").encode("ascii")
