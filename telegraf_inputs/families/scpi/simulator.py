"""A made-up SCPI instrument on a TCP socket that answers the queries a config asks, so a config can be tried.

Every query it is given an answer for (``answers``: query -> reply text, or a
function making one) is answered; ``*IDN?`` with ``idn``, ``*OPC?`` with 1, the
error query (``SYST:ERR?`` and whatever ``error_query`` is) from its error
queue.  Messages without a ``?`` are accepted.  A query it does not know gets no
reply and queues ``-113,"Undefined header"``, as SCPI instruments do.  Several
queries joined with ``;`` in one message are answered in one reply joined with
``;``.

``replies_for`` makes a plausible reply for the channels that share one query:
one that each channel's own parsing (Regex, Index, FieldType) accepts, checked
with the driver's ``extract``.  Values drift slowly, so a dashboard shows a line.

Faults, each for the next reply: ``error_next`` (an error reply instead of
data), ``garble_next`` (the reply's digits replaced by ``#``), ``cut_short_next``
(half the reply and no terminator), and ``silent`` (no reply at all).

Run standalone:  python -m telegraf_inputs.families.scpi.simulator --answer "MEAS:TEMP?=+2.345E+01"
"""

from __future__ import annotations

import argparse
import importlib
import math
import time
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ...lan_sim import LanServed
from ...lineprotocol import FieldValue
from ...scpi import split_units
from ...simulators import ErrorQueue, LineServer, TextFaults, network_command_line, run_standalone
from .protocol import ParseError, Parsing, extract

Answer = str | Callable[[], str]
UNDEFINED_HEADER = '-113,"Undefined header"'
NO_ERROR = '+0,"No error"'
DEFAULT_IDN = "telegraf-lab,simulated SCPI instrument,0,1.0"

# --------------------------------------------------------------------------- made-up replies

_parser: Any = importlib.import_module("re._parser")  # the regex parse tree, to write a string a Regex matches

_CATEGORY_CHAR = {
    "CATEGORY_DIGIT": "0",
    "CATEGORY_NOT_DIGIT": "x",
    "CATEGORY_SPACE": " ",
    "CATEGORY_NOT_SPACE": "x",
    "CATEGORY_WORD": "a",
    "CATEGORY_NOT_WORD": " ",
}


def _in_class(items: Sequence[tuple[Any, Any]], char: str) -> bool:
    code = ord(char)
    for op, av in items:
        name = str(op)
        if name == "LITERAL" and av == code or name == "RANGE" and av[0] <= code <= av[1]:
            return True
        if name == "CATEGORY":
            tests = {"CATEGORY_DIGIT": char.isdigit(), "CATEGORY_SPACE": char.isspace(),
                     "CATEGORY_WORD": char.isalnum() or char == "_"}  # fmt: skip
            kind = str(av)
            positive = kind.replace("_NOT", "")
            if tests.get(positive, False) != ("_NOT_" in kind):
                return True
    return False


def _one_of(items: Sequence[tuple[Any, Any]]) -> str:
    if items and str(items[0][0]) == "NEGATE":
        return next(c for c in "x#a0 Z~" if not _in_class(items[1:], c))
    op, av = items[0]
    name = str(op)
    if name == "LITERAL":
        return chr(av)
    if name == "RANGE":
        return chr(av[0])
    return _CATEGORY_CHAR.get(str(av), "x")


def _write(items: Any, value: str | None, groups: dict[int, str]) -> str:
    """A string the parsed pattern ``items`` matches, with ``value`` as group 1 (if given)."""
    out = []
    for op, av in items:
        name = str(op)
        if name == "LITERAL":
            out.append(chr(av))
        elif name == "NOT_LITERAL":
            out.append("x" if chr(av) != "x" else "y")
        elif name == "ANY":
            out.append("x")
        elif name == "IN":
            out.append(_one_of(av))
        elif name == "BRANCH":
            out.append(_write(av[1][0], value, groups))
        elif name == "SUBPATTERN":
            group, _, _, sub = av
            text = value if group == 1 and value is not None else _write(sub, value, groups)
            if group is not None:
                groups[group] = text
            out.append(text)
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            low, _, sub = av
            out.append("".join(_write(sub, value, groups) for _ in range(low)))
        elif name == "ATOMIC_GROUP":
            out.append(_write(av, value, groups))
        elif name == "GROUPREF":
            out.append(groups.get(av, ""))
        # AT (anchors), ASSERT, ASSERT_NOT, GROUPREF_EXISTS: nothing to write
    return "".join(out)


def regex_example(pattern: str, value: str | None) -> str:
    """A string ``pattern`` matches, its first group ``value`` where the pattern allows (checked by the caller)."""
    return _write(_parser.parse(pattern), value, {})


def _drift(query: str, t: float) -> float:
    base = 1 + zlib.crc32(query.encode()) % 90  # each query its own level, the same in every run
    return base + 0.05 * base * math.sin(2 * math.pi * t / 300)


def _value_texts(parsing: Parsing, query: str, t: float) -> list[str]:
    """Texts of a plausible value of ``parsing``'s type, most natural first."""
    if parsing.field_type == "boolean":
        return [*parsing.true_replies, *parsing.false_replies]
    if parsing.field_type == "string":
        return ["OK", "A", "ok", "1"]
    value = _drift(query, t)
    if parsing.field_type == "integer":
        return [str(round(value)), f"+{round(value)}"]
    return [f"{value:+.6E}", f"{value:.4f}", str(round(value))]


def _candidates(parsing: Parsing, others: Sequence[Parsing], query: str, t: float) -> list[str]:
    texts = _value_texts(parsing, query, t)
    if parsing.regex is not None:
        return [regex_example(parsing.regex.pattern, text) for text in texts] + [
            regex_example(parsing.regex.pattern, None)
        ]
    if parsing.index is not None:
        indexed = {p.index: p for p in others if p.index is not None and p.separator == parsing.separator}
        size = max(indexed) + 1
        replies = []
        for text in texts:
            items = [_value_texts(indexed[i], query, t)[0] if i in indexed else "0" for i in range(size)]
            items[parsing.index] = text
            replies.append(parsing.separator.join(items))
        return replies
    return texts


def reply_for(parsings: Sequence[Parsing], query: str, t: float | None = None) -> str | None:
    """A reply to ``query`` that every channel's parsing accepts, or None if none was found."""
    now = time.time() if t is None else t
    for parsing in parsings:
        for candidate in _candidates(parsing, parsings, query, now):
            if _accepted(candidate, parsings):
                return candidate
    return None


def _accepted(reply: str, parsings: Sequence[Parsing]) -> bool:
    try:
        values: list[FieldValue] = [extract(reply, p) for p in parsings]
    except ParseError:
        return False
    return all(not isinstance(v, float) or math.isfinite(v) for v in values)


# --------------------------------------------------------------------------- the instrument


@dataclass
class Faults(TextFaults):
    error_next: bool = False  # the next query is answered with an error reply


class ScpiSimulator(LineServer, LanServed):
    """A SCPI instrument answering ``answers`` on 127.0.0.1; ``address`` is its VISA SOCKET resource
    (``serve_vxi11()`` and ``serve_hislip()`` give it a VXI-11 or HiSLIP one as well)."""

    def __init__(
        self,
        answers: Mapping[str, Answer],
        *,
        idn: str = DEFAULT_IDN,
        error_query: str | None = None,
        read_termination: str = "\n",
        write_termination: str = "\n",
        port: int = 0,
        latency_s: float = 0.0,
    ) -> None:
        super().__init__(port, latency_s)  # latency_s: the instrument's time to answer a message (the benchmarks' L)
        self.answers = {self._key(q): a for q, a in answers.items()}
        self.idn = idn
        self.error_queries = {"SYST:ERR?", "SYSTEM:ERROR?", "SYST:ERR:NEXT?"} | (
            {self._key(error_query)} if error_query else set()
        )
        self.reply_end = read_termination.encode("ascii")  # what the driver reads to
        self.message_end = write_termination.encode("ascii")  # what the driver ends its messages with
        self.faults: Faults = Faults()
        self.errors = ErrorQueue(NO_ERROR, '-350,"Queue overflow"')

    @staticmethod
    def _key(query: str) -> str:
        return " ".join(query.split()).upper().lstrip(":")

    @property
    def address(self) -> str:
        return f"TCPIP0::127.0.0.1::{self.port}::SOCKET"

    def stop(self) -> None:
        self.stop_gateways()
        super().stop()

    def answer(self, message: str) -> str | None:
        return self.respond(message)

    def respond(self, message: str) -> str | None:
        """The reply to one message, or None when it asks nothing (or only what is unknown)."""
        parts = []
        for unit in split_units(message):
            unit = unit.strip().lstrip(":")
            if "?" not in unit:
                continue  # a command: accepted
            reply = self._answer(self._key(unit))
            if reply is not None:
                parts.append(reply)
        return ";".join(parts) if parts else None

    def _answer(self, query: str) -> str | None:
        if query in self.error_queries:
            return self.errors.pop()
        if self.faults.error_next:
            self.faults.error_next = False
            return UNDEFINED_HEADER
        if query == "*IDN?":
            reply = self.idn
        elif query == "*OPC?":
            reply = "1"
        elif query in self.answers:
            answer = self.answers[query]
            reply = answer() if callable(answer) else answer
        else:
            self.errors.push(UNDEFINED_HEADER)
            return None
        return reply


def main(argv: list[str] | None = None) -> int:
    def answer(item: str) -> tuple[str, str]:
        query, sep, reply = item.partition("=")
        if not sep:
            raise argparse.ArgumentTypeError(f"{item!r}: expected QUERY=REPLY")
        return query, reply

    def options(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--answer", action="append", default=[], type=answer, metavar="QUERY=REPLY",
                            help="a query and its reply")  # fmt: skip

    args = network_command_line(__spec__, "SCPI instrument (made up) on a TCP port; prints the VISA resource", argv,
                                options)  # fmt: skip
    answers = dict(args.answer)
    sim = ScpiSimulator(answers, port=args.port).start()
    lan = f"; over VXI-11: {sim.serve_vxi11().address}; over HiSLIP: {sim.serve_hislip().address}"
    return run_standalone(f"simulated SCPI instrument; Address: {sim.address}{lan}", sim.stop)


if __name__ == "__main__":
    raise SystemExit(main())
