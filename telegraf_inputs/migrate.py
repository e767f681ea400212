"""``telegraf-lab migrate CONFIG_INI``: the older logger's config.ini as a complete Telegraf configuration.

The older logger's ``config.ini`` names the InfluxDB (``[Database]`` url, org,
bucket, token), the pause between passes (``[Update]`` interval, seconds) and the
devices file (``[Devices]`` configpath, relative to the ini's folder, and
configreader JSON or YAML).  The Telegraf configuration written from it runs
``telegraf-lab run`` on that devices file under one ``[[inputs.execd]]`` and
writes to the same InfluxDB; the token itself is never written or printed: it
goes into Telegraf's environment as ``INFLUX_TOKEN``.
"""

from __future__ import annotations

import configparser
import json
import math
import shutil
import sys
from datetime import date
from pathlib import Path

from . import config, registry


class MigrateError(Exception):
    """The ini cannot be migrated; the message says why."""


def _toml(text: str) -> str:
    return json.dumps(text)  # a TOML basic string: JSON's escapes are TOML's (and all but ASCII escaped)


def _comment(text: str) -> str:
    """Text from a file, made safe for a TOML comment: one line, every character TOML allows there.

    A name with a line break would otherwise end the comment and start live configuration.
    """
    return "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in text)


def _channel_count(value: object) -> int:
    """The channels of an entry as given (any shape: ``"Channels": 5`` is reported by ``check``, not here)."""
    channels = value.get("Channels") if isinstance(value, dict) else None
    return len(channels) if isinstance(channels, (dict, list)) else 0


def _get(ini: configparser.ConfigParser, file: Path, section: str, key: str) -> str:
    if not ini.has_option(section, key):
        raise MigrateError(f"{file}: [{section}] has no {key!r}")
    value = ini.get(section, key).strip()
    if not value:
        raise MigrateError(f"{file}: [{section}] {key} is empty")
    return value


def command_path() -> str:
    """The absolute path of the installed telegraf-lab."""
    beside = Path(sys.executable).parent / ("telegraf-lab.exe" if sys.platform == "win32" else "telegraf-lab")
    if beside.exists():
        return str(beside.resolve())
    found = shutil.which("telegraf-lab")
    return str(Path(found).resolve()) if found else "telegraf-lab"


def telegraf_config(ini_path: Path) -> str:
    """The Telegraf configuration for the older logger's ``ini_path``; MigrateError on a broken ini."""
    ini = configparser.ConfigParser(interpolation=None)
    try:
        with ini_path.open(encoding="utf-8-sig") as f:
            ini.read_file(f)
    except OSError as exc:
        raise MigrateError(f"{ini_path}: cannot read the file: {exc.strerror or exc}") from None
    except (configparser.Error, UnicodeDecodeError) as exc:
        raise MigrateError(f"{ini_path}: not a config.ini: {' '.join(str(exc).split())[:300]}") from None
    url, org, bucket = (_get(ini, ini_path, "Database", key) for key in ("url", "org", "bucket"))
    try:
        interval = float(_get(ini, ini_path, "Update", "interval"))
    except ValueError:
        raise MigrateError(f"{ini_path}: [Update] interval is not a number of seconds") from None
    if not math.isfinite(interval) or interval <= 0:
        raise MigrateError(f"{ini_path}: [Update] interval must be a positive number of seconds")
    reader = ini.get("Devices", "configreader", fallback="JSON").strip().upper()
    if reader not in ("JSON", "YAML"):
        raise MigrateError(f"{ini_path}: [Devices] configreader is {reader!r}; the older logger reads JSON or YAML")
    devices_path = (ini_path.parent / _get(ini, ini_path, "Devices", "configpath")).resolve()
    if not devices_path.is_file():
        raise MigrateError(f"{ini_path}: [Devices] configpath: no devices file at {devices_path}")
    if reader == "YAML" and devices_path.suffix.lower() not in (".yaml", ".yml"):
        raise MigrateError(
            f"{ini_path}: configreader is YAML but {devices_path.name} does not end in .yaml or .yml; rename it"
        )
    lab = registry.load(devices_path, simulate=True)  # a key from the environment is not needed to migrate
    if lab.problems:
        count = len(lab.problems) - 1
        more = f" (and {count} more: telegraf-lab check {devices_path})" if count else ""
        raise MigrateError(f"the devices file has a problem: {lab.problems[0]}{more}")
    entries, _ = config.entries(devices_path)
    read = [e for e in entries if registry.family_of(e.model) is not None]
    skipped = [e for e in entries if registry.family_of(e.model) is None]
    channels = sum(_channel_count(e.node.value) for e in read)
    per_hour = max(1, channels) * math.ceil(3600 / interval)
    flush = max(1, min(10, round(interval)))

    out = [
        f"# Written by telegraf-lab migrate from {_comment(str(ini_path.resolve()))} on {date.today()}.",
        "# The older logger wrote each value itself; here Telegraf does, buffering while InfluxDB is away.",
        "",
        "[agent]",
        "  ## the older logger's [Update] interval",
        f'  interval = "{interval:g}s"',
        f'  flush_interval = "{flush}s"',
        f"  ## room for an hour of InfluxDB being away: {channels} line(s) a gather",
        f"  metric_buffer_limit = {max(1000, math.ceil(per_hour * 1.1))}",
        "  ## the older logger wrote no host tag: keep the schema the dashboards use",
        "  omit_hostname = true",
        "",
        f"## Reads, from {_comment(str(devices_path))}:",
        *[f"##   {_comment(e.name)} ({_comment(e.model)})" for e in read],
    ]
    if skipped:
        out += ["## Not supported yet (each gets one W! line at start and is skipped):"]
        out += [f"##   {_comment(e.name)} ({_comment(e.model)})" for e in skipped]
    out += [
        "[[inputs.execd]]",
        '  ## One devices file for every machine of the lab: give each device a "Host" and add "--host", "auto"',
        '  ## to the command on each machine (add "--health" for device health and telegraf-lab template).',
        f'  command = [{_toml(command_path())}, "run", "--config", {_toml(str(devices_path))}]',
        '  signal = "STDIN"',
        '  restart_delay = "10s"',
        '  data_format = "influx"',
        "",
        "[[outputs.influxdb_v2]]",
        f"  urls = [{_toml(url)}]",
        "  ## the token stays out of this file: set INFLUX_TOKEN in Telegraf's environment",
        '  token = "${INFLUX_TOKEN}"',
        f"  organization = {_toml(org)}",
        f"  bucket = {_toml(bucket)}",
        "",
    ]
    return "\n".join(out)


def main(ini_path: Path) -> int:
    """Print the configuration; the exit status (2 with one message for a broken ini)."""
    try:
        text = telegraf_config(ini_path)
    except MigrateError as exc:
        print(f"E! {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(text)
    where = (
        "the service's environment"
        if sys.platform == "win32"
        else "Telegraf's environment file (/etc/default/telegraf, or /etc/sysconfig/telegraf)"
    )
    print(f"I! put the token of [Database] in {where} as INFLUX_TOKEN=...; it is not in this output", file=sys.stderr)
    return 0
