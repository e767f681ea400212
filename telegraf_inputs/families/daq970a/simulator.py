"""A simulated Keysight DAQ970A/DAQ973A on a TCP socket, speaking SCPI.

It behaves like the instrument's raw socket port (5025): newline-terminated
commands, newline-terminated replies, queries answered in order, an error
queue for anything it does not accept.  pyvisa-py opens it as
``TCPIP0::127.0.0.1::PORT::SOCKET``.

Behaviour is data: ``MNEMONICS`` gives the long and short form of every header
word, ``COMMANDS`` maps a normalised header to its handler.  Faults are
switched on the ``Faults`` object (from Python), or over the wire with the
simulator-only ``SIMulate:...`` commands (see ``--help``).

Run standalone:  python -m telegraf_inputs.families.daq970a.simulator --port 5025
"""

from __future__ import annotations

import argparse
import functools
import math
import random
import re
import socket
import socketserver
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ...lan_sim import LanServed
from ...simulators import ErrorQueue, LateFaults, deliver, drip, run_standalone, stopwatch
from .protocol import NO_ERROR, OVERLOAD, format_reading
from .protocol import parse_channel_list as _parse_channel_list

# Long forms in SCPI notation: the upper-case part is the short form.
MNEMONICS = [
    "CONFigure",
    "VOLTage",
    "CURRent",
    "RESistance",
    "FRESistance",
    "TEMPerature",
    "FREQuency",
    "PERiod",
    "NPLCycles",
    "APERture",
    "ENABled",
    "ZERO",
    "AUTO",
    "UNIT",
    "ROUTe",
    "SCAN",
    "SIZE",
    "SYSTem",
    "ERRor",
    "NEXT",
    "FORMat",
    "READing",
    "CHANnel",
    "TIME",
    "TYPE",
    "ALARm",
    "TRIGger",
    "SOURce",
    "COUNt",
    "SENSe",
    "READ",
    "FETCh",
    "INITiate",
    "IMMediate",
    "DC",
    "AC",
    "RANGe",
    "RESolution",
    "DISPlay",
    "TEXT",
    "SIMulate",
    "DELay",
    "DROP",
    "GARBle",
    "OVERload",
    "CLEar",
    "HANG",
]
_SHORT = {}
for _long in MNEMONICS:
    _short = "".join(c for c in _long if c.isupper())
    _SHORT[_short] = _short
    _SHORT[_long.upper()] = _short
# Header words that SCPI lets a command leave out, per preceding word.
_OPTIONAL_AFTER = {"VOLT": "DC", "CURR": "DC", "ERR": "NEXT", "INIT": "IMM"}

# DAQM901A: 20 two-wire channels (4-wire pairs n / n+10) and current channels 21, 22.
# DAQM908A: 40 single-ended channels (common LO): no current, no 4-wire.
MODULES = {
    "DAQM908A": {"channels": range(1, 41), "current": set(), "fres": range(0)},
    "DAQM901A": {"channels": range(1, 23), "current": {21, 22}, "fres": range(1, 11)},
    "DAQM900A": {"channels": range(1, 21), "current": set(), "fres": range(1, 11)},
    "DAQM902A": {"channels": range(1, 17), "current": set(), "fres": range(1, 9)},
}
ALLOWED_NPLC = {0.001, 0.002, 0.006, 0.02, 0.06, 0.2, 1.0, 2.0, 10.0, 20.0, 100.0, 200.0}

# Plausible values per function: (base, amplitude of a slow sine, noise)
TYPICAL = {
    "VOLT:DC": (0.25, 0.02, 1e-5),
    "VOLT:AC": (0.12, 0.005, 1e-5),
    "CURR:DC": (4e-3, 2e-4, 1e-7),
    "CURR:AC": (1e-3, 5e-5, 1e-7),
    "RES": (1000.0, 5.0, 0.01),
    "FRES": (100.0, 0.5, 0.001),
    "TEMP": (22.0, 0.4, 0.005),
    "FREQ": (1000.0, 0.5, 0.01),
    "PER": (1e-3, 5e-7, 1e-9),
}


class SCPIError(Exception):
    """An instrument error: code and text, as SYST:ERR? reports them."""

    def __init__(self, code: int, text: str) -> None:
        super().__init__(f'{code:+d},"{text}"')
        self.code = code
        self.text = text


def normalise_header(header: str) -> str:
    """'SENSe:VOLTage:DC:NPLCycles' -> 'VOLT:NPLC' (short forms, optional words dropped)."""
    words = [w for w in header.strip().lstrip(":").split(":") if w]
    query = words and words[-1].endswith("?")
    if query:
        words[-1] = words[-1][:-1]
    out: list[str] = []
    for word in words:
        if word.startswith("*"):
            out.append(word.upper())
            continue
        short = _SHORT.get(word.upper())
        if short is None:
            raise SCPIError(-113, "Undefined header")
        out.append(short)
    if out and out[0] == "SENS":
        out = out[1:]
    kept = []
    for i, word in enumerate(out):
        if i > 0 and _OPTIONAL_AFTER.get(out[i - 1]) == word and not (out[0] == "CONF"):
            continue
        kept.append(word)
    return ":".join(kept) + ("?" if query else "")


def parse_channel_list(text: str) -> list[int]:
    """'(@101,103:105)' -> [101, 103, 104, 105]; a SCPI error if it is not a channel list."""
    channels = _parse_channel_list(text)
    if channels is None:
        raise SCPIError(-104, "Data type error")
    return channels


def split_params(text: str) -> tuple[list[str], list[int] | None]:
    """Split 'TC,K,(@101,102)' into (['TC', 'K'], [101, 102])."""
    channels = None
    m = re.search(r"\(@[^)]*\)", text)
    if m:
        channels = parse_channel_list(m.group(0))
        text = text[: m.start()] + text[m.end() :]
    params = [p.strip() for p in text.split(",") if p.strip()]
    return params, channels


@dataclass
class Faults(LateFaults):
    """Switches for injected faults; tests flip them while the simulator runs (late and stalled replies from
    LateFaults)."""

    delay_s: float = 0.0  # extra time before every reply to a query
    drop_next: bool = False  # close the connection instead of answering the next query
    garble_next: bool = False  # answer the next query with corrupted text
    hang_reads: bool = False  # never answer READ?/FETC? (and queue an error), like a stuck scan
    overload: set[int] = field(default_factory=set)  # channels that read +9.9E+37
    error_on_read: tuple[int, str] | None = None  # READ? fails with this error, no reply
    silent: bool = False  # accept commands, never answer a query (a hung instrument)
    endless_next: bool = False  # answer the next query with a reply that never ends
    drip_next: float = 0.0  # send the next reply one byte every this many seconds
    idn: str | None = None  # answer *IDN? with this instead


@dataclass
class ChannelState:
    function: str
    transducer: tuple[str, ...] = ()
    unit: str = "C"


class Instrument:
    """The instrument's state and command handlers (one per simulator)."""

    def __init__(
        self, model: str = "DAQ970A", modules: dict[int, str] | None = None, seed: int = 1, scan_time_s: float = 0.0
    ) -> None:
        self.model = model
        self.modules = modules or {1: "DAQM901A", 2: "DAQM901A", 3: "DAQM901A"}
        self.faults = Faults()
        self.scan_time_s = scan_time_s  # how long a scan (READ?, INIT) takes; the instrument is busy meanwhile
        self.random = random.Random(seed)
        self.elapsed = stopwatch()  # the clock every channel's drift follows
        self.lock = threading.Lock()
        self.log: list[str] = []  # every command received, for tests and curious users
        self.reset()
        self.commands: dict[str, Callable[[str], str | None]] = {
            "*IDN?": lambda p: (
                self.faults.idn
                or f"Keysight Technologies,{self.model},MY00000001,A.03.00-02.40-03.15-00.02-02.00-03-03"
            ),
            "*RST": lambda p: self.reset(),
            "*CLS": lambda p: self.errors.clear(),
            "*OPC?": lambda p: "1",
            "*OPC": lambda p: None,
            "*WAI": lambda p: None,
            "*ESR?": lambda p: "+0",
            "SYST:ERR?": self._next_error,
            "DISP:TEXT": lambda p: None,
            "DISP:TEXT:CLE": lambda p: None,
            "ROUT:SCAN": self._set_scan,
            "ROUT:SCAN?": lambda p: "(@" + ",".join(map(str, self.scan)) + ")",
            "ROUT:SCAN:SIZE?": lambda p: f"+{len(self.scan)}",
            "FORM:READ:CHAN": lambda p: self._set_format("CHAN", p),
            "FORM:READ:TIME": lambda p: self._set_format("TIME", p),
            "FORM:READ:UNIT": lambda p: self._set_format("UNIT", p),
            "FORM:READ:ALAR": lambda p: self._set_format("ALAR", p),
            "TRIG:SOUR": lambda p: self._set_choice("trigger_source", p, {"IMM", "BUS", "EXT", "TIM"}),
            "TRIG:COUN": self._set_trigger_count,
            "UNIT:TEMP": self._set_unit,
            "READ?": self._read,
            "INIT": self._init,
            "FETC?": self._fetch,
            "SIM:DEL": lambda p: setattr(self.faults, "delay_s", float(p)),
            "SIM:DROP": lambda p: setattr(self.faults, "drop_next", True),
            "SIM:GARB": lambda p: setattr(self.faults, "garble_next", True),
            "SIM:HANG": lambda p: setattr(self.faults, "hang_reads", p.strip().upper() in ("ON", "1")),
            "SIM:OVER": lambda p: setattr(self.faults, "overload", set(split_params(p)[1] or [])),
            "SIM:ERR": self._inject_error,
            "SIM:CLE": lambda p: setattr(self, "faults", Faults()),
        }
        for function in TYPICAL:
            sense = normalise_header(function)  # VOLT:DC -> VOLT, as a sense command is keyed
            self.commands[f"CONF:{function}"] = functools.partial(self._configure, function)
            self.commands[f"{sense}:NPLC"] = functools.partial(self._set_nplc, function)
            for setting in ("APER", "APER:ENAB", "ZERO:AUTO", "RANG"):
                self.commands[f"{sense}:{setting}"] = functools.partial(self._set_per_channel, function)
        for long_form in ("CONF:VOLT", "CONF:CURR"):  # CONF:VOLT means CONF:VOLT:DC
            self.commands[long_form] = self.commands[long_form + ":DC"]

    # -- state ---------------------------------------------------------------
    def reset(self) -> None:
        self.errors = ErrorQueue(NO_ERROR, '-350,"Error queue overflow"')
        self.channels: dict[int, ChannelState] = {}
        self.scan: list[int] = []
        self.format = {"CHAN": False, "TIME": False, "UNIT": False, "ALAR": False}
        self.trigger_source = "IMM"
        self.trigger_count = 1
        self.fetched: list[tuple[float, int]] = []

    def push_error(self, code: int, text: str) -> None:
        self.errors.push(f'{code:+d},"{text}"')

    def _next_error(self, params: str) -> str:
        return self.errors.pop()

    def _inject_error(self, params: str) -> None:
        m = re.fullmatch(r'\s*([+-]?\d+)\s*,\s*"(.*)"\s*', params)
        if not m:
            raise SCPIError(-104, "Data type error")
        self.faults.error_on_read = (int(m.group(1)), m.group(2))

    # -- configuration -------------------------------------------------------
    def _check_channel(self, ch: int, function: str) -> None:
        module = self.modules.get(ch // 100)
        spec = MODULES.get(module or "")
        if spec is None or ch % 100 not in spec["channels"]:
            raise SCPIError(-224, "Illegal parameter value")
        is_current = ch % 100 in spec["current"]
        if function.startswith("CURR") != is_current:
            raise SCPIError(-221, "Settings conflict")
        if function == "FRES" and ch % 100 not in spec["fres"]:
            raise SCPIError(-221, "Settings conflict")

    def _configure(self, function: str, params: str) -> None:
        values, chans = split_params(params)
        if not chans:
            raise SCPIError(-109, "Missing parameter")
        transducer: tuple[str, ...] = ()
        if function == "TEMP":
            if not values:
                raise SCPIError(-109, "Missing parameter")
            kind = values[0].upper()
            allowed = {
                "TC": tuple("BEJKNRST"),
                "RTD": ("85", "91"),
                "FRTD": ("85", "91"),
                "THER": ("2252", "5000", "10000"),
                "FTH": ("2252", "5000", "10000"),
            }
            kind = {"TCOUPLE": "TC", "THERMISTOR": "THER", "FTHERMISTOR": "FTH"}.get(kind, kind)
            if kind not in allowed or len(values) < 2 or values[1].upper() not in allowed[kind]:
                raise SCPIError(-224, "Illegal parameter value")
            transducer = (kind, values[1].upper())
        else:
            for value in values[:2]:
                if value.upper() not in ("AUTO", "DEF", "MIN", "MAX"):
                    try:
                        if float(value) <= 0:
                            raise ValueError
                    except ValueError:
                        raise SCPIError(-224, "Illegal parameter value") from None
        for ch in chans:
            self._check_channel(ch, function)
        for ch in chans:
            self.channels[ch] = ChannelState(function, transducer)
        self.scan = list(chans)  # CONFigure redefines the scan list, as on the instrument

    def _set_nplc(self, function: str, params: str) -> None:
        values, chans = split_params(params)
        if not values:
            raise SCPIError(-109, "Missing parameter")
        if values[0].upper() not in ("MIN", "MAX", "DEF") and float(values[0]) not in ALLOWED_NPLC:
            raise SCPIError(-222, "Data out of range")
        self._set_per_channel(function, params)

    def _set_per_channel(self, function: str, params: str) -> None:
        values, chans = split_params(params)
        if not values:
            raise SCPIError(-109, "Missing parameter")
        for ch in chans or []:
            self._check_channel(ch, function)

    def _set_unit(self, params: str) -> None:
        values, chans = split_params(params)
        if not values or values[0].upper() not in ("C", "F", "K", "CEL", "FAR"):
            raise SCPIError(-224, "Illegal parameter value")
        for ch in chans or list(self.channels):
            if ch in self.channels:
                self.channels[ch].unit = values[0].upper()[0]

    def _set_scan(self, params: str) -> None:
        _, chans = split_params(params)
        if chans is None:
            raise SCPIError(-109, "Missing parameter")
        for ch in chans:
            if ch not in self.channels:
                raise SCPIError(-221, "Settings conflict")
        self.scan = chans

    def _set_format(self, what: str, params: str) -> None:
        value = params.strip().upper()
        if value not in ("ON", "OFF", "1", "0"):
            raise SCPIError(-224, "Illegal parameter value")
        self.format[what] = value in ("ON", "1")

    def _set_choice(self, attr: str, params: str, choices: set[str]) -> None:
        value = params.strip().upper()[:4]
        if value not in choices:
            raise SCPIError(-224, "Illegal parameter value")
        setattr(self, attr, value)

    def _set_trigger_count(self, params: str) -> None:
        try:
            count = int(float(params))
        except ValueError:
            raise SCPIError(-104, "Data type error") from None
        if count < 1:
            raise SCPIError(-222, "Data out of range")
        self.trigger_count = count

    # -- measuring -----------------------------------------------------------
    def value(self, ch: int, t: float) -> float:
        if ch in self.faults.overload:
            return OVERLOAD
        state = self.channels[ch]
        base, amplitude, noise = TYPICAL[state.function]
        phase = (ch % 97) * 0.7
        v = base * (1 + 0.1 * (ch % 10)) + amplitude * math.sin(2 * math.pi * t / 300 + phase)
        v += self.random.gauss(0.0, noise)
        if state.function == "TEMP":
            v = {"C": v, "F": v * 9 / 5 + 32, "K": v + 273.15}[state.unit]
        return v

    def _scan(self) -> list[tuple[float, int]]:
        if not self.scan:
            raise SCPIError(-221, "Settings conflict")
        if self.faults.error_on_read is not None:
            code, text = self.faults.error_on_read
            self.faults.error_on_read = None
            raise SCPIError(code, text)
        if self.faults.hang_reads:
            raise SCPIError(-230, "Data corrupt or stale")
        if self.scan_time_s:
            time.sleep(self.scan_time_s)
        t = self.elapsed()
        return [(self.value(ch, t), ch) for ch in self.scan for _ in range(self.trigger_count)]

    def _format(self, readings: list[tuple[float, int]]) -> str:
        return ",".join(format_reading(value, ch if self.format["CHAN"] else None) for value, ch in readings)

    def _read(self, params: str) -> str:
        return self._format(self._scan())

    def _init(self, params: str) -> None:
        self.fetched = self._scan()

    def _fetch(self, params: str) -> str:
        if not self.fetched:
            raise SCPIError(-230, "Data corrupt or stale")
        return self._format(self.fetched)

    # -- dispatch ------------------------------------------------------------
    def handle(self, line: str) -> str | None:
        """Execute one program message unit; return the reply of a query (or None)."""
        with self.lock:
            self.log.append(line)
            header, _, params = line.strip().partition(" ")
            try:
                key = normalise_header(header)
                handler = self.commands.get(key)
                if handler is None:
                    raise SCPIError(-113, "Undefined header")
                reply = handler(params)
            except SCPIError as exc:
                self.push_error(exc.code, exc.text)
                return None
            except ValueError:
                self.push_error(-104, "Data type error")
                return None
            return reply if key.endswith("?") and reply is not None else None


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def handle(self) -> None:
        instrument = self.server.instrument
        self.server.clients.add(self.request)
        try:
            for raw in self.rfile:
                replies = []  # IEEE 488.2: the replies to one message's queries go back as one, joined by ";"
                for unit in raw.decode("ascii", "replace").strip().split(";"):
                    if not unit.strip():
                        continue
                    is_query = unit.strip().split(" ")[0].endswith("?")
                    faults = instrument.faults
                    if is_query and faults.drop_next:
                        faults.drop_next = False
                        return
                    reply = instrument.handle(unit)
                    if reply is None:
                        continue
                    if faults.delay_s:
                        time.sleep(faults.delay_s)
                    if faults.garble_next:
                        faults.garble_next = False
                        reply = "".join(instrument.random.choice("#?~x@\x7f") if c.isdigit() else c for c in reply)
                    replies.append(reply)
                faults = instrument.faults
                if not replies or faults.silent:
                    continue
                data = ";".join(replies).encode("ascii", "replace") + b"\n"
                if faults.endless_next:  # a reply without an end: the client must stop reading by itself
                    faults.endless_next = False
                    while True:
                        self.wfile.write(b"+1.00000000E+00,101," * 4096)
                elif faults.drip_next:
                    interval, faults.drip_next = faults.drip_next, 0.0
                    drip(self.wfile.write, data, interval)  # the socket's writer is unbuffered
                else:
                    deliver(self.wfile.write, data, faults)
        except (ConnectionError, OSError):
            pass
        finally:
            self.server.clients.discard(self.request)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], instrument: Instrument) -> None:
        self.instrument = instrument
        self.clients: set[socket.socket] = set()
        super().__init__(address, _Handler)


class Daq970aSimulator(LanServed):
    """A simulated DAQ970A listening on ``host:port`` (port 0 picks a free one); also over VXI-11 and HiSLIP
    through ``serve_vxi11()`` and ``serve_hislip()``, as the instrument itself answers on all three."""

    reply_end = b"\n"

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        model: str = "DAQ970A",
        modules: dict[int, str] | None = None,
        scan_time_s: float = 0.0,
    ) -> None:
        self.instrument = Instrument(model, modules, scan_time_s=scan_time_s)
        self.host = host
        self.port = port
        self._server: _Server | None = None

    @property
    def faults(self) -> Faults:
        return self.instrument.faults

    @property
    def address(self) -> str:
        """The VISA resource string pyvisa-py opens."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"TCPIP0::{host}::{self.port}::SOCKET"

    def start(self) -> Daq970aSimulator:
        self._server = _Server((self.host, self.port), self.instrument)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def disconnect_clients(self) -> None:
        """Drop every open connection (the instrument rebooting, a cable pulled)."""
        assert self._server is not None
        for client in list(self._server.clients):
            try:
                client.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def stop(self) -> None:
        """Stop listening and drop every connection (the instrument switched off)."""
        self.stop_gateways()
        if self._server is not None:
            self.disconnect_clients()
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Daq970aSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m telegraf_inputs.families.daq970a.simulator",
        description="Simulated Keysight DAQ970A on a TCP socket (SCPI, like the instrument's port 5025).",
        epilog=(
            "Faults can be switched over the connection with simulator-only commands: "
            "SIM:DEL <s> (reply delay), SIM:DROP (drop the connection at the next query), "
            "SIM:GARB (garble the next reply), SIM:OVER (@101,...) (overload channels), "
            'SIM:ERR -222,"Data out of range" (the next READ? fails), SIM:HANG ON|OFF, SIM:CLE (clear).'
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=5025, help="TCP port (default 5025, 0 = any free)")
    parser.add_argument("--model", default="DAQ970A", choices=["DAQ970A", "DAQ973A"])
    parser.add_argument("--scan-time", type=float, default=0.0, help="seconds each scan (READ?) takes (default 0)")
    args = parser.parse_args(argv)
    sim = Daq970aSimulator(args.host, args.port, args.model, scan_time_s=args.scan_time).start()
    lan = f"; over VXI-11: {sim.serve_vxi11().address}; over HiSLIP: {sim.serve_hislip().address}"
    return run_standalone(f"simulated {args.model} listening; VISA address: {sim.address}{lan}", sim.stop)


if __name__ == "__main__":
    raise SystemExit(main())
