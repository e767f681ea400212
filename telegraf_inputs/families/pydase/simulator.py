"""A simulated pydase service: its REST API (``GET /api/v1/get_value``) on 127.0.0.1.

The service holds numbers, a boolean, a string, None, Quantities (magnitude and
unit), a list of sub-services, a dict of them and a property that raises,
serialized as pydase 0.10.6 serializes them (tests/families/pydase holds it to
a real pydase server, key order included); a path that does not resolve, or a
getter that raises, gets HTTP 400 with the serialized exception.  The numbers
drift slowly (``drift = False`` stops them).

Faults (``faults``): ``error_next`` (HTTP 500), ``garble_next`` (a body that is
not JSON), ``delay_s``; ``stop()`` refuses connections.

Run standalone:  python -m telegraf_inputs.families.pydase.simulator --port 8001
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ...simulators import (
    HttpServer,
    LateFaults,
    QuietHandler,
    close_server,
    deliver,
    serve_on_a_port,
    stopwatch,
)
from .protocol import API


@dataclass
class Quantity:
    magnitude: float
    unit: str  # as pydase 0.10.6 sends it: "volt" for u.Quantity(5, "V"); "V", "°C" for u.units.Quantity


class Keyed(dict):  # type: ignore[type-arg]
    """A dict attribute of the service: indexed with ["key"], unlike a sub-service's attributes."""


class Sub(dict):  # type: ignore[type-arg]
    """A sub-service (a pydase DataService) of class ``kind``; its attributes are the dict's items."""

    def __init__(self, kind: str, **attributes: Any) -> None:
        super().__init__(attributes)
        self.kind = kind


@dataclass
class Raises:
    """An attribute (a property) whose getter raises ``error``."""

    error: Exception


@dataclass
class Faults(LateFaults):
    error_next: bool = False
    garble_next: bool = False
    delay_s: float = 0.0


def serialize(value: Any, path: str) -> dict[str, Any]:
    """``value`` as pydase 0.10.6 serializes it, key order included (a test holds it to a real server)."""
    if isinstance(value, Quantity):
        unit = {"magnitude": value.magnitude, "unit": value.unit}
        return {"full_access_path": path, "type": "Quantity", "value": unit, "readonly": False, "doc": None}
    if isinstance(value, list):
        items = [serialize(v, f"{path}[{i}]") for i, v in enumerate(value)]
        return {"full_access_path": path, "type": "list", "value": items, "readonly": False, "doc": None}
    if isinstance(value, Keyed):
        keyed = {k: serialize(v, f"{path}[{json.dumps(k)}]") for k, v in value.items()}
        return {"full_access_path": path, "type": "dict", "value": keyed, "readonly": False, "doc": None}
    if isinstance(value, dict):  # a sub-service: its attributes in name order
        attributes = {k: serialize(v, f"{path}.{k}") for k, v in sorted(value.items())}
        return {"full_access_path": path, "name": _type_name(value), "type": "DataService", "value": attributes,
                "readonly": False, "doc": None}  # fmt: skip
    kind = {bool: "bool", int: "int", float: "float", str: "str", type(None): "NoneType"}.get(type(value), "str")
    return {"full_access_path": path, "doc": None, "readonly": False, "type": kind, "value": value}


def serialize_error(exc: Exception) -> dict[str, Any]:
    """An exception as pydase 0.10.6 answers it (HTTP 400): its first argument (a KeyError's key), its class."""
    return {"full_access_path": "", "doc": None, "readonly": True, "type": "Exception",
            "value": exc.args[0] if exc.args else "", "name": type(exc).__name__}  # fmt: skip


def _type_name(value: Any) -> str:
    """The class name Python's own messages give ``value``: a sub-service's class, the service's."""
    if isinstance(value, Sub):
        return value.kind
    if type(value) is dict:
        return "Service"
    return "dict" if isinstance(value, Keyed) else type(value).__name__


def default_service() -> dict[str, Any]:
    """What the simulated service holds (tests build a real pydase service of the same)."""
    return {
        "temperature": 21.5,
        "count": 3,
        "enabled": True,
        "name": "oven controller",
        "nothing": None,
        "voltage": Quantity(5.0, "volt"),
        "bias": Quantity(1.5, "V"),  # made with pydase's registry (u.units.Quantity, 1.5 * u.units.V)
        "water": Quantity(18.5, "°C"),
        "pressure": Quantity(0.0012, "millibar"),
        "chamber": Quantity(21.0, "degree_Celsius"),
        "channels": [Sub("Channel", power=1.25, current=Quantity(0.5, "ampere")),
                     Sub("Channel", power=2.5, current=Quantity(1.0, "ampere"))],
        "sensors": Keyed(a=Sub("Sensor", value=3.0), b=Sub("Sensor", value=4.0)),
        "heater": Raises(RuntimeError("heater sensor unplugged")),
    }  # fmt: skip


TOKEN = re.compile(r'\.?([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]')


class Handler(QuietHandler):
    """pydase's REST API: ``GET /api/v1/get_value?access_path=...``, with the simulator's faults."""

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        sim: PydaseSimulator = self.server.sim
        sim.requests.append(self.path)
        status, body = sim.handle(self.path)
        time.sleep(sim.faults.delay_s)
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        late = sim.faults.take_delay("late_next_s")
        if late:
            time.sleep(late)
        self.end_headers()
        try:
            deliver(self.write_now, body, sim.faults)
        except OSError:  # the client gave up, as it must
            self.close_connection = True


class PydaseSimulator:
    title = "pydase service (REST API) on 127.0.0.1; prints the Address and Port"

    def __init__(self, port: int = 0) -> None:
        self.elapsed = stopwatch()
        self.drift = True
        self.service: dict[str, Any] = default_service()
        self.faults = Faults()
        self.requests: list[str] = []
        self.server = HttpServer(("127.0.0.1", port), Handler, self)
        self.port = self.server.server_address[1]

    @property
    def address(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def banner(self) -> str:
        return f"simulated pydase service; Address: 127.0.0.1, Port: {self.port}"

    def start(self) -> PydaseSimulator:
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        close_server(self.server.socket)

    def resolve(self, path: str) -> Any:
        """The value at a pydase access path, or the exception pydase's own lookup raises (getattr, [])."""
        value: Any = self.service.get(path) if path in self.service else self.service
        position = len(path) if path in self.service else 0
        while position < len(path):
            match = TOKEN.match(path, position)
            if match is None:
                raise AttributeError(f"invalid access path {path!r}")
            name, index, key = match.groups()
            if isinstance(value, Raises):
                raise value.error
            if name is not None:
                if type(value) not in (dict, Sub) or name not in value:
                    raise AttributeError(f"'{_type_name(value)}' object has no attribute '{name}'")
                value = value[name]
            elif isinstance(value, list):
                if index is None:
                    raise TypeError("list indices must be integers or slices, not str")
                value = value[int(index)]  # IndexError past its end
            elif isinstance(value, Keyed):
                item = int(index) if index is not None else json.loads(f'"{key}"')
                value = value[item]  # KeyError for a key it does not have
            else:
                raise TypeError(f"'{_type_name(value)}' object is not subscriptable")
            position = match.end()
        if isinstance(value, Raises):
            raise value.error
        if isinstance(value, float) and self.drift:  # the readings drift
            value *= 1 + 0.001 * math.sin(2 * math.pi * self.elapsed() / 60)
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
        except Exception as exc:  # noqa: BLE001 (pydase answers any exception of the lookup with 400)
            return 400, json.dumps(serialize_error(exc)).encode()
        return 200, json.dumps(serialize(value, path)).encode()


main = serve_on_a_port(__spec__, PydaseSimulator)


if __name__ == "__main__":
    raise SystemExit(main())
