"""A simulated wavelength meter, answering the vendor library's calls without any library or compiler.

``--simulate`` runs it in the library's worker process (``worker.py``, library ``simulated``), so a devices
file with HighFinesse entries reads on every platform.  Eight switch channels; channel 1 is a 1064 nm laser
(281.6 THz), the others further up the spectrum; channel 8 has no light (ErrLowSignal).  The values drift
slowly with its clock (``simulators.stopwatch``).  ``TELEGRAF_LAB_WLM_ERRORS`` (``GetPowerNum 3=-4,...``)
makes calls answer error codes, for trying a configuration's failing channels.
"""

from __future__ import annotations

import math
import os

from ...simulators import stopwatch
from .protocol import CallError

C_NM_THZ = 299_792.458  # c in nm * THz
ERRORS_VARIABLE = "TELEGRAF_LAB_WLM_ERRORS"
NO_LIGHT_CHANNEL = 8
ERR_LOW_SIGNAL = -3


class SimulatedLibrary:
    """The Get functions of wlmData, answered from a simulated WS/7 with an 8-channel switch."""

    def __init__(self, errors: dict[str, float] | None = None) -> None:
        self.thz = {n: 281.6 + 20.0 * (n - 1) for n in range(1, 9)}
        self.errors = dict(errors or {})
        self.elapsed = stopwatch()

    @classmethod
    def from_environment(cls) -> SimulatedLibrary:
        errors = {}
        for item in os.environ.get(ERRORS_VARIABLE, "").split(","):
            request, _, code = item.partition("=")
            if request.strip() and code.strip():
                errors[request.strip()] = float(code)
        return cls(errors)

    def call(self, name: str, *args: float) -> float:
        channel = int(args[0]) if args and name.endswith("Num") else 0
        asked = f"{name} {channel}" if channel else name
        if asked in self.errors:
            return self.errors[asked]
        if name == "Instantiate":
            return 1
        if channel == NO_LIGHT_CHANNEL or (channel and channel not in self.thz):
            return ERR_LOW_SIGNAL if channel == NO_LIGHT_CHANNEL else -10  # ErrChannelNotAvailable
        drift = 1 + 1e-7 * math.sin(2 * math.pi * self.elapsed() / 60)
        answers = {
            "GetFrequencyNum": lambda: self.thz[channel] * drift,
            "GetWavelengthNum": lambda: C_NM_THZ / (self.thz[channel] * drift),
            "GetPowerNum": lambda: 153.2 / channel,
            "GetExposureNum": lambda: float(4 + channel),
            "GetTemperature": lambda: 24.31 + 0.01 * math.sin(2 * math.pi * self.elapsed() / 600),
            "GetPressure": lambda: 1003.4,
            "ConvertUnit": lambda: args[0] / 1.000273,  # vacuum to air, at the simulated air's index
        }
        if name not in answers:
            return -6  # ErrNotAvailable
        return float(answers[name]())

    # its vocabulary's answers (tests/families/test_vocabulary.py asks each)
    def answer(self, request: str) -> str | None:
        """The reply the worker would write for ``request`` (None for no call of the library)."""
        from .worker import answer

        try:
            return repr(answer(self, request))
        except CallError:
            return None
