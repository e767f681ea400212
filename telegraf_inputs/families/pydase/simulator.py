"""A simulated pydase service: its REST API (``GET /api/v1/get_value``) on 127.0.0.1.

The service holds numbers, a boolean, a string, Quantities (magnitude and
unit), a list of sub-services and a dict of them, serialized as pydase
serializes them; a path that does not resolve gets HTTP 400 with a serialized
AttributeError, IndexError or KeyError.  The numbers drift slowly.

Faults (``faults``): ``error_next`` (HTTP 500), ``garble_next`` (a body that is
not JSON), ``delay_s``; ``stop()`` refuses connections.

Run standalone:  python -m telegraf_inputs.families.pydase.simulator --port 8001
"""

from __future__ import annotations

import argparse
import http.server
import json
import math
import re
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ...simulators import LateFaults, close_server, deliver, run_standalone
from .protocol import API


@dataclass
class Quantity:
    magnitude: float
    unit: str


class Keyed(dict):  # type: ignore[type-arg]
    """A dict attribute of the service: indexed with ["key"], unlike a sub-service's attributes."""


@dataclass
class Faults(LateFaults):
    error_next: bool = False
    garble_next: bool = False
    delay_s: float = 0.0


def serialize(value: Any, path: str) -> dict[str, Any]:
    kind = {bool: "bool", int: "int", float: "float", str: "str", type(None): "NoneType"}.get(type(value))
    out: dict[str, Any] = {"full_access_path": path, "readonly": False, "doc": None}
    if isinstance(value, Quantity):
        return {**out, "type": "Quantity", "value": {"magnitude": value.magnitude, "unit": value.unit}}
    if isinstance(value, list):
        return {**out, "type": "list", "value": [serialize(v, f"{path}[{i}]") for i, v in enumerate(value)]}
    if isinstance(value, Keyed):
        return {**out, "type": "dict", "value": {k: serialize(v, f'{path}["{k}"]') for k, v in value.items()}}
    if isinstance(value, dict):
        return {**out, "type": "DataService", "value": {k: serialize(v, f"{path}.{k}") for k, v in value.items()}}
    return {**out, "type": kind or "str", "value": value}


TOKEN = re.compile(r'\.?([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]')


class PydaseSimulator:
    def __init__(self, port: int = 0) -> None:
        self.started = time.monotonic()
        self.service: dict[str, Any] = {
            "temperature": 21.5,
            "enabled": True,
            "name": "oven controller",
            "voltage": Quantity(5.0, "mV"),
            "channels": [{"power": 1.25, "current": Quantity(0.5, "A")}, {"power": 2.5, "current": Quantity(1.0, "A")}],
            "sensors": Keyed(a={"value": 3.0}, b={"value": 4.0}),
        }
        self.faults = Faults()
        self.requests: list[str] = []
        sim = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def setup(self) -> None:
                super().setup()  # headers and body go in separate writes: without this, each waits a delayed ACK
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                sim.requests.append(self.path)
                status, body = sim.handle(self.path)
                time.sleep(sim.faults.delay_s)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                late = sim.faults.take_delay("late_next_s")
                if late:
                    time.sleep(late)
                self.end_headers()
                try:
                    deliver(self._write_now, body, sim.faults)
                except OSError:  # the client gave up, as it must
                    self.close_connection = True

            def _write_now(self, data: bytes) -> None:
                self.wfile.write(data)
                self.wfile.flush()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]

    @property
    def address(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> PydaseSimulator:
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        close_server(self.server.socket)

    def resolve(self, path: str) -> Any:
        """The value at a pydase access path; AttributeError, IndexError, KeyError or TypeError as pydase's."""
        value: Any = self.service.get(path) if path in self.service else self.service
        position = len(path) if path in self.service else 0
        while position < len(path):
            match = TOKEN.match(path, position)
            if match is None:
                raise AttributeError(f"invalid access path {path!r}")
            name, index, key = match.groups()
            if name is not None:
                if not isinstance(value, dict) or isinstance(value, Keyed) or name not in value:
                    raise AttributeError(f"'{type(value).__name__}' object has no attribute '{name}'")
                value = value[name]
            elif index is not None:
                if not isinstance(value, list):
                    raise TypeError(f"'{type(value).__name__}' object is not subscriptable with an integer")
                value = value[int(index)]  # IndexError past its end
            else:
                if not isinstance(value, Keyed):
                    raise TypeError(f"'{type(value).__name__}' object is not subscriptable with a key")
                value = value[json.loads(f'"{key}"')]  # KeyError for a key it does not have
            position = match.end()
        if isinstance(value, float):  # the readings drift
            value *= 1 + 0.001 * math.sin(2 * math.pi * (time.monotonic() - self.started) / 60)
        return value

    def handle(self, target: str) -> tuple[int, bytes]:
        parts = urlsplit(target)
        if parts.path != API:
            return 404, b'{"detail": "not found"}'
        if self.faults.error_next:
            self.faults.error_next = False
            return 500, b"Internal Server Error"
        if self.faults.garble_next:
            self.faults.garble_next = False
            return 200, b'{"type": "float", "value": 1.'
        path = parse_qs(parts.query).get("access_path", [""])[0]
        try:
            value = self.resolve(path)
        except (AttributeError, IndexError, KeyError, TypeError) as exc:
            error = {"type": "Exception", "name": type(exc).__name__, "value": str(exc), "doc": None,
                     "readonly": True, "full_access_path": ""}  # fmt: skip
            return 400, json.dumps(error).encode()
        return 200, json.dumps(serialize(value, path)).encode()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m telegraf_inputs.families.pydase.simulator",
        description="Simulated pydase service (REST API) on 127.0.0.1; prints the Address and Port to use.",
    )
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    sim = PydaseSimulator(args.port).start()
    return run_standalone(f"simulated pydase service; Address: 127.0.0.1, Port: {sim.port}", sim.stop)


if __name__ == "__main__":
    raise SystemExit(main())
