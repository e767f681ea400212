"""What both ends of a wavelength meter's library share: the calls each channel Type makes, and the codes.

The vendor's library (``wlmData.dll`` on Windows, ``libwlmData.so`` on Linux, ``libwlmData.dylib`` on
macOS) exports C functions that ask the running WLM application (on this PC, or the one ``wlmData.ini``
names).  A request here is one such call as text, ``GetFrequencyNum 2``: the function and its integer
arguments; the library's worker process makes it (``worker.py``) and the simulated library answers it
(``simulator.py``).  A Get function returns its value, or an error code (a value <= 0); temperature and
pressure codes are offset by -1000.  Codes and prototypes: the vendor's wlmData headers and its own Python
binding (wlmData.py, as QMI ships it), and the older logger's binding (highfinesse.py).
"""

from __future__ import annotations

import sys

from ...vocabulary import Kind, Slot, Vocabulary

#: the channel Types: the call each makes (with the switch channel where it has one) and the simulator's answer
VOCABULARY = Vocabulary(
    Kind("Frequency", "GetFrequencyNum {channel}", "a switch channel's frequency, THz", "frequency"),
    Kind("Wavelength", "GetWavelengthNum {channel}", "a switch channel's vacuum wavelength, nm", "wavelength"),
    Kind("WavelengthAir", "GetWavelengthAirNum {channel}", "a switch channel's wavelength in air, nm",
         "wavelength_air"),
    Kind("Power", "GetPowerNum {channel}", "a switch channel's power, µW", "power"),
    Kind("Exposure", "GetExposureNum {channel}", "a switch channel's exposure of CCD array 1, ms", "exposure",
         field="integer"),
    Kind("Temperature", "GetTemperature", "the wavemeter's temperature, °C", "temperature"),
    Kind("Pressure", "GetPressure", "the air pressure in the wavemeter, mbar", "pressure"),
    slots={"channel": Slot("SwitchChannel", "[1-8]", "1 to 8", example="2")},
)  # fmt: skip

#: function -> (argument C types, result C type), from the vendor's prototypes (wlmData.py / wlmData.h):
#: double GetFrequencyNum(long num, double F), long GetExposureNum(long num, long arr, long E)...
PROTOTYPES = {
    "Instantiate": (("long", "long", "intptr", "long"), "intptr"),
    "GetFrequencyNum": (("long", "double"), "double"),
    "GetWavelengthNum": (("long", "double"), "double"),
    "GetPowerNum": (("long", "double"), "double"),
    "GetExposureNum": (("long", "long", "long"), "long"),
    "GetTemperature": (("double",), "double"),
    "GetPressure": (("double",), "double"),
    "ConvertUnit": (("double", "long", "long"), "double"),
}
INSTANTIATE_CHECK = -1  # cInstCheckForWLM: does a WLM run?  Returns 0 if not; changes nothing
RETURN_WAVELENGTH_VAC, RETURN_WAVELENGTH_AIR = 0, 1  # ConvertUnit's cReturnWavelengthVac, cReturnWavelengthAir
CCD_ARRAY_1 = 1

#: the Get functions' error codes (wlmConst: ErrNoValue ... ErrInfoAlreadyFetched)
ERRORS = {
    0: "ErrNoValue",
    -1: "ErrNoSignal",
    -2: "ErrBadSignal",
    -3: "ErrLowSignal",
    -4: "ErrBigSignal",
    -5: "ErrWlmMissing",
    -6: "ErrNotAvailable",
    -7: "InfNothingChanged",
    -8: "ErrNoPulse",
    -10: "ErrChannelNotAvailable",
    -13: "ErrDiv0",
    -14: "ErrOutOfRange",
    -15: "ErrUnitNotAvailable",
    -26: "ErrTCPErr",
    -28: "ErrParameterOutOfRange",
    -29: "ErrStringTooLong",
    -30: "ErrInterruptedByUser",
    -31: "ErrInfoAlreadyFetched",
}
TEMPERATURE_OFFSET = -1000  # GetTemperature and GetPressure report ErrTemperature + code


class CallError(Exception):
    """A request that is not a call this family makes."""


def parse_call(request: str) -> tuple[str, list[int]]:
    """``GetFrequencyNum 2`` -> the function and its integer arguments; CallError if it is no known call."""
    name, *args = request.split()
    if name not in PROTOTYPES and name != "GetWavelengthAirNum":
        raise CallError(f"{name!r} is not a call of the wavemeter's library")
    try:
        return name, [int(a) for a in args]
    except ValueError:
        raise CallError(f"{request!r}: the arguments are integers") from None


def error_of(request: str, value: float) -> str | None:
    """The name of the error code ``value`` is, or None if it is a measurement (> 0)."""
    if value > 0:
        return None
    offset = TEMPERATURE_OFFSET if request in ("GetTemperature", "GetPressure") and value <= -1000 else 0
    code = round(value - offset)
    name = ERRORS.get(code, "an unknown code")
    return f"{name} ({value:g})"


def default_library() -> str:
    """The vendor library's name on this platform, found where the system looks for libraries."""
    if sys.platform == "win32":
        return "wlmData.dll"
    return "libwlmData.dylib" if sys.platform == "darwin" else "libwlmData.so"
