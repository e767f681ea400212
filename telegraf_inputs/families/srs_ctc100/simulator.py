"""A simulated SRS CTC100 on a pty, as its USB virtual serial port looks to the computer.

Answers ``<name>?`` and ``<name>.value?`` for its channels (``In1``-``In4``,
``Out1``, ``Out2``, ``AIO1``... and any renamed with ``names``),
``<name>.PID.Setpoint?`` for outputs, ``getOutput?``, ``getOutput.names?``,
``geterror?`` and ``*IDN?``; each reply ends in CR LF and comes after the line's
transmission time, only at the line's settings (9600 8N1 by default).  A
command it does not know is answered ``Error: invalid command`` and sets the
``geterror?`` code (the real instrument's text for this is not documented).

Faults (``faults``): ``silent``, ``delay_s``, ``error_next``, ``garble_next``,
``cut_short_next``; ``open_sensors`` (their value reads NaN); ``vanish`` /
``reappear``.

Run standalone:  python -m telegraf_inputs.families.srs_ctc100.simulator --link /tmp/ctc100
"""

from __future__ import annotations

import math
from typing import Any

from ...serial_sim import LineSimulator
from ...simulators import ErrorQueue, stopwatch
from .protocol import COMMAND_END, REPLY_END, VOCABULARY, format_number, remote_name

ERROR = b"Error: invalid command" + REPLY_END


class Ctc100Simulator(LineSimulator):
    name = "ctc100-sim"
    title = "SRS CTC100"
    request_end = COMMAND_END
    error_answer = ERROR
    vocabulary = VOCABULARY

    def banner(self) -> str:
        return f"simulated SRS CTC100 ({', '.join(self.values)}); Address: {self.path}"

    def __init__(
        self,
        *,
        names: dict[str, str] | None = None,
        **line: Any,
    ) -> None:
        super().__init__(**line)
        self.values = {"In1": 4.12, "In2": 45.3, "In3": 77.1, "In4": 295.2, "Out1": 0.35, "Out2": 0.0, "AIO1": 1.25}
        self.setpoints = {"Out1": 4.0, "Out2": 10.0}
        for old, new in (names or {}).items():  # channels renamed on the panel
            self.values[remote_name(new)] = self.values.pop(old)
            if old in self.setpoints:
                self.setpoints[remote_name(new)] = self.setpoints.pop(old)
        self.open_sensors: set[str] = set()
        self.custom: dict[str, float] = {}  # further queries it answers (a config's Custom ones, with --simulate)
        self.errors = ErrorQueue("0,NO ERROR", size=1)  # geterror? tells the last error
        self.elapsed = stopwatch()

    def _value(self, name: str) -> float:
        if name in self.open_sensors:
            return math.nan
        t = self.elapsed()
        return self.values[name] * (1 + 0.005 * math.sin(2 * math.pi * t / 300))

    # the answers of its vocabulary's rows
    def value(self, name: str) -> bytes:
        return format_number(self._value(name)) if name in self.values else self.refuse()

    def setpoint(self, name: str) -> bytes:
        return format_number(self.setpoints[name]) if name in self.setpoints else self.refuse()

    def answer(self, text: str) -> bytes | None:
        # the instrument's own commands first: "{name}?" would take "geterror?" for a channel's name
        if text == "*IDN?":
            return b"Stanford_Research_Systems,CTC100,s/n100123,ver4.30" + REPLY_END
        if text == "geterror?":
            return self.errors.pop().encode("ascii") + REPLY_END
        if text == "getOutput.names?":
            return ", ".join(self.values).encode("ascii") + REPLY_END
        if text == "getOutput?":
            return b", ".join(format_number(self._value(n)).strip() for n in self.values) + REPLY_END
        if text in self.custom:  # a config's Custom queries, with --simulate
            return format_number(self.custom[text])
        return super().answer(text)

    def unlisted(self, text: str) -> bytes | None:
        if text.endswith(".value?"):  # the long form of <name>?
            return self.value(text.removesuffix(".value?"))
        return self.refuse()

    def refuse(self) -> bytes:
        self.errors.push("5,Invalid command")
        return ERROR


main = Ctc100Simulator.standalone


if __name__ == "__main__":
    raise SystemExit(main())
