"""``telegraf-lab template``: an InfluxDB 2.x template for a lab, generated from its devices file.

The template is the manifest ``influx apply`` and ``/api/v2/templates/apply`` take (a JSON list of
``influxdata.com/v2alpha1`` resources):

- a bucket (unless ``--no-bucket``: the lab writes to one that exists);
- a dashboard per measurement, one graph per field key, grouped by device and the channels' tags,
  the unit tag in the graph's name;
- a dashboard of device health (``lab_device``: up, read time, consecutive failures);
- a deadman check per device on its ``lab_device`` series: crit when no gather read it whole for
  ``--dead-after`` (``--health`` must be on, as telegraf.conf.example has it);
- a threshold check per alarm-count channel the instruments report (the chiller's alarm flags, the
  compressor's alarms and warnings): crit while a flag is set;
- a threshold check per channel ``Alarm`` of the devices file: crit above ``above``, below ``below``;
- with ``--notify URL``, an HTTP notification endpoint and a rule sending every crit to it.

Names, queries and messages are built from the same declarations the lines are written from; every
text from the devices file is escaped for the Flux string it goes into, and the whole is JSON.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .base import DeviceSpec, Driver
from .config import ChannelConfig, Limits
from .health import MEASUREMENT as HEALTH

API = "influxdata.com/v2alpha1"
_DURATION = re.compile(r"[1-9]\d*(ms|s|m|h|d)")


def duration(text: str) -> str:
    """A Flux duration as a check's ``every`` takes it (``30s``, ``5m``, ``1h``); ValueError otherwise."""
    if not _DURATION.fullmatch(text.strip()):
        raise ValueError(f"{text!r} is not a duration like 30s, 5m or 1h")
    return text.strip()


def flux_string(text: str) -> str:
    """``text`` as a Flux string literal: quotes, backslashes and ``${`` (interpolation) escaped."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("${", "\\${")
    escaped = escaped.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return f'"{escaped}"'


def _name(*parts: str) -> str:
    """A resource name InfluxDB accepts (a DNS-1123 label), unique for its parts."""
    text = "-".join(parts)
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:48].strip("-") or "x"
    return f"{slug}-{hashlib.sha1(text.encode()).hexdigest()[:8]}"


def _resource(kind: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": API, "kind": kind, "metadata": {"name": name}, "spec": spec}


@dataclass(frozen=True)
class Series:
    """A field of a channel: where its lines go and what tells them apart."""

    device: DeviceSpec
    channel: ChannelConfig
    field: str

    @property
    def measurement(self) -> str:
        return self.device.config.measurement

    @property
    def tags(self) -> dict[str, str]:
        return {**self.device.config.tags, **self.channel.tags, "device": self.device.config.name}


def _filter(bucket: str, measurement: str, field: str, tags: dict[str, str] | None = None) -> str:
    conditions = [f"r._measurement == {flux_string(measurement)}", f"r._field == {flux_string(field)}"]
    conditions += [f"r[{flux_string(k)}] == {flux_string(v)}" for k, v in sorted((tags or {}).items())]
    return (f"from(bucket: {flux_string(bucket)})\n  |> range(start: v.timeRangeStart, stop: v.timeRangeStop)\n"
            f"  |> filter(fn: (r) => {' and '.join(conditions)})")  # fmt: skip


def _chart(name: str, query: str, index: int) -> dict[str, Any]:
    return {"kind": "XY", "name": name, "xPos": (index % 2) * 6, "yPos": (index // 2) * 3, "width": 6, "height": 3,
            "geom": "line", "position": "overlaid", "queries": [{"query": query}],
            "axes": [{"name": "x", "base": "10", "scale": "linear"}, {"name": "y", "base": "10", "scale": "linear"}],
            "colors": [{"name": "laser", "type": "scale", "hex": "#8F8AF4"}]}  # fmt: skip


def build(
    groups: Sequence[tuple[Driver, Sequence[DeviceSpec]]],
    *,
    bucket: str,
    with_bucket: bool = True,
    every: str = "1m",
    dead_after: str = "5m",
    notify: str | None = None,
) -> list[dict[str, Any]]:
    """The template's resources for the lab's devices."""
    every, dead_after = duration(every), duration(dead_after)
    resources: list[dict[str, Any]] = []
    if with_bucket:
        resources.append(_resource("Bucket", _name("bucket", bucket), {"name": bucket,
                                   "description": "the lab's instruments, written by telegraf-lab"}))  # fmt: skip
    series = [Series(d, ch, ch.field_key) for driver, devices in groups for d in devices for ch, _ in driver.fields(d)]
    resources += _dashboards(series, bucket)
    devices = [d for _, ds in groups for d in ds]
    resources.append(_health_dashboard(devices, bucket))
    checks: list[dict[str, Any]] = []
    for device in {d.config.name: d for d in devices}.values():  # entries sharing a name share their series
        checks.append(_deadman(device, bucket, every, dead_after))
    for driver, devices_of in groups:
        for device in devices_of:
            for channel in driver.alarms(device):
                flags_set = {"type": "greater", "level": "CRIT", "value": 0.5}  # the count of set flags is above 0
                checks.append(_threshold(Series(device, channel, channel.field_key), bucket, every, flags_set,
                                         "alarm flags set"))  # fmt: skip
            for channel in device.config.channels:
                limits: Limits | None = channel.values.get("Alarm")
                if limits is not None:
                    checks.append(_limit(Series(device, channel, channel.field_key), bucket, every, limits))
    resources += checks
    if notify:
        endpoint = _name("endpoint", notify)
        resources.append(_resource("NotificationEndpointHTTP", endpoint, {"name": "telegraf-lab alerts",
                                   "type": "none", "method": "POST", "url": notify, "status": "active"}))  # fmt: skip
        resources.append(_resource("NotificationRule", _name("rule", notify), {
            "name": "telegraf-lab: every crit", "endpointName": endpoint, "every": every, "status": "active",
            "messageTemplate": "${ r._check_name }: ${ r._message }",
            "statusRules": [{"currentLevel": "CRIT"}]}))  # fmt: skip
    return resources


def _dashboards(series: Sequence[Series], bucket: str) -> list[dict[str, Any]]:
    by_measurement: dict[str, dict[str, list[Series]]] = {}
    for s in series:
        by_measurement.setdefault(s.measurement, {}).setdefault(s.field, []).append(s)
    out = []
    for measurement, fields in sorted(by_measurement.items()):
        charts = []
        for index, (field, members) in enumerate(sorted(fields.items())):
            keys = sorted({k for s in members for k in s.tags} - {"unit"})
            units = sorted({s.tags["unit"] for s in members if "unit" in s.tags})
            title = field + (f" ({', '.join(units)})" if units else "")
            group = ", ".join(flux_string(k) for k in keys)
            query = _filter(bucket, measurement, field) + f"\n  |> group(columns: [{group}])"
            charts.append(_chart(title, query, index))
        out.append(_resource("Dashboard", _name("dashboard", measurement), {
            "name": f"{measurement} (telegraf-lab)", "description": f"every field of the {measurement} lines",
            "charts": charts}))  # fmt: skip
    return out


def _health_dashboard(devices: Sequence[DeviceSpec], bucket: str) -> dict[str, Any]:
    group = '\n  |> group(columns: ["device"])'
    up = _filter(bucket, HEALTH, "up") + group + "\n  |> map(fn: (r) => ({r with _value: if r._value then 1 else 0}))"
    charts = [_chart("up (1) or not (0)", up, 0),
              _chart("read time (s)", _filter(bucket, HEALTH, "read_seconds") + group, 1),
              _chart("consecutive failures", _filter(bucket, HEALTH, "consecutive_failures") + group, 2)]  # fmt: skip
    return _resource("Dashboard", _name("dashboard", HEALTH), {
        "name": "device health (telegraf-lab)", "description": f"{len(devices)} device(s): lab_device lines",
        "charts": charts})  # fmt: skip


def _deadman(device: DeviceSpec, bucket: str, every: str, dead_after: str) -> dict[str, Any]:
    name = device.config.name
    query = _filter(bucket, HEALTH, "up", {"device": name}) + "\n  |> filter(fn: (r) => r._value == true)"
    return _resource("CheckDeadman", _name("deadman", name), {
        "name": f"{name}: no good reading", "description": f"crit when {name} was not read whole for {dead_after}",
        "every": every, "level": "CRIT", "query": query, "timeSince": dead_after, "staleTime": "1h",
        "reportZero": True, "status": "active",
        "statusMessageTemplate": f"{_message(name)} was not read whole for {dead_after}"})  # fmt: skip


def _message(text: str) -> str:
    """Text from the devices file in a check's message template (where ``${`` would be interpolated)."""
    return text.replace("${", "$ {")


def _threshold(s: Series, bucket: str, every: str, threshold: dict[str, Any], what: str) -> dict[str, Any]:
    name = s.device.config.name
    query = _filter(bucket, s.measurement, s.field, s.tags) + f"\n  |> aggregateWindow(every: {every}, fn: last)"
    return _resource("CheckThreshold", _name("threshold", name, s.channel.key, s.field), {
        "name": f"{name} {s.channel.key}: {what}", "every": every, "query": query, "status": "active",
        "statusMessageTemplate": f"{_message(name)} {_message(s.channel.key)} {s.field}: {what}, ${{ r._level }}",
        "thresholds": [threshold]})  # fmt: skip


def _limit(s: Series, bucket: str, every: str, limits: Limits) -> dict[str, Any]:
    if limits.above is not None and limits.below is not None:
        threshold: dict[str, Any] = {"type": "outside_range", "level": "CRIT", "min": limits.below,
                                     "max": limits.above}  # fmt: skip
        what = f"outside {limits.below:g} to {limits.above:g}"
    elif limits.above is not None:
        threshold, what = {"type": "greater", "level": "CRIT", "value": limits.above}, f"above {limits.above:g}"
    else:
        assert limits.below is not None
        threshold, what = {"type": "lesser", "level": "CRIT", "value": limits.below}, f"below {limits.below:g}"
    return _threshold(s, bucket, every, threshold, what)


def queries(resources: Sequence[dict[str, Any]]) -> list[str]:
    """Every Flux query of a template (dashboard cells and checks)."""
    out = []
    for resource in resources:
        spec = resource["spec"]
        if "query" in spec:
            out.append(spec["query"])
        for chart in spec.get("charts", ()):
            out += [q["query"] for q in chart["queries"]]
    return out
