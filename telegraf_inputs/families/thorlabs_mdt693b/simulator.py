"""A simulated Thorlabs MDT693B on a pty, as its USB virtual serial port looks to the computer.

Answers ``xvoltage?`` (``y``, ``z``), ``xmin?``, ``xmax?``, ``vlimit?`` with
``[value]`` CR and the prompt ``>``; ``xvoltage=V`` sets an output (refused
above the limit); anything else gets ``CMD_NOT_DEFINED``.  With ``echo`` the
command comes back first, as with the controller's echo on.  Only at its line
settings (115200 8N1), after the bytes' transmission time.

Faults (``faults``): ``silent``, ``delay_s``, ``error_next``, ``garble_next``,
``cut_short_next`` (the prompt never comes); ``vanish`` / ``reappear``.

Run standalone:  python -m telegraf_inputs.families.thorlabs_mdt693b.simulator --link /tmp/piezo
"""

from __future__ import annotations

import re
from typing import Any

from ...serial_sim import LineSimulator
from .protocol import COMMAND_END, PROMPT, VOCABULARY, format_value

NOT_DEFINED = b"CMD_NOT_DEFINED\r" + PROMPT


class Mdt693bSimulator(LineSimulator):
    name = "mdt693b-sim"
    title = "Thorlabs MDT693B"
    default_line = (115200, 8, "N", 1)
    request_end = COMMAND_END
    error_answer = NOT_DEFINED
    vocabulary = VOCABULARY

    def __init__(
        self,
        *,
        echo: bool = False,
        **line: Any,
    ) -> None:
        super().__init__(**line)
        self.echo = echo
        self.volts = {"x": 24.8, "y": 37.5, "z": 0.0}
        self.limits = {axis: (0.0, 150.0) for axis in self.volts}
        self.vlimit = 150.0

    def respond(self, request: bytes) -> bytes | None:
        text = request.decode("ascii", "replace").strip()
        reply = self.answer(text) or b""
        return (text.encode() + b"\r" if self.echo else b"") + reply

    # the answers of its vocabulary's rows
    def voltage(self, axis: str) -> bytes:
        return format_value(self.volts[axis]) + PROMPT

    def lower_limit(self, axis: str) -> bytes:
        return format_value(self.limits[axis][0]) + PROMPT

    def upper_limit(self, axis: str) -> bytes:
        return format_value(self.limits[axis][1]) + PROMPT

    def output_limit(self) -> bytes:
        return format_value(self.vlimit) + PROMPT

    def unlisted(self, text: str) -> bytes:
        if match := re.fullmatch(r"([xyz])voltage=([0-9.]+)", text):
            value = float(match.group(2))
            if value > self.vlimit:
                return NOT_DEFINED
            self.volts[match.group(1)] = value
            return PROMPT
        return NOT_DEFINED


main = Mdt693bSimulator.standalone


if __name__ == "__main__":
    raise SystemExit(main())
