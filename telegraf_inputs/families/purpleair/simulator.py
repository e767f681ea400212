"""A simulated PurpleAir cloud API (v1) and LAN sensors, over HTTP on 127.0.0.1.

Cloud: ``GET /v1/sensors/{index}`` and ``GET /v1/sensors?fields=...&show_only=...``
with the API's reply layouts, its ``X-API-Key`` check, its error bodies
(``{"error": "...", "description": "..."}``), unknown fields refused, private
sensors answered only with their ``read_key``.  LAN: ``GET /lan/{index}/json``
with a sensor's own keys (``p_0_3_um``, ``pm2_5_cf_1_b``, ``current_temp_f``...).

Faults on ``PurpleAirSimulator.faults``: a status code for the next N requests
(with ``Retry-After`` for 429), a delay, a body that is not JSON, and sensors
whose ``last_seen`` is old (``Sensor.stale_s``).

Run standalone:  python -m telegraf_inputs.families.purpleair.simulator --port 8080 --key test-key --sensor 108682
"""

from __future__ import annotations

import argparse
import json
import math
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlparse

from ...simulators import (
    HttpServer,
    LateFaults,
    QuietHandler,
    deliver,
    drip,
    network_command_line,
    run_standalone,
    stopwatch,
)
from .protocol import API_FIELDS, API_KEY_HEADER, AQI_PM25, LAN_KEYS, LAN_SINGLE, LAN_TIME_FORMAT, aqi

ERRORS = {
    400: "InvalidFieldValueError",
    403: "ApiKeyInvalidError",
    404: "NotFoundError",
    429: "RateLimitExceededError",
    500: "InternalServerError",
    503: "ServiceUnavailableError",
}


@dataclass
class Sensor:
    index: int
    name: str = ""
    read_key: str | None = None  # private sensors need it
    stale_s: float = 0.0  # last_seen lies this far in the past
    pm25_cf1: float = 12.0  # µg/m³; channel B reads `b_factor` times A
    b_factor: float = 1.05
    humidity: float = 40.0
    elapsed: Callable[[], float] = field(default_factory=stopwatch)  # the drift's clock (time stamps are real)

    def values(self, now: float) -> dict[str, Any]:
        wobble = 1 + 0.1 * math.sin(self.elapsed() / 300 + self.index)
        a = round(self.pm25_cf1 * wobble, 2)
        out: dict[str, Any] = {"sensor_index": self.index, "name": self.name or f"Sensor {self.index}"}
        out["last_seen"] = int(now - 60 - self.stale_s)  # reports every 2 minutes
        for channel, factor in (("_a", 1.0), ("_b", self.b_factor)):
            pm = a * factor
            out["pm2.5_cf_1" + channel] = round(pm, 2)
            out["pm2.5_atm" + channel] = round(pm * 0.9, 2)
            out["pm1.0_cf_1" + channel] = out["pm1.0_atm" + channel] = round(pm * 0.7, 2)
            out["pm10.0_cf_1" + channel] = out["pm10.0_atm" + channel] = round(pm * 1.3, 2)
            out["pm2.5" + channel] = out["pm2.5_atm" + channel]
            out["pm1.0" + channel] = out["pm1.0_atm" + channel]
            out["pm10.0" + channel] = out["pm10.0_atm" + channel]
            out["pm2.5_alt" + channel] = round(pm * 0.8, 2)
            for size, per in (("0.3", 180), ("0.5", 55), ("1.0", 12), ("2.5", 1.5), ("5.0", 0.4), ("10.0", 0.1)):
                out[f"{size}_um_count{channel}"] = round(pm * per, 2)
        for name in [k[:-2] for k in list(out) if k.endswith("_a")]:
            out[name] = round((out[name + "_a"] + out[name + "_b"]) / 2, 2)
        out.update(humidity=self.humidity, temperature=72, pressure=1012.3, confidence=100, channel_flags=0)
        out.update(voc=None, ozone1=None, rssi=-60, uptime=86400)
        return out


@dataclass
class Faults(LateFaults):
    status: int | None = None  # answer this HTTP status ...
    status_count: int = 0  # ... to this many more requests
    retry_after: int | None = None  # Retry-After header with the status
    delay_s: float = 0.0
    bad_json_next: bool = False
    endless_next: bool = False  # answer the next request with a body that never ends
    drip_next: float = 0.0  # send the next body one byte every this many seconds
    cut_short_next: bool = False  # announce a longer body than is sent, then close the connection
    cut_short_path: str | None = None  # do that to every request for this path (e.g. /v1/sensors/12345)
    redirect_to: str | None = None  # answer every request with 302 to this URL (path and query appended)
    error_text_size: int = 0  # pad the error descriptions of faulted replies to this many characters
    values: dict[str, Any] = field(default_factory=dict)  # field -> value, over every sensor's real ones


@dataclass
class Request:
    path: str
    query: dict[str, str]
    headers: dict[str, str] = field(default_factory=dict)  # names in lower case


class Handler(QuietHandler):
    """The cloud API's and the LAN sensors' replies, with the simulator's faults."""

    def end_headers(self) -> None:
        if not self.server.sim.keep_alive:
            self.send_header("Connection", "close")
            self.close_connection = True
        super().end_headers()

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        sim: PurpleAirSimulator = self.server.sim
        url = urlparse(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        sim.requests.append(Request(url.path, query, {k.lower(): v for k, v in self.headers.items()}))
        f = sim.faults
        if f.redirect_to is not None:
            self.send_response(302)
            self.send_header("Location", f.redirect_to.rstrip("/") + self.path.removeprefix("/v1"))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        status, body, headers = sim.answer(url.path, query, self.headers.get(API_KEY_HEADER))
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        if f.endless_next:  # no length, no end: the client must stop reading by itself
            f.endless_next = False
            self.send_header("Connection", "close")
            self.end_headers()
            self._stream(b'{"data": "' + b"x" * 65536, forever=True)
            return
        cut_short, f.cut_short_next = f.cut_short_next or url.path == f.cut_short_path, False
        self.send_header("Content-Length", str(len(data) + (1000 if cut_short else 0)))
        for name, value in headers.items():
            self.send_header(name, value)
        timed = status == 200  # the timing faults are for a sensor's reply: an unknown one's 404 comes at once
        late = f.take_delay("late_next_s") if timed else 0.0
        if late:
            time.sleep(late)
        self.end_headers()
        if f.drip_next:
            interval, f.drip_next = f.drip_next, 0.0
            self._stream(data, interval=interval)
            return
        try:
            deliver(self.write_now, data, f if timed else LateFaults())
        except OSError:  # the client gave up, as it must
            self.close_connection = True
        if cut_short:
            self.close_connection = True

    def _stream(self, data: bytes, *, forever: bool = False, interval: float = 0.0) -> None:
        try:
            while True:
                if interval:
                    drip(self.write_now, data, interval)
                else:
                    self.wfile.write(data)
                if not forever:
                    return
        except OSError:  # the client gave up, as it must
            self.close_connection = True


class PurpleAirSimulator:
    """The cloud API at ``base_url`` and LAN sensors at ``lan_url(index)``."""

    def __init__(
        self,
        api_key: str = "test-key",
        host: str = "127.0.0.1",
        port: int = 0,
        tls: ssl.SSLContext | None = None,
        keep_alive: bool = True,
    ) -> None:
        self.api_key = api_key
        self.keep_alive = keep_alive  # False: every reply closes its connection (a new one, and handshake, each time)
        self.sensors: dict[int, Sensor] = {}
        self.faults = Faults()
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self.server = HttpServer((host, port), Handler, self)
        scheme = "http"
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
            scheme = "https"
        self.base_url = f"{scheme}://{host}:{self.server.server_address[1]}/v1"

    @property
    def connections(self) -> int:
        """How many connections it has accepted."""
        return self.server.connections

    def lan_url(self, index: int) -> str:
        return self.base_url.removesuffix("/v1") + f"/lan/{index}"

    def add_sensor(self, index: int, **kw: Any) -> Sensor:
        with self._lock:
            sensor = self.sensors.get(index) or Sensor(index)
            for key, value in kw.items():
                setattr(sensor, key, value)
            self.sensors[index] = sensor
            return sensor

    def start(self) -> PurpleAirSimulator:
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # ------------------------------------------------------------------ answers

    def _error(self, status: int, description: str, name: str | None = None) -> tuple[int, Any, dict[str, str]]:
        if self.faults.error_text_size > len(description):
            description += " " + "\x1b[31m" + "x" * (self.faults.error_text_size - len(description))
        body = {"api_version": "V1.0.14-0.0.58", "time_stamp": int(time.time())}
        body.update(error=name or ERRORS.get(status, "Error"), description=description)
        return status, body, {}

    def answer(self, path: str, query: dict[str, str], key: str | None) -> tuple[int, Any, dict[str, str]]:
        f = self.faults
        time.sleep(f.delay_s)
        if f.status is not None and f.status_count > 0:
            f.status_count -= 1
            status, body, headers = self._error(f.status, "simulated fault")
            if f.retry_after is not None:
                headers["Retry-After"] = str(f.retry_after)
            return status, body, headers
        if f.bad_json_next:
            f.bad_json_next = False
            return 200, b'{"api_version": "V1.0.14", "data": [[1, ', {}
        now = time.time()
        parts = path.strip("/").split("/")
        if len(parts) == 3 and parts[0] == "lan" and parts[2] == "json" and parts[1].isdigit():
            sensor = self.sensors.get(int(parts[1]))
            if sensor is None:
                return 404, {"error": "not found"}, {}
            return 200, self.lan_json(sensor, now), {}
        if parts[:2] != ["v1", "sensors"]:
            return self._error(404, "Path not found.", "NotFoundError")
        if not key:
            return self._error(403, "No API key was found in the request.", "ApiKeyMissingError")
        if key != self.api_key:
            return self._error(403, "The provided api_key was not valid.", "ApiKeyInvalidError")
        fields = [f for f in query.get("fields", "").split(",") if f]
        unknown = [f for f in fields if f not in API_FIELDS and f not in ("last_seen", "name", "sensor_index")]
        if unknown:
            return self._error(400, f"'{unknown[0]}' is an unknown field.", "InvalidFieldValueError")
        if len(parts) == 3 and parts[2].isdigit():
            sensor = self.sensors.get(int(parts[2]))
            if sensor is None:
                return self._error(404, "Cannot find a sensor with the provided parameters.", "NotFoundError")
            if sensor.read_key is not None and query.get("read_key") != sensor.read_key:
                return self._error(403, "The provided read_key was not valid.", "ApiKeyInvalidError")
            values = {**sensor.values(now), **self.faults.values}  # no fields asked: the API answers all
            chosen = {k: values[k] for k in ["sensor_index", *fields] if k in values} if fields else values
            return 200, {"api_version": "V1.0.14-0.0.58", "time_stamp": int(now), "sensor": chosen}, {}
        if len(parts) != 2:
            return self._error(404, "Path not found.", "NotFoundError")
        wanted = [int(i) for i in query.get("show_only", "").split(",") if i.strip().isdigit()]
        indexes = wanted or sorted(self.sensors)
        rows = []
        for index in indexes:
            sensor = self.sensors.get(index)
            if sensor is None or sensor.read_key is not None:
                continue  # unknown and private sensors are simply absent
            values = {**sensor.values(now), **self.faults.values}
            rows.append([index] + [values.get(f) for f in fields if f != "sensor_index"])
        body = {
            "api_version": "V1.0.14-0.0.58",
            "time_stamp": int(now),
            "data_time_stamp": int(now) - 30,
            "max_age": 604800,
            "fields": ["sensor_index"] + [f for f in fields if f != "sensor_index"],
            "data": rows,
        }
        return 200, body, {}

    @staticmethod
    def lan_json(sensor: Sensor, now: float) -> dict[str, Any]:
        values = sensor.values(now)
        out: dict[str, Any] = {
            "SensorId": f"84:f3:eb:{sensor.index % 256:02x}:00:01",
            "DateTime": time.strftime(LAN_TIME_FORMAT, time.gmtime(values["last_seen"])),
            "Geo": f"PurpleAir-{sensor.index}",
            "version": "7.04",  # the firmware, hardware and key set of a PurpleAir Zen's /json as recorded
            "hardwareversion": "3.0",  # (tests/families/purpleair/conversations.json names the capture)
            "hardwarediscovered": "3.0+BME68X+PMSX003-A+PMSX003-B",
            "current_dewpoint_f": 45,
        }
        for api, key in LAN_KEYS.items():
            out[key] = values[api + "_a"]
            out[key + "_b"] = values[api + "_b"]
        for api, key in LAN_SINGLE.items():
            out[key] = values[api]
        out["pm2.5_aqi"] = aqi(values["pm2.5_atm_a"], AQI_PM25, 1)
        out["pm2.5_aqi_b"] = aqi(values["pm2.5_atm_b"], AQI_PM25, 1)
        return out


def main(argv: list[str] | None = None) -> int:
    def options(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--key", default="test-key", help="the API key it accepts")
        parser.add_argument("--sensor", type=int, action="append", help="sensor index (repeatable)")

    args = network_command_line(__spec__, "PurpleAir API and LAN sensors on 127.0.0.1", argv, options, port=8080)
    sim = PurpleAirSimulator(args.key, port=args.port).start()
    for index in args.sensor or [108682]:
        sim.add_sensor(index)
    return run_standalone(
        f"simulated PurpleAir API: BaseURL {sim.base_url}; LAN sensors at {sim.lan_url(0)[:-2]}/<index>", sim.stop
    )


if __name__ == "__main__":
    raise SystemExit(main())
