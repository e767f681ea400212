"""The real InfluxDB 2.x behind the real Telegraf: what lands is what the devices file says, and nothing is lost."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from line_protocol_parser import parse_line

from telegraf_inputs import registry
from tests.helpers import ROOT, executable

TOKEN = "e2e-influx-token"
ORG = BUCKET = "lab"
EXAMPLE = ROOT / "devices.example.json"


class InfluxDB:
    """influxd on a free 127.0.0.1 port with its data in a temp dir, set up over HTTP."""

    def __init__(self, binary: str, folder: Path) -> None:
        self.binary, self.folder = binary, folder
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                self.binary,
                f"--bolt-path={self.folder / 'influxd.bolt'}",
                f"--engine-path={self.folder / 'engine'}",
                f"--sqlite-path={self.folder / 'influxd.sqlite'}",
                f"--http-bind-address=127.0.0.1:{self.port}",
                "--reporting-disabled",
            ],
            stdout=(self.folder / "influxd.log").open("a"),
            stderr=subprocess.STDOUT,
        )
        end = time.monotonic() + 30
        while time.monotonic() < end:
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=1) as reply:
                    if reply.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise AssertionError("influxd did not start: " + (self.folder / "influxd.log").read_text()[-2000:])

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(30)

    def request(self, path: str, body: bytes, content_type: str, token: str | None = TOKEN) -> bytes:
        headers = {"Content-Type": content_type, "Accept": "application/csv"}
        if token:
            headers["Authorization"] = f"Token {token}"
        request = urllib.request.Request(self.url + path, data=body, headers=headers, method="POST")
        with urllib.request.urlopen(request, timeout=30) as reply:
            return bytes(reply.read())

    def setup(self) -> None:
        setup = {"username": "lab", "password": "lab-password-1", "org": ORG, "bucket": BUCKET, "token": TOKEN}
        self.request("/api/v2/setup", json.dumps(setup).encode(), "application/json", token=None)

    def points(self) -> list[dict]:
        """Every point of the bucket: measurement, tags, field, time (ns), value and its type."""
        query = {
            "query": f'from(bucket: "{BUCKET}") |> range(start: 0)',
            "dialect": {"header": True, "annotations": ["datatype"], "dateTimeFormat": "RFC3339Nano"},
        }
        text = self.request(f"/api/v2/query?org={ORG}", json.dumps(query).encode(), "application/json").decode()
        points, types, header = [], [], []
        for row in csv.reader(io.StringIO(text)):
            if not row or not any(row):
                continue
            if row[0] == "#datatype":
                types, header = row, []
                continue
            if not header:
                header = row
                continue
            record = dict(zip(header, row, strict=False))
            kind = types[header.index("_value")]
            tags = {k: v for k, v in record.items() if k and not k.startswith("_") and k not in ("result", "table")}
            points.append(
                {
                    "measurement": record["_measurement"],
                    "tags": tags,
                    "field": record["_field"],
                    "time": rfc3339_ns(record["_time"]),
                    "type": kind,
                }
            )
        return points


def rfc3339_ns(text: str) -> int:
    """'2026-11-26T10:00:00.123456789Z' -> ns since the epoch."""
    import datetime

    whole, _, fraction = text.rstrip("Z").partition(".")
    seconds = datetime.datetime.fromisoformat(whole).replace(tzinfo=datetime.timezone.utc).timestamp()
    return int(seconds) * 1_000_000_000 + int((fraction or "0").ljust(9, "0")[:9])


@pytest.fixture
def influxdb(influxd_binary: str, tmp_path: Path) -> Iterator[InfluxDB]:
    folder = tmp_path / "influxdb"
    folder.mkdir()
    db = InfluxDB(influxd_binary, folder)
    db.start()
    db.setup()
    yield db
    db.stop()


def lab_conf(tmp_path: Path, url: str, run: int) -> Path:
    """telegraf.conf.example, pointed at the test InfluxDB and the simulators, plus a file output to compare with."""
    text = (ROOT / "telegraf.conf.example").read_text()
    text = text.replace('"/opt/telegraf-lab-inputs/bin/telegraf-lab"', json.dumps(executable("telegraf-lab")[0]))
    text = text.replace('"/etc/telegraf/devices.json", "--health"]', f'"{EXAMPLE}", "--health", "--simulate"]', 1)
    text = text.replace("http://127.0.0.1:8086", url).replace('interval = "10s"', 'interval = "1s"')
    assert url in text and "--simulate" in text
    text += f'\n[[outputs.file]]\n  files = ["{tmp_path / f"written-{run}.lp"}"]\n  data_format = "influx"\n'
    conf = tmp_path / f"telegraf-{run}.conf"
    conf.write_text(text)
    return conf


def start_telegraf(telegraf: str, conf: Path, token: str = TOKEN) -> subprocess.Popen:
    log = conf.with_suffix(".log").open("w")
    return subprocess.Popen(
        [telegraf, "--config", str(conf)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "INFLUX_TOKEN": token},
    )


def written(tmp_path: Path) -> list[dict]:
    """What Telegraf's file output wrote, over every run."""
    lines = []
    for path in sorted(tmp_path.glob("written-*.lp")):
        lines += [parse_line(line) for line in path.read_text().splitlines() if line.strip()]
    return lines


def series(points: list[dict]) -> set[tuple]:
    return {(p["measurement"], tuple(sorted(p["tags"].items())), p["field"], p["time"]) for p in points}


def as_points(lines: list[dict]) -> list[dict]:
    return [
        {"measurement": m["measurement"], "tags": m["tags"], "field": field, "time": m["time"]}
        for m in lines
        for field in m["fields"]
    ]


def test_every_family_lands_as_the_devices_file_says_through_a_restart_and_an_outage(
    telegraf: str, influxdb: InfluxDB, tmp_path: Path
) -> None:
    lab = registry.load(EXAMPLE, simulate=True, environ={})
    first = start_telegraf(telegraf, lab_conf(tmp_path, influxdb.url, 1))
    try:
        time.sleep(4)
    finally:
        first.send_signal(signal.SIGTERM)  # a restart mid-run
        first.wait(30)
    second = start_telegraf(telegraf, lab_conf(tmp_path, influxdb.url, 2))
    try:
        time.sleep(3)
        influxdb.stop()  # InfluxDB away for 30 s: Telegraf buffers
        time.sleep(30)
        influxdb.start()
        time.sleep(8)  # a few flushes
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(30)
    log = (tmp_path / "telegraf-1.log").read_text()
    assert re.search(r"Loaded inputs: execd$", log, re.M), log  # one block: the whole lab
    assert [line for line in log.splitlines() if " E! " in line] == [], log
    in_db = influxdb.points()
    on_file = as_points(written(tmp_path))
    assert all("host" not in p["tags"] for p in in_db)  # omit_hostname, as the older logger wrote none
    assert on_file, "Telegraf wrote nothing"
    # nothing lost through the outage, nothing written twice by the restart: the same points, the same times
    assert series(in_db) == series(on_file)
    assert len(in_db) == len(series(on_file))
    # the older logger's schema, device by device, from the devices file
    landed = {(p["measurement"], tuple(sorted(p["tags"].items())), p["field"]) for p in in_db}
    for group in lab.groups:
        for device in group.devices:
            for channel, fields in group.driver.fields(device):
                tags = tuple(sorted({"device": device.name, **device.config.tags, **channel.tags}.items()))
                for field in fields:  # the field-key and every extra field (a status word's flags)
                    assert (device.config.measurement, tags, field) in landed, (device.name, channel.key, field)
    # field types: what the instrument says, each kept
    health = {p["tags"]["device"] for p in in_db if p["measurement"] == "lab_device"}  # --health, as the example has
    assert health == {d.name for g in lab.groups for d in g.devices}
    types = {(p["tags"]["device"], p["field"]): p["type"] for p in in_db if p["measurement"] != "lab_device"}
    assert types[("DAQ973A rack 1 signals", "voltage")] == "double"
    assert types[("PurpleAir outdoor", "aqi")] == "long"
    assert types[("Chiller for the Ti:sapphire pump", "status_run")] == "boolean"
    assert types[("Chiller for the Ti:sapphire pump", "alarms_active")] == "string"
    assert types[("Chiller for the Ti:sapphire pump", "status")] == "long"


def test_a_wrong_token_is_refused_and_nothing_lands(telegraf: str, influxdb: InfluxDB, tmp_path: Path) -> None:
    conf = lab_conf(tmp_path, influxdb.url, 1)
    proc = start_telegraf(telegraf, conf, token="not-the-token")
    try:
        time.sleep(5)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    assert written(tmp_path), "the lab was read"
    log = conf.with_suffix(".log").read_text()
    assert "401" in log or "unauthorized" in log.lower(), log[-2000:]
    assert influxdb.points() == []
    with pytest.raises(urllib.error.HTTPError) as refused:
        influxdb.request(f"/api/v2/write?org={ORG}&bucket={BUCKET}", b"m x=1", "text/plain", token="not-the-token")
    assert refused.value.code == 401


def test_two_hosts_share_one_devices_file_and_each_reads_only_its_own(
    telegraf: str, influxdb: InfluxDB, tmp_path: Path
) -> None:
    entries = [e for e in json.loads(EXAMPLE.read_text()) if isinstance(e, dict) and e.get("Model") != "PurpleAir"]
    for index, entry in enumerate(entries):
        entry["Host"] = ("pi1", "pi2")[index % 2]
    devices = tmp_path / "lab.json"
    devices.write_text(json.dumps(entries))
    procs = []
    for host in ("pi1", "pi2"):
        command = json.dumps([*executable("telegraf-lab"), "run", "--config", str(devices), "--simulate",
                              "--host", host])  # fmt: skip
        conf = tmp_path / f"{host}.conf"
        conf.write_text(f"""
[global_tags]
  reader = "{host}"
[agent]
  interval = "1s"
  flush_interval = "1s"
  omit_hostname = true
[[inputs.execd]]
  command = {command}
  signal = "STDIN"
  data_format = "influx"
[[outputs.influxdb_v2]]
  urls = ["{influxdb.url}"]
  token = "${{INFLUX_TOKEN}}"
  organization = "{ORG}"
  bucket = "{BUCKET}"
""")
        procs.append(start_telegraf(telegraf, conf))
    try:
        time.sleep(8)
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)
    readers: dict[str, set[str]] = {}
    for point in influxdb.points():
        readers.setdefault(point["tags"]["device"], set()).add(point["tags"]["reader"])
    assert set(readers) == {e["Device"] for e in entries}  # every device read, by one host only: its own
    assert readers == {e["Device"]: {e["Host"]} for e in entries}
