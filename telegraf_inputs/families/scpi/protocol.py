"""What both ends share: how a channel's value is taken from the reply to its Query.

A ``Parsing`` says where the value is -- the first group of ``regex``, the
``index``-th item of the reply split at ``separator``, or the whole reply -- and
what it is (``float``, ``integer``, ``boolean`` with its reply strings, or
``string``).  ``extract`` applies it and raises ``ParseError`` with a bounded
excerpt of the reply when the reply does not fit; the driver reads with it and
the simulator checks its made-up replies with it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from ...lineprotocol import FieldValue
from ...logs import excerpt

FIELD_TYPES = ("float", "integer", "boolean", "string")
TRUE_REPLIES = ("1", "ON", "TRUE", "YES")
FALSE_REPLIES = ("0", "OFF", "FALSE", "NO")
#: queries joined in one message are at most this long (instruments' input buffers are small)
MAX_JOINED = 240
MAX_STRING = 1024  # the longest string field written; a longer value is an error, not a truncation


class ParseError(Exception):
    """The reply does not hold the channel's value; the message shows it (bounded)."""


@dataclass(frozen=True)
class Parsing:
    """Where a channel's value is in its reply, and what type it is."""

    regex: re.Pattern[str] | None = None
    index: int | None = None
    separator: str = ","
    field_type: str = "float"
    true_replies: tuple[str, ...] = TRUE_REPLIES
    false_replies: tuple[str, ...] = FALSE_REPLIES

    def describe(self) -> str:
        where = (
            f"group 1 of {self.regex.pattern!r}"
            if self.regex is not None
            else f"item {self.index} split at {self.separator!r}"
            if self.index is not None
            else "the whole reply"
        )
        return f"{self.field_type} from {where}"


def convert(text: str, parsing: Parsing) -> FieldValue:
    """The value of ``text`` as the channel's field type; ParseError if it is not one."""
    kind = parsing.field_type
    value = text.strip()
    if kind == "string":
        if len(value) > MAX_STRING:
            raise ParseError(f"a string of {len(value)} characters, longer than {MAX_STRING}")
        return value
    if kind == "boolean":
        upper = value.upper()
        if upper in (t.upper() for t in parsing.true_replies):
            return True
        if upper in (f.upper() for f in parsing.false_replies):
            return False
        raise ParseError(
            f"{excerpt(value, 80)!r} is neither a true reply ({', '.join(parsing.true_replies)}) "
            f"nor a false one ({', '.join(parsing.false_replies)})"
        )
    number = value
    if kind == "integer":
        if re.fullmatch(r"[+-]?\d{1,19}", number):
            return int(number)
        try:
            as_float = float(number)
        except ValueError:
            raise ParseError(f"{excerpt(value, 80)!r} is not a whole number") from None
        if not math.isfinite(as_float) or not as_float.is_integer() or abs(as_float) >= 2**63:
            raise ParseError(f"{excerpt(value, 80)!r} is not a whole number a field can carry")
        return int(as_float)
    if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|[+-]?(nan|inf|infinity)", number, re.I):
        raise ParseError(f"{excerpt(value, 80)!r} is not a number")
    return float(number)


def extract(reply: str, parsing: Parsing) -> FieldValue:
    """The channel's value from ``reply``; ParseError (showing the reply, bounded) if it is not there."""
    if parsing.regex is not None:
        match = parsing.regex.search(reply)
        if match is None:
            raise ParseError(f"Regex {parsing.regex.pattern!r} does not match the reply {excerpt(reply, 200)!r}")
        text = match.group(1)
        if text is None:
            raise ParseError(f"the group of Regex {parsing.regex.pattern!r} took no part in the match")
    elif parsing.index is not None:
        items = reply.split(parsing.separator)
        if parsing.index >= len(items):
            raise ParseError(
                f"Index {parsing.index} is out of range: the reply has {len(items)} item(s) split at "
                f"{parsing.separator!r}: {excerpt(reply, 200)!r}"
            )
        text = items[parsing.index]
    else:
        text = reply
    try:
        return convert(text, parsing)
    except ParseError as exc:
        raise ParseError(f"{exc} (reply {excerpt(reply, 200)!r})") from None
