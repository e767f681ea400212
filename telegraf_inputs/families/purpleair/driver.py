"""PurpleAir particle sensors: the cloud API (v1) and sensors' own JSON on the LAN.

Cloud mode: all public sensors of one device entry are fetched in one
``GET /sensors?fields=...&show_only=...`` request asking only for the fields the
channels need (the API charges points per sensor and field).  A sensor with its
own ``PurpleAirReadKey`` (a private one) gets its own ``GET /sensors/{index}``.
Each line is stamped with the sensor's ``last_seen`` time, not the request's;
a sensor not seen for longer than ``MaxAge`` is reported stale and not emitted.

LAN mode (``Address`` set): ``GET http://<sensor>/json?live=true``, free and
keyless.  Its keys are mapped to the API's field names, so channels read the
same ``Type``s in both modes.

Derived values (per channel ``Type``): ``pm2.5_epa`` (US EPA correction,
Barkjohn et al. 2021, with the 2022 extension for smoke), ``aqi_pm2.5`` (US
AQI from that, 2024 breakpoints), ``aqi_pm10.0``, ``pm2.5_ab_difference``.
"""

from __future__ import annotations

import math
import re
import time
import urllib.parse
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any, TypeGuard

from ...base import DeviceError, DeviceSpec, Driver, Reading, Session
from ...config import ChannelConfig, Declaration, DeviceConfig, Node
from ...http_client import HttpClient, HttpError, origin
from ...keys import Integer, Number, Text
from ...lineprotocol import FieldValue
from ...logs import log
from .protocol import (
    API_FIELDS,
    API_KEY_HEADER,
    AQI_PM10,
    AQI_PM25,
    DEFAULT_BASE_URL,
    INTEGER_FIELDS,
    LAN_KEYS,
    LAN_SINGLE,
    LAN_TIME_FORMAT,
    aqi,
)

DEFAULT_FIELD = "0.3_um_count"  # what the older logger read
MAX_TIME_S = 2**63 / 1e9 - 1  # the last second line protocol's int64 nanoseconds can carry
MAX_VALUE = 2.0**62  # a larger number from a sensor is not a reading (and would not fit an integer field)


def epa_pm25(cf1: float, rh: float) -> float:
    """US EPA correction of PurpleAir PM2.5 (µg/m³) from the A/B mean of pm2.5_cf_1 and RH (%).

    Barkjohn et al. 2021 (AMT 14, 4617) below 570 µg/m³; above 611 the quadratic
    fit for smoke of Barkjohn et al. 2022 (Sensors 22, 9669); between, a linear
    blend of the two, as in that paper.
    """
    low = 0.524 * cf1 - 0.0862 * rh + 5.75
    high = 2.966 + 0.69 * cf1 + 8.84e-4 * cf1 * cf1
    if cf1 < 570:
        return low
    if cf1 >= 611:
        return high
    weight = 0.0244 * cf1 - 13.9
    return weight * high + (1 - weight) * low


@dataclass(frozen=True)
class Derived:
    needs: tuple[str, ...]
    compute: Callable[[Mapping[str, float]], tuple[FieldValue, dict[str, FieldValue]]]
    description: str
    unit: str


def _ab_difference(v: Mapping[str, float]) -> tuple[FieldValue, dict[str, FieldValue]]:
    a, b = v["pm2.5_atm_a"], v["pm2.5_atm_b"]
    diff = abs(a - b)
    rpd = 200 * diff / (a + b) if a + b > 0 else 0.0
    # EPA's cleaning drops data where A and B differ by more than 5 µg/m³ AND more than 70 %
    return round(diff, 3), {"percent": round(rpd, 1), "ok": not (diff > 5 and rpd > 70)}


def _epa(v: Mapping[str, float]) -> float:
    return epa_pm25((v["pm2.5_cf_1_a"] + v["pm2.5_cf_1_b"]) / 2, v["humidity"])


#: the extra fields a derived value writes beside its own (as <field-key>_<name>)
DERIVED_EXTRAS = {"pm2.5_ab_difference": ("percent", "ok")}

DERIVED: dict[str, Derived] = {
    "pm2.5_epa": Derived(
        ("pm2.5_cf_1_a", "pm2.5_cf_1_b", "humidity"),
        lambda v: (round(max(_epa(v), 0.0), 2), {}),
        "US EPA-corrected PM2.5",
        "µg/m³",
    ),
    "aqi_pm2.5": Derived(
        ("pm2.5_cf_1_a", "pm2.5_cf_1_b", "humidity"),
        lambda v: (aqi(_epa(v), AQI_PM25, 1), {}),
        "US AQI from the EPA-corrected PM2.5",
        "index",
    ),
    "aqi_pm10.0": Derived(
        ("pm10.0_atm",), lambda v: (aqi(v["pm10.0_atm"], AQI_PM10, 0), {}), "US AQI from PM10", "index"
    ),
    "pm2.5_ab_difference": Derived(
        ("pm2.5_atm_a", "pm2.5_atm_b"), _ab_difference, "|A − B| of pm2.5_atm, with _percent and _ok", "µg/m³"
    ),
}


# -- config ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PaChannel:
    config: ChannelConfig
    sensor: int
    read_key: str | None  # never logged
    type: str

    @property
    def fields(self) -> tuple[str, ...]:
        derived = DERIVED.get(self.type)
        return derived.needs if derived else (self.type,)


@dataclass(frozen=True)
class CloudRequest:
    """One API request of a gather: the batch (``sensor`` None) or one private sensor."""

    sensor: int | None
    read_key: str | None  # never logged
    fields: tuple[str, ...]
    channels: tuple[PaChannel, ...]

    @property
    def sensors(self) -> tuple[int, ...]:
        return _unique(c.sensor for c in self.channels)


def plan_requests(channels: Sequence[PaChannel]) -> tuple[CloudRequest, ...]:
    """All public sensors in one request; one request per private sensor (its own read key)."""
    public = tuple(c for c in channels if c.read_key is None)
    groups: list[tuple[int | None, tuple[PaChannel, ...]]] = [(None, public)] if public else []
    for sensor in _unique(c.sensor for c in channels if c.read_key is not None):
        groups.append((sensor, tuple(c for c in channels if c.sensor == sensor and c.read_key is not None)))
    return tuple(
        CloudRequest(sensor, mine[0].read_key, ("last_seen", *_unique(f for c in mine for f in c.fields)), mine)
        for sensor, mine in groups
    )


@dataclass(frozen=True)
class PaDevice(DeviceSpec):
    api_key: str = ""  # never logged
    base_url: str = DEFAULT_BASE_URL
    lan_url: str | None = None
    timeout_s: float = 10.0
    max_age_s: float = 900.0
    channels: tuple[PaChannel, ...] = ()
    requests: tuple[CloudRequest, ...] = ()  # what one cloud gather asks for

    def cost(self) -> str:
        """Sensor-fields per gather, the unit the API's points are charged in."""
        parts, total = [], 0
        for req in self.requests:
            n = len(req.fields) * len(req.sensors)
            total += n
            what = f"/sensors/{req.sensor}" if req.sensor is not None else f"/sensors for {len(req.sensors)} sensor(s)"
            parts.append(f"{what}: {len(req.fields)} field(s) = {n}")
        return f"{total} sensor-fields per gather ({'; '.join(parts)})"


def _unique(items: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(dict.fromkeys(items))


def _is_number(value: object) -> TypeGuard[int | float]:
    """A JSON number (true/false are not)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# -- HTTP ------------------------------------------------------------------------------------------
RequestFailed = HttpError  # an HTTP exchange failed; its message is safe to log (no keys)


# -- the session -----------------------------------------------------------------------------------
class PaSession(Session):
    """HTTP needs no open connection; this holds the 429 back-off between gathers."""

    def __init__(self) -> None:
        self.backoff_until = 0.0
        self.backoff_s = 0.0
        self.http = HttpClient()  # one kept-alive connection (and TLS session) per device

    def read(self, device: DeviceSpec) -> list[Reading]:
        assert isinstance(device, PaDevice)
        if device.lan_url is not None:
            return self._read_lan(device)
        if not device.api_key.strip():
            raise DeviceError("PurpleAirAPIKey is empty; set it, e.g. to ${PURPLEAIR_API_KEY}")
        readings: list[Reading] = []
        for req in device.requests:
            try:
                rows = self._cloud(device, req)
            except RequestFailed as exc:
                readings += [
                    Reading(c.config, None, time.time_ns(), problem=str(exc), failed=True) for c in req.channels
                ]
                continue
            readings += [self._reading(device, ch, rows.get(ch.sensor)) for ch in req.channels]
        return readings

    def _cloud(self, device: PaDevice, req: CloudRequest) -> dict[int, dict[str, Any]]:
        now = time.monotonic()
        if now < self.backoff_until:
            raise RequestFailed(f"rate limited (HTTP 429): backing off for {self.backoff_until - now:.0f} s more")
        query: dict[str, str] = {"fields": ",".join(req.fields)}
        if req.sensor is None:
            query["show_only"] = ",".join(map(str, req.sensors))
            path, what = "/sensors", f"GET /sensors ({len(req.sensors)} sensor(s))"
        else:
            path, what = f"/sensors/{req.sensor}", f"GET /sensors/{req.sensor}"
            if req.read_key:
                query["read_key"] = req.read_key
        url = device.base_url.rstrip("/") + path + "?" + urllib.parse.urlencode(query, safe=",")
        try:
            body = self.http.get_json(url, {API_KEY_HEADER: device.api_key}, device.timeout_s, what)
        except RequestFailed as exc:
            if exc.status == 429:
                # wait what the server asks for (seconds or a date; anything else counts as nothing),
                # at least a minute, doubling while it persists (max 1 h)
                self.backoff_s = min(max(exc.retry_after or 0.0, 60.0, 2 * self.backoff_s), 3600.0)
                self.backoff_until = time.monotonic() + self.backoff_s
                raise RequestFailed(f"{exc}; no cloud requests for {self.backoff_s:.0f} s") from None
            raise
        self.backoff_s = 0.0
        return _rows(body, what)

    def _reading(self, device: PaDevice, ch: PaChannel, row: Mapping[str, Any] | None) -> Reading:
        now_ns = time.time_ns()
        if row is None:
            return Reading(
                ch.config,
                None,
                now_ns,
                problem=f"sensor {ch.sensor} is not in the reply (no such sensor, or private without a read key)",
                failed=True,
            )
        seen = row.get("last_seen")
        if not _is_number(seen):
            return Reading(ch.config, None, now_ns, problem=f"sensor {ch.sensor}: no last_seen time", failed=True)
        if not (math.isfinite(seen) and 0 < seen < MAX_TIME_S):
            return Reading(
                ch.config, None, now_ns, problem=f"sensor {ch.sensor}: last_seen {seen!r} is not a time", failed=True
            )
        age = now_ns / 1e9 - seen
        if age > device.max_age_s:
            return Reading(
                ch.config, None, now_ns, problem=f"sensor {ch.sensor} is stale: last seen {age:.0f} s ago"
            )  # a warning: the sensor is not reporting, the request worked
        stamp = int(seen) * 1_000_000_000
        values: dict[str, float] = {}
        for name in ch.fields:
            value = row.get(name)
            if not _is_number(value) or not math.isfinite(value) or abs(value) > MAX_VALUE:
                what = f"no {name} in the reply" if not _is_number(value) else f"{name} {value!r} is not a reading"
                return Reading(ch.config, None, stamp, problem=f"sensor {ch.sensor}: {what}", failed=True)
            values[name] = float(value)
        derived = DERIVED.get(ch.type)
        if derived is None:  # floats always (JSON writes 75.0 as 75), so the InfluxDB field type never flips
            number = values[ch.type]
            return Reading(ch.config, int(number) if ch.type in INTEGER_FIELDS else number, stamp)
        main, extra = derived.compute(values)
        return Reading(ch.config, main, stamp, extra=extra)

    def _read_lan(self, device: PaDevice) -> list[Reading]:
        assert device.lan_url is not None
        url = device.lan_url.rstrip("/") + "/json?live=true"
        try:
            body = self.http.get_json(url, {}, device.timeout_s, f"GET {device.lan_url}/json")
        except RequestFailed as exc:
            raise DeviceError(str(exc)) from None
        if not isinstance(body, dict):
            raise DeviceError(f"GET {device.lan_url}/json: expected a JSON object")
        row = lan_row(body)
        return [self._reading(device, ch, row) for ch in device.channels]

    def close(self) -> None:
        self.http.close()


def _rows(body: Any, what: str) -> dict[int, dict[str, Any]]:
    """Sensor index -> {field: value}, from either reply layout."""
    if not isinstance(body, dict):
        raise RequestFailed(f"{what}: expected a JSON object")
    if isinstance(body.get("sensor"), dict):
        sensor = body["sensor"]
        return {int(sensor.get("sensor_index", -1)): sensor}
    fields, data = body.get("fields"), body.get("data")
    if not isinstance(fields, list) or not isinstance(data, list):
        raise RequestFailed(f"{what}: reply has no 'fields' and 'data'")
    rows = {}
    for row in data:
        if isinstance(row, list) and len(row) == len(fields):
            record = dict(zip(fields, row, strict=True))
            if isinstance(record.get("sensor_index"), int):
                rows[record["sensor_index"]] = record
    return rows


def lan_row(body: Mapping[str, Any]) -> dict[str, Any]:
    """A LAN sensor's /json as API fields: A, B (``_b`` keys) and their mean."""
    row: dict[str, Any] = {}
    for api, key in LAN_KEYS.items():
        a, b = body.get(key), body.get(key + "_b")
        if isinstance(a, (int, float)):
            row[api + "_a"] = a
        if isinstance(b, (int, float)):
            row[api + "_b"] = b
        if isinstance(a, (int, float)) and isinstance(b, (int, float)):
            row[api] = (a + b) / 2
        elif isinstance(a, (int, float)):
            row[api] = a
    for api, key in LAN_SINGLE.items():
        if isinstance(body.get(key), (int, float)):
            row[api] = body[key]
    stamp = body.get("DateTime")
    if isinstance(stamp, str):
        try:
            row["last_seen"] = datetime.strptime(stamp, LAN_TIME_FORMAT).replace(tzinfo=timezone.utc).timestamp()
        except ValueError:
            pass
    return row


def _on_lan(field: str) -> bool:
    base = field[:-2] if field.endswith(("_a", "_b")) else field
    return base in LAN_KEYS or field in LAN_SINGLE


# -- the driver ------------------------------------------------------------------------------------
def _checked_url(node: Node, key: str, url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) of an http(s) URL from the file; a ConfigError naming the problem otherwise."""
    if any(c.isspace() or ord(c) < 32 for c in url):
        raise node.error("contains white space or a control character; write the URL alone", key)
    try:
        scheme, host, port = origin(url.strip())
    except ValueError as exc:  # a port that is not a number, say
        raise node.error(f"not a URL: {exc}", key) from None
    if scheme not in ("http", "https") or not host:
        raise node.error("must be an http:// or https:// URL with a host, e.g. https://api.purpleair.com/v1", key)
    return scheme, host, port


DECLARATION = Declaration(
    measurement="purpleair",
    device=(
        Text("Address", "a sensor on the LAN (host or http://host): read its /json, no key needed; "
             "empty: the cloud API"),
        Text("PurpleAirAPIKey", "the cloud API's read key, e.g. ${PURPLEAIR_API_KEY}", secret=True),
        Number("Timeout", "seconds to wait for each HTTP reply", 10, exclusive_minimum=0, maximum=600),
    ),
    device_params=(
        Text("BaseURL", "the API's base URL", DEFAULT_BASE_URL),
        Number("MaxAge", "seconds; a sensor not seen for longer is reported stale", 900, exclusive_minimum=0),
    ),
    channel=(
        Text("Type", "an API field (0.3_um_count, pm2.5_atm, humidity, ...) or a derived value: "
             + ", ".join(DERIVED), DEFAULT_FIELD),
        Integer("PurpleAirSensorIndex", "the sensor's index on the PurpleAir map (cloud mode)", minimum=0),
        Text("PurpleAirReadKey", "a private sensor's read key", secret=True),
    ),
)  # fmt: skip


class PurpleAirDriver(Driver):
    declaration = DECLARATION

    def device_of(self, config: DeviceConfig, node: Node) -> PaDevice:
        values, params = config.values, config.params
        address = values["Address"]
        lan_url = None
        if address is not None and address.strip():
            lan_url = address.strip() if re.match(r"https?://", address.strip()) else f"http://{address.strip()}"
            _checked_url(node, "Address", lan_url)
        channels = []
        for ch in config.channels:
            kind = (ch.type or DEFAULT_FIELD).strip()
            if kind not in API_FIELDS and kind not in DERIVED:
                raise ch.node.error(
                    f"unknown Type {kind!r}: use an API field (e.g. 0.3_um_count, pm2.5_atm, pm2.5_cf_1_a, humidity) "
                    f"or a derived value ({', '.join(DERIVED)})",
                    "Type",
                )
            if lan_url is not None and not all(_on_lan(f) for f in PaChannel(ch, 0, None, kind).fields):
                raise ch.node.error(f"{kind} is not in a sensor's LAN /json (cloud only)", "Type")
            index = ch.values["PurpleAirSensorIndex"]
            if index is None and lan_url is None:
                raise ch.node.error("required key 'PurpleAirSensorIndex' is missing (the sensor's index on the map)")
            read_key = ch.values["PurpleAirReadKey"]
            channels.append(PaChannel(ch, index or 0, read_key.strip() or None if read_key else None, kind))
        base_url = params["BaseURL"]
        scheme, host, _ = _checked_url(params.node, "BaseURL", base_url)
        if scheme == "http" and lan_url is None and (values["PurpleAirAPIKey"] or "").strip():
            log.warning(
                "%s: %s: BaseURL %s is plain http: the API key goes over the network unencrypted",
                node.file,
                params.node.path,
                base_url,
            )
        timeout_s = float(values["Timeout"])
        device = PaDevice(
            requests=() if lan_url else plan_requests(channels),
            config=config,
            connection=f"purpleair|{lan_url or config.name}",
            deadline_s=0.0,
            api_key=values["PurpleAirAPIKey"] or "",
            base_url=base_url,
            lan_url=lan_url,
            timeout_s=timeout_s,
            max_age_s=float(params["MaxAge"]),
            channels=tuple(channels),
        )
        deadline = values["Deadline"]
        requests = 1 if lan_url else len(device.requests)
        return replace(device, deadline_s=float(deadline) if deadline is not None else timeout_s * requests + 1)

    def plan(self, device: DeviceSpec) -> str | None:
        assert isinstance(device, PaDevice)
        if device.lan_url is not None:
            return f"LAN sensor {device.lan_url}/json: no API points"
        per_gather = int(device.cost().split()[0])
        return f"{device.cost()}; at one gather per minute, {per_gather * 1440} sensor-fields per day"

    def fields(self, device: DeviceSpec) -> list[tuple[ChannelConfig, tuple[str, ...]]]:
        assert isinstance(device, PaDevice)
        return [
            (ch.config, (ch.config.field_key, *(f"{ch.config.field_key}_{x}" for x in DERIVED_EXTRAS.get(ch.type, ()))))
            for ch in device.channels
        ]

    def open(self, devices: Sequence[DeviceSpec]) -> Session:
        return PaSession()


DRIVER = PurpleAirDriver()
