"""The wavemeter library's calls, in a process of their own: a hang or a crash in the vendor's library ends
this process, never telegraf-lab and its other devices (the driver stops a process that does not answer
within the device's Timeout, and starts another at the next gather).

``python -m telegraf_inputs.families.highfinesse.worker LIBRARY`` (a path, a name the system finds, or
``simulated``).  It first writes ``{"ready": true}``, or ``{"error": ...}`` and ends; then for each request
line on stdin (``GetFrequencyNum 2``) one JSON line on stdout: ``{"value": x}`` or ``{"error": ...}``.
Only Get functions and ``Instantiate`` in its checking mode are called: nothing is set on the instrument.
"""

from __future__ import annotations

import ctypes
import json
import os
import sys
from typing import Any, Protocol

from .protocol import (
    CCD_ARRAY_1,
    INSTANTIATE_CHECK,
    PROTOTYPES,
    RETURN_WAVELENGTH_AIR,
    RETURN_WAVELENGTH_VAC,
    CallError,
    parse_call,
)

SIMULATED = "simulated"
MAX_REQUEST = 256
C_TYPES: dict[str, Any] = {"long": ctypes.c_int32, "double": ctypes.c_double, "intptr": ctypes.c_ssize_t}


class Calls(Protocol):
    def call(self, name: str, *args: float) -> float: ...


class Library:
    """The vendor's library through ctypes: WinDLL on Windows (stdcall), CDLL elsewhere, each function with
    its prototype."""

    def __init__(self, path: str) -> None:
        if sys.platform == "win32":
            self.lib: Any = ctypes.WinDLL(path)
        else:
            self.lib = ctypes.CDLL(path)
        for name, (args, result) in PROTOTYPES.items():
            function = getattr(self.lib, name, None)
            if function is not None:  # an older library lacks some: asking for them is an error reply
                function.argtypes = [C_TYPES[a] for a in args]
                function.restype = C_TYPES[result]

    def call(self, name: str, *args: float) -> float:
        function = getattr(self.lib, name, None)
        if function is None:
            raise CallError(f"the library has no function {name}")
        value: float = function(*args)
        return value


def answer(library: Calls, request: str) -> float:
    """Make the call ``request`` names; its value or error code."""
    name, args = parse_call(request)
    if name == "GetWavelengthAirNum":
        vacuum = library.call("GetWavelengthNum", args[0], 0.0)
        return vacuum if vacuum <= 0 else library.call("ConvertUnit", vacuum, RETURN_WAVELENGTH_VAC,
                                                       RETURN_WAVELENGTH_AIR)  # fmt: skip
    if name == "GetExposureNum":
        return library.call(name, args[0], CCD_ARRAY_1, 0)
    if name in ("GetTemperature", "GetPressure"):
        return library.call(name, 0.0)
    return library.call(name, args[0], 0.0)


def say(out: Any, message: dict[str, Any]) -> None:
    out.write(json.dumps(message) + "\n")
    out.flush()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = args[0] if args else ""
    # the replies get a descriptor of their own, and what the library prints goes to stderr: never into them
    out = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    try:
        if path == SIMULATED:
            from .simulator import SimulatedLibrary

            library: Calls = SimulatedLibrary.from_environment()
        else:
            library = Library(path)
        running = library.call("Instantiate", INSTANTIATE_CHECK, 0, 0, 0)
    except (OSError, CallError) as exc:
        say(out, {"error": f"cannot load the library {path!r}: {exc}"})
        return 1
    if not running:
        say(out, {"error": "no WLM application answers the library (Instantiate: 0); start the WLM software, "
                           "or set its PC's address in wlmData.ini"})  # fmt: skip
        return 1
    say(out, {"ready": True})
    for line in sys.stdin:
        request = line.strip()[:MAX_REQUEST]
        try:
            say(out, {"value": answer(library, request)})
        except CallError as exc:
            say(out, {"error": str(exc)})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
