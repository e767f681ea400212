"""Conversation cases from sources we did not write, and the one helper that replays them.

Each family keeps its cases in ``tests/families/<family>/conversations.json``: a list of

    {"case": "...", "source": "project, file @ revision; or manual, chapter/page",
     "transport": "tcp" | "serial" | "modbus-tcp" | "http" | "library",
     "entry": {a devices-file entry; "{socket}", "{serial}", "{host}", "{port}", "{url}" stand for the
               scripted instrument's address},
     "exchanges": [{"send": "...", "reply": "..."}  (text; bytes as \\u00XX escapes; HTTP: "GET /path?query"
                    and the body, with "status" where it is not 200; a library: the call, "GetPowerNum 1",
                    and what it returns)
                   or {"send_hex": "...", "reply_hex": "..."},
                   "ours": true on an exchange the source does not record (what our driver asks besides,
                   e.g. an error queue), "frame": N where a simulator's binary reply must equal the
                   source's in its first N bytes, "checksum": N where its last N bytes are a checksum],
     "writes": [{"tags": {...}, "fields": {...}}, ...]   every line the gather must write, and no other,
     "refuses": {"log": "text in the E!/W! lines", "unwritten": ["field", ...]}  (optional),
     "simulator": "why the family's simulator cannot answer in the source's form" (optional; the
                  generic SCPI family's simulator, which makes its replies up from the channels)}

The replay serves the exchanges on the family's real transport (a TCP socket; pyserial's ``socket://``
for a serial line; Modbus TCP, whose transaction id is the client's; HTTP on 127.0.0.1; for a vendor's
library, the family's C stub of it, ``tests/families/<family>/stub.py``, loaded as the library is), reads the
entry as ``telegraf-lab run`` does (the runtime's Runner, one gather), and checks:

- every exchange the source records was asked, byte for byte, and nothing the case does not list;
- exactly the lines in ``writes`` were written (tags, fields, values), and ``refuses`` holds;
- the family's own simulator, started by ``--simulate`` for the same entry, answers each of the
  source's requests in the source's form (numbers and words may differ, everything else may not:
  separators, quoting, field count, terminators; JSON: the same keys and types; binary: the same
  length and frame).
"""

from __future__ import annotations

import http.server
import importlib
import json
import logging
import math
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from telegraf_inputs import registry
from telegraf_inputs.base import DeviceSpec
from telegraf_inputs.runtime import Runner
from telegraf_inputs.simulators import TcpServer
from tests.helpers import set_environ

FAMILIES = Path(__file__).parent / "families"


@dataclass
class Exchange:
    send: bytes
    reply: bytes | None
    ours: bool = False  # not in the source: what our driver asks besides
    frame: int = 0  # binary: a simulator's reply must equal the source's in this many first bytes
    status: int = 200  # HTTP: the reply's status
    checksum: int = 0  # trailing bytes of the reply that are a checksum: left out of the form
    used: int = 0


@dataclass
class Case:
    family: str
    name: str
    source: str
    transport: str
    entry: dict[str, Any]
    exchanges: list[Exchange]
    writes: list[dict[str, Any]]
    refuses: dict[str, Any] | None = None
    simulator: str | None = None  # why the family's simulator is not held to the source's forms (else None)

    @property
    def id(self) -> str:
        return f"{self.family}: {self.name}"


def _bytes(item: dict[str, Any], key: str) -> bytes | None:
    if f"{key}_hex" in item:
        return bytes.fromhex(item[f"{key}_hex"])
    value = item.get(key)
    return None if value is None else str(value).encode("latin-1")


def cases() -> list[Case]:
    """Every family's conversation cases, in family order."""
    found = []
    for path in sorted(FAMILIES.glob("*/conversations.json")):
        for raw in json.loads(path.read_text(encoding="utf-8")):
            exchanges = [Exchange(_bytes(x, "send") or b"", _bytes(x, "reply"), bool(x.get("ours")),
                                  int(x.get("frame", 0)), int(x.get("status", 200)), int(x.get("checksum", 0)))
                         for x in raw["exchanges"]]  # fmt: skip
            found.append(Case(path.parent.name, raw["case"], raw["source"], raw["transport"], raw["entry"],
                              exchanges, raw.get("writes", []), raw.get("refuses"), raw.get("simulator")))  # fmt: skip
    return found


# -- the scripted instrument ------------------------------------------------------------------------------------
@dataclass
class Script:
    exchanges: list[Exchange]
    modbus: bool = False  # Modbus TCP: the first two bytes (transaction id) are the client's
    whole: bool = False  # HTTP: each request comes whole, and must equal a ``send``
    unexpected: list[bytes] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def key(self, data: bytes) -> bytes:
        return data[2:] if self.modbus else data

    def answer(self, buffer: bytes) -> tuple[int, bytes | None] | None:
        """(bytes taken, the reply) for the request at the start of ``buffer``; None while it may still grow."""
        with self.lock:
            for exchange in (x for x in self.exchanges if x.send):
                if (self.key(buffer) == self.key(exchange.send) if self.whole
                        else self.key(buffer).startswith(self.key(exchange.send))):  # fmt: skip
                    exchange.used += 1
                    reply = exchange.reply
                    if reply is not None and self.modbus:
                        reply = buffer[:2] + reply[2:]
                    return len(exchange.send), reply
            if not self.whole and any(self.key(x.send).startswith(self.key(buffer)) for x in self.exchanges if x.send):
                return None
            self.unexpected.append(buffer)
            return len(buffer), None


class StreamServer(TcpServer):
    """The script on a TCP socket: each request found at the start of what came is answered at once."""

    def __init__(self, script: Script) -> None:
        super().__init__()
        self.script = script

    def serve(self, conn: socket.socket) -> None:
        streamed = [x for x in self.script.exchanges if not x.send and x.reply]
        if streamed:  # an instrument that sends unasked (a gauge streaming frames): every 20 ms, as it does
            threading.Thread(target=self._stream, args=(conn, streamed), daemon=True).start()
        buffer = b""
        while True:
            data = conn.recv(4096)
            if not data:
                return
            buffer += data
            while buffer and (got := self.script.answer(buffer)) is not None:
                taken, reply = got
                buffer = buffer[taken:]
                if reply:
                    conn.sendall(reply)

    @staticmethod
    def _stream(conn: socket.socket, streamed: list[Exchange]) -> None:
        try:
            while True:
                for exchange in streamed:
                    conn.sendall(exchange.reply or b"")
                    exchange.used += 1
                time.sleep(0.02)
        except OSError:
            return


class HttpServer:
    """The script over HTTP: ``send`` is ``METHOD /path?query``, ``reply`` the JSON body (200)."""

    def __init__(self, script: Script) -> None:
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
                request = f"GET {self.path}".encode("latin-1")
                got = owner.script.answer(request)
                reply = got[1] if got else None
                if reply is None:
                    self.send_error(404)
                    return
                status = next(x.status for x in owner.script.exchanges if request == x.send)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: Any) -> None:
                pass

        self.script = script
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _placed(value: Any, places: dict[str, Any]) -> Any:
    if isinstance(value, dict):
        return {k: _placed(v, places) for k, v in value.items()}
    if isinstance(value, list):
        return [_placed(v, places) for v in value]
    if isinstance(value, str):
        if value in places:
            return places[value]
        for name, place in places.items():
            value = value.replace(name, str(place))
    return value


def entry_at(case: Case, port: int, library: str = "wlm") -> dict[str, Any]:
    places = {"{socket}": f"TCPIP0::127.0.0.1::{port}::SOCKET", "{serial}": f"socket://127.0.0.1:{port}",
              "{host}": "127.0.0.1", "{port}": port, "{url}": f"http://127.0.0.1:{port}",
              "{library}": library}  # fmt: skip
    return dict(_placed(case.entry, places))


class LibraryStub:
    """A vendor library's stand-in (the family's ``stub.py``), answering the case's calls: what it is asked is
    matched against the script when it stops."""

    def __init__(self, case: Case, script: Script, folder: Path) -> None:
        stub_module = importlib.import_module(f"tests.families.{case.family}.stub")
        self.stub = stub_module.Stub(folder)
        self.script, self.port = script, 0
        self.stub.answers.write_text("".join(f"{x.send.decode()}={x.reply.decode()}\n" for x in script.exchanges
                                             if x.reply is not None))  # fmt: skip
        self.restore = set_environ(self.stub.env)  # the library's worker processes inherit it

    def stop(self) -> None:
        self.restore()
        for call in self.stub.called():
            match = [x for x in self.script.exchanges if x.send == call.encode()]
            if match:
                match[0].used += 1
            else:
                self.script.unexpected.append(call.encode())


@dataclass
class Replayed:
    lines: list[dict[str, Any]]
    log: list[str]
    script: Script


def replay(case: Case, folder: Path) -> Replayed:
    """Serve the case's exchanges, read its entry once as ``telegraf-lab run`` does; what was written and logged."""
    from line_protocol_parser import parse_line

    script = Script([Exchange(x.send, x.reply, x.ours, x.frame, x.status, x.checksum) for x in case.exchanges],
                    modbus=case.transport == "modbus-tcp", whole=case.transport == "http")  # fmt: skip
    server: Any
    if case.transport == "library":
        server = LibraryStub(case, script, folder)
    else:
        server = HttpServer(script) if case.transport == "http" else StreamServer(script).start()
    config = folder / "devices.json"
    config.write_text(
        json.dumps([entry_at(case, server.port, str(getattr(getattr(server, "stub", None), "library", "")))])
    )
    logged = _Collect()
    logger = logging.getLogger("telegraf_inputs")
    logger.addHandler(logged)
    try:
        loaded = registry.load(config)
        assert not loaded.problems, [str(p) for p in loaded.problems]
        out: list[bytes] = []
        runner = Runner([(g.driver, g.devices) for g in loaded.groups], out.append)
        try:
            runner.trigger()
            runner.wait_idle()
        finally:
            runner.close()
    finally:
        logger.removeHandler(logged)
        server.stop()
    lines = [parse_line(line) for line in b"".join(out).decode().splitlines()]
    return Replayed(lines, logged.lines, script)


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.levelname}: {record.getMessage()}")


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return isinstance(a, (int, float)) and isinstance(b, (int, float)) and math.isclose(a, b, rel_tol=1e-9)
    return bool(a == b and type(a) is type(b))


def check(case: Case, got: Replayed) -> None:
    """Fail with what differs between the case and what the replay wrote, asked and logged."""
    script = got.script
    unasked = [x.send for x in script.exchanges if not x.ours and not x.used]
    assert not unasked, f"the driver never asked what the source records: {unasked}; log: {got.log}"
    assert not script.unexpected, f"the driver asked what the case does not list: {script.unexpected}"
    wanted = list(case.writes)
    assert len(got.lines) == len(wanted), f"wrote {len(got.lines)} lines, the case has {len(wanted)}: {got.lines}"
    for want in wanted:
        match = [line for line in got.lines
                 if want.get("tags", {}).items() <= line["tags"].items()
                 and line["fields"].keys() == want["fields"].keys()
                 and all(same(line["fields"][k], v) for k, v in want["fields"].items())]  # fmt: skip
        assert match, f"no line written with {want}; written: {got.lines}; log: {got.log}"
    if case.refuses:
        text = " | ".join(got.log)
        assert case.refuses["log"] in text, f"expected {case.refuses['log']!r} in the log: {text}"
        written = {k for line in got.lines for k in line["fields"]}
        assert not written & set(case.refuses.get("unwritten", ())), written


# -- the family's simulator, asked the source's questions --------------------------------------------------------
_NUMBER = re.compile(rb" *[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")  # with the spaces that pad it
_WORD = re.compile(rb"[A-Za-z]+")


def text_form(reply: bytes) -> bytes:
    """A reply with every number (and the spaces padding it to its width) written ``#`` and every word ``a``:
    what a misreading of the format changes."""
    return _WORD.sub(b"a", _NUMBER.sub(b"#", reply))


def json_form(value: Any) -> Any:
    """Keys and types of a JSON document, values left out (numbers as one type)."""
    if isinstance(value, dict):
        return {k: json_form(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_form(v) for v in value[:1]]
    return "number" if isinstance(value, (int, float)) and not isinstance(value, bool) else type(value).__name__


def simulated(case: Case, folder: Path) -> Iterator[tuple[Exchange, bytes]]:
    """Start ``--simulate``'s simulator for the case's entry; each source request and the simulator's reply."""
    config = folder / "simulated.json"
    config.write_text(json.dumps([entry_at(case, 9)]))  # any address: --simulate points the device elsewhere
    loaded = registry.load(config, simulate=True)
    assert not loaded.problems, [str(p) for p in loaded.problems]
    (group,) = loaded.groups
    pointed, stop = group.family.start_simulators(group.devices)
    try:
        ask = _library_asker(case) if case.transport == "library" else _asker(case.transport, pointed[0])
        for exchange in case.exchanges:
            if not exchange.ours:
                reply = ask(exchange)  # a command (no reply in the source) is sent all the same
                if exchange.reply is not None:
                    yield exchange, reply
    finally:
        stop()


def simulator_class(family: str) -> Any:
    """The class of the family's simulator module that answers a request (a LineSimulator, in bytes; a
    LineServer or a simulated library, in text)."""
    import inspect

    module = importlib.import_module(f"telegraf_inputs.families.{family}.simulator")
    (cls,) = [c for _, c in inspect.getmembers(module, inspect.isclass)
              if c.__module__ == module.__name__ and callable(getattr(c, "answer", None))]  # fmt: skip
    return cls


def _library_asker(case: Case) -> Any:
    """The family's simulated library, asked in text."""
    library = simulator_class(case.family)()
    return lambda exchange: str(library.answer(exchange.send.decode())).encode()


def _asker(transport: str, device: DeviceSpec) -> Any:
    attrs = {f.name: getattr(device, f.name) for f in fields(device)}
    if transport == "http":
        import requests

        base = str(attrs.get("lan_url") or attrs["base_url"]).rstrip("/")  # where --simulate put the device

        def ask_http(exchange: Exchange) -> bytes:
            path = exchange.send.decode().split(" ", 1)[1]
            return bytes(requests.get(base + path, timeout=3).content)

        return ask_http
    address = str(attrs.get("address", ""))
    if address.upper().endswith("::SOCKET"):
        host, port = address.split("::")[1], int(address.split("::")[2])
    elif "host" in attrs:
        host, port = attrs["host"], int(attrs["port"])
    else:
        import serial

        if attrs.get("line"):  # the line settings the simulator checks: a pty at other settings is a silent one
            baud, size, parity, stop = attrs["line"]
        else:
            baud, size, parity, stop = (attrs.get("baudrate") or 115200, attrs.get("bytesize") or 8,
                                        attrs.get("parity") or "N", attrs.get("stopbits") or 1)  # fmt: skip
        line = serial.Serial(address, baud, bytesize=size, parity=parity, stopbits=stop, timeout=0.1)

        def ask_serial(exchange: Exchange) -> bytes:
            line.reset_input_buffer()
            line.write(exchange.send)
            return _read_like(lambda: line.read(4096), exchange)

        return ask_serial

    sock = socket.create_connection((host, port), timeout=3)
    sock.settimeout(0.1)

    def ask_tcp(exchange: Exchange) -> bytes:
        sock.sendall(exchange.send)

        def chunk() -> bytes:
            try:
                return sock.recv(4096)
            except TimeoutError:
                return b""

        return _read_like(chunk, exchange)

    return ask_tcp


def _read_like(read: Any, exchange: Exchange, wait_s: float = 1.5) -> bytes:
    """Read until as much came as the source's reply holds and it ends as the source's does, or ``wait_s``
    (a command the source records no reply to: a moment for the simulator to take it)."""
    if exchange.reply is None:
        time.sleep(0.05)
        return read()
    want = exchange.reply
    got = b""
    end = time.monotonic() + wait_s
    enough = 3 * len(want) if not exchange.send else len(want)  # a stream may be joined mid-frame
    while time.monotonic() < end:
        got += read()
        if want and (len(got) >= enough if exchange.frame else got.endswith(want[-1:])):
            break
    return got


def same_form(exchange: Exchange, reply: bytes, transport: str) -> str | None:
    """None when ``reply`` has the source's form; else what differs."""
    want = exchange.reply or b""
    if transport == "http":
        a, b = json_form(json.loads(want)), json_form(json.loads(reply))
        return None if _json_covers(b, a) else f"JSON form {b} lacks the source's {a}"
    if exchange.frame and not exchange.send:  # a stream: somewhere in what came, a frame of the source's form
        if any(reply[i : i + exchange.frame] == want[: exchange.frame] for i in range(len(reply) - len(want) + 1)):
            return None
        return f"no frame like the source's {want.hex(' ')} in {reply[:64].hex(' ')}"
    if exchange.frame:
        if (
            len(reply) != len(want)
            or reply[2 if transport == "modbus-tcp" else 0 : exchange.frame]
            != want[2 if transport == "modbus-tcp" else 0 : exchange.frame]
        ):
            return f"{reply.hex(' ')} is not framed as the source's {want.hex(' ')}"
        return None
    if exchange.checksum:
        reply, want = reply[: -exchange.checksum], want[: -exchange.checksum]
    if text_form(reply) != text_form(want):
        return f"{reply!r} has the form {text_form(reply)!r}, the source's {want!r} has {text_form(want)!r}"
    return None


def _json_covers(got: Any, want: Any) -> bool:
    """Every key and type of ``want`` is in ``got`` (a server may send more than the source shows)."""
    if isinstance(want, dict):
        return isinstance(got, dict) and all(k in got and _json_covers(got[k], v) for k, v in want.items())
    if isinstance(want, list):
        return isinstance(got, list) and (not want or not got or _json_covers(got[0], want[0]))
    return bool(got == want)
