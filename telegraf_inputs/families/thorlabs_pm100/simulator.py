"""A simulated Thorlabs PM100D: SCPI on a TCP socket on 127.0.0.1, reached as a VISA ``SOCKET`` resource.

It answers the queries the family asks, long or short forms in any letter
case (``MEASure:POWer?``, ``meas:pow?``), ``*IDN?`` and ``SYST:ERR?``; accepts
``SENS:POW:UNIT W|DBM``, ``SENS:AVER:COUN n``, ``SENS:CORR:WAV nm``, ``*CLS`` and ``*RST``; an unknown command or query
gets no reply and ``-113,"Undefined header"`` in its error queue.  The power
drifts around ``watts``.

Faults (``faults``): ``silent``, ``garble_next``, ``cut_short_next``,
``no_sensor`` (power reads 9.91E+37); ``stop()`` refuses connections.

Run standalone:  python -m telegraf_inputs.families.thorlabs_pm100.simulator
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from ...simulators import ErrorQueue, LineServer, TextFaults, serve_on_a_port, stopwatch
from .protocol import NO_MEASUREMENT

IDN = "Thorlabs,PM100D,P0035093,2.8.1"
SENSOR = "S121C,19041904,05-APR-2019,1,18,289"  # name, serial, calibration, type, subtype, flags: the PM100D form


def scpi(*words: tuple[str, str]) -> str:
    """A regex for a SCPI header: each (short, rest) word accepts its short or long form."""
    return ":".join(f"{short}(?:{rest})?" if rest else short for short, rest in words)


PATTERNS = {
    "power": scpi(("MEAS", "URE"), ("POW", "ER")) + r"\?",
    "unit": scpi(("SENS", "E"), ("POW", "ER"), ("UNIT", "")) + r"\?",
    "set_unit": scpi(("SENS", "E"), ("POW", "ER"), ("UNIT", "")) + r"\s+(W|DBM)",
    "auto": scpi(("SENS", "E"), ("POW", "ER"), ("RANG", "E"), ("AUTO", "")) + r"\?",
    "wavelength": scpi(("SENS", "E"), ("CORR", "ECTION"), ("WAV", "ELENGTH")) + r"\?",
    "set_wavelength": scpi(("SENS", "E"), ("CORR", "ECTION"), ("WAV", "ELENGTH")) + r"\s+([0-9.]+)",
    "beam": scpi(("SENS", "E"), ("CORR", "ECTION"), ("BEAM", "DIAMETER")) + r"\?",
    "averages": scpi(("SENS", "E"), ("AVER", "AGE"), ("COUN", "T")) + r"\?",
    "set_averages": scpi(("SENS", "E"), ("AVER", "AGE"), ("COUN", "T")) + r"\s+(\d+)",
    "zero": scpi(("SENS", "E"), ("CORR", "ECTION"), ("COLL", "ECT"), ("ZERO", ""), ("MAGN", "ITUDE")) + r"\?",
    "error": scpi(("SYST", "EM"), ("ERR", "OR")) + r"\?",
    "sensor": scpi(("SYST", "EM"), ("SENS", "OR"), ("IDN", "")) + r"\?",
}
COMPILED = {name: re.compile(pattern, re.I) for name, pattern in PATTERNS.items()}


@dataclass
class Faults(TextFaults):
    no_sensor: bool = False  # power reads 9.91E+37


class Pm100Simulator(LineServer):
    title = "Thorlabs PM100D, SCPI on 127.0.0.1; prints the VISA resource"

    def banner(self) -> str:
        return f"simulated Thorlabs PM100D; Address: {self.address}"

    def __init__(self, port: int = 0) -> None:
        super().__init__(port)
        self.watts = 1.25e-3
        self.unit = "W"
        self.auto_range = True
        self.wavelength = 1064.0
        self.beam = 5.0
        self.averages = 10
        self.zero = 1.2e-9
        self.sensor = SENSOR  # a PM100D2/D3 quotes its three text items
        self.errors = ErrorQueue('0,"No error"', '-350,"Queue overflow"')
        self.faults: Faults = Faults()
        self.elapsed = stopwatch()

    @property
    def address(self) -> str:
        return f"TCPIP0::127.0.0.1::{self.port}::SOCKET"

    def answer(self, text: str) -> str | None:
        if text.upper() == "*IDN?":
            return IDN
        if text.upper() in ("*CLS", "*RST"):
            self.errors.clear()
            return None
        for name, pattern in COMPILED.items():
            match = pattern.fullmatch(text)
            if match is None:
                continue
            if name == "set_unit":
                self.unit = match.group(1).upper()
                return None
            if name == "set_wavelength":
                self.wavelength = float(match.group(1))
                return None
            if name == "set_averages":
                self.averages = int(match.group(1))
                return None
            if name == "error":
                return self.errors.pop()
            return self._value(name)
        self.errors.push('-113,"Undefined header"')
        return None

    def _value(self, name: str) -> str:
        if name == "power":
            if self.faults.no_sensor:
                return NO_MEASUREMENT
            watts = self.watts * (1 + 0.01 * math.sin(2 * math.pi * self.elapsed() / 30))
            value = 10 * math.log10(watts / 1e-3) if self.unit == "DBM" else watts
            return f"{value:.8E}"
        return {
            "unit": self.unit,
            "auto": "1" if self.auto_range else "0",
            "wavelength": f"{self.wavelength:.8E}",
            "beam": f"{self.beam:.8E}",
            "averages": str(self.averages),
            "zero": f"{self.zero:.8E}",
            "sensor": self.sensor,
        }[name]


main = serve_on_a_port(__spec__, Pm100Simulator)


if __name__ == "__main__":
    raise SystemExit(main())
