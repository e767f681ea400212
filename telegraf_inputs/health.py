"""Device health in the data (``--health``): one ``lab_device`` line per device and gather.

Tags ``device``, ``family``, ``model``; fields ``up`` (every channel of the
device read), ``read_seconds``, ``consecutive_failures``, ``error`` (empty when
up, else one reason code) and ``message`` (the last error's text, one bounded
line with secrets redacted, empty when up).  A device skipped as still busy,
or whose connection cannot be opened, gets its line all the same: silence in
the data means the process is gone, not that a device is.
"""

from __future__ import annotations

import re

from .lineprotocol import Metric
from .logs import one_line, redactor

MEASUREMENT = "lab_device"
MAX_MESSAGE = 300  # characters of the error's text in a health line

#: the reason codes, in the order they are tried on an error's text (the first that matches names it)
CODES = ("deadline", "config", "disconnected", "timeout", "overload", "refused", "garbled")
_RULES = (
    ("deadline", r"deadline|still busy"),
    ("config", r"unit tag|not convertible|not a unit|no channel of this device was accepted|VISAIDN expects"),
    ("refused", r"HTTP [45]\d\d|negative reply|\bNAK\b|error reply|error queue|refused the"),
    (
        "disconnected",
        r"cannot (connect|open)|connection (was )?(lost|closed|reset|refused)|connection refused"
        r"|unplugged|no such (file|device)|not found among|serial port .* failed|broken pipe"
        r"|dropped by|disconnected|could not open port|network is unreachable|name or service"
        r"|VI_ERROR_IO|VI_ERROR_CONN_LOST|connection is not answering",
    ),  # fmt: skip
    ("garbled", r"cut short|garbled|checksum|\bCRC\b|\bBCC\b|not ASCII|half a frame"),
    ("timeout", r"no reply|no whole reply|timed? ?out|VI_ERROR_TMO|did not come"),
    (
        "overload",
        r"overload|over range|over-range|no measurement|9\.9\d*E\+37|ion gauge is off|no diode"
        r"|outside its calibration|stale|open input",
    ),  # fmt: skip
    ("refused", r"refused|invalid|\berror\b"),
    ("garbled", r"garbled|not a number|not ASCII|checksum|cut short|number\(s\)|without its end|unexpected"),
)
_COMPILED = tuple((code, re.compile(pattern, re.I)) for code, pattern in _RULES)


def classify(message: str) -> str:
    """The reason code of an error's text (``garbled`` when nothing more particular matches)."""
    for code, pattern in _COMPILED:
        if pattern.search(message):
            return code
    return "garbled"


def line(device: str, family: str, model: str, *, up: bool, read_seconds: float, failures: int, message: str,
         time_ns: int) -> Metric:  # fmt: skip
    """The ``lab_device`` metric of one device for one gather."""
    text = "" if up else one_line(redactor.clean(message), MAX_MESSAGE)
    return Metric(
        MEASUREMENT,
        {
            "up": up,
            "read_seconds": round(max(read_seconds, 0.0), 6),
            "consecutive_failures": failures,
            "error": "" if up else classify(message),
            "message": text,
        },
        {"device": device, "family": family, "model": model},
        time_ns,
    )
