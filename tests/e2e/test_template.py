"""`telegraf-lab template` applied to the real InfluxDB, fed by the real Telegraf running `telegraf-lab run --health`.

Three simulated instruments on their real transports: an SMC chiller (Modbus RTU on a pty) with its
alarm flags read, and two SCPI controllers on TCP, one with a channel `Alarm` limit.  The template
applies without error; its bucket, dashboards and checks exist through the API; every dashboard
cell's query returns data; then, one at a time, a simulator stops (its deadman check goes crit, the
others' stay ok), an alarm flag is raised (the chiller's threshold check goes crit), and a limit is
crossed (that channel's check goes crit).  Statuses are read from `_monitoring`, as InfluxDB writes them.
"""

from __future__ import annotations

import csv
import io
import json
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from telegraf_inputs import template as templates
from telegraf_inputs.families.scpi.simulator import ScpiSimulator
from telegraf_inputs.families.smc_hrs.simulator import HrsSimulator
from tests.e2e.test_influxdb import ORG, TOKEN, InfluxDB, start_telegraf
from tests.helpers import executable, smc_device

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the chiller's simulator is on a pty")
BUCKET = "monitored"
EVERY, DEAD_AFTER = "5s", "10s"


def get(db: InfluxDB, path: str) -> Any:
    request = urllib.request.Request(db.url + path, headers={"Authorization": f"Token {TOKEN}"})
    with urllib.request.urlopen(request, timeout=30) as reply:
        return json.loads(reply.read())


def post_json(db: InfluxDB, path: str, body: Any) -> Any:
    data = db.request(path, json.dumps(body).encode(), "application/json")
    return json.loads(data) if data.strip() else None


def rows(db: InfluxDB, flux: str) -> list[dict[str, str]]:
    query = {"query": flux, "dialect": {"header": True, "annotations": []}}
    text = db.request(f"/api/v2/query?org={ORG}", json.dumps(query).encode(), "application/json").decode()
    out, header = [], None
    for row in csv.reader(io.StringIO(text)):
        if not row or not any(row):
            header = None
            continue
        if header is None:
            header = row
            continue
        out.append(dict(zip(header, row, strict=False)))
    return out


def levels(db: InfluxDB, since_ns: int) -> dict[str, str]:
    """The latest status level of each check, among statuses written since ``since_ns``."""
    flux = (f'from(bucket: "_monitoring") |> range(start: time(v: {since_ns}))'
            ' |> filter(fn: (r) => r._measurement == "statuses" and r._field == "_message")'
            ' |> group(columns: ["_check_name"]) |> last()')  # fmt: skip
    return {r["_check_name"]: r["_level"] for r in rows(db, flux)}


def wait_for(what: str, condition: Any, timeout_s: float = 60) -> Any:
    end = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < end:
        last = condition()
        if last:
            return last
        time.sleep(1)
    raise AssertionError(f"{what}: not within {timeout_s:g} s (last: {last})")


@pytest.fixture
def influxdb(influxd_binary: str, tmp_path: Path) -> Iterator[InfluxDB]:
    folder = tmp_path / "influxdb"
    folder.mkdir()
    db = InfluxDB(influxd_binary, folder)
    db.start()
    db.setup()
    yield db
    db.stop()


def levels_when(db: InfluxDB, since_ns: int, what: str, check: str, level: str) -> dict[str, str]:
    """Wait until ``check``'s latest status since ``since_ns`` is ``level``; every check's latest level then."""

    def seen() -> dict[str, str] | None:
        found = levels(db, since_ns)
        return found if found.get(check) == level else None

    result: dict[str, str] = wait_for(what, seen)
    return result


def telegraf_conf(tmp_path: Path, db: InfluxDB, devices: Path) -> Path:
    command = json.dumps([*executable("telegraf-lab"), "run", "--config", str(devices), "--health"])
    conf = tmp_path / "telegraf.conf"
    conf.write_text(f"""
[agent]
  interval = "1s"
  flush_interval = "1s"
  omit_hostname = true
[[inputs.execd]]
  command = {command}
  signal = "STDIN"
  data_format = "influx"
[[outputs.influxdb_v2]]
  urls = ["{db.url}"]
  token = "${{INFLUX_TOKEN}}"
  organization = "{ORG}"
  bucket = "{BUCKET}"
""")
    return conf


def test_the_lab_template_applies_and_its_checks_fire_on_the_real_influxdb(
    telegraf: str, influxdb: InfluxDB, tmp_path: Path
) -> None:
    chiller = HrsSimulator(protocol="modbus").start()
    cryostat = ScpiSimulator({"KRDG? A": "+077.100"}, read_termination="\r\n", write_termination="\r\n").start()
    oven = ScpiSimulator({"TEMP?": "+021.500"}).start()
    proc = None
    try:
        scpi = {"Model": "SCPI", "Timeout": 1, "measurement": "cryostat"}
        entries = [
            smc_device(chiller.path, "chiller", Timeout=1, DeviceSpecificParams={"Protocol": "modbus"},
                       Channels={"PV1": {"Type": "PV1", "tags": {"unit": "DegC"}},
                                 "alarms": {"Type": "ALARMS", "field-key": "alarms"}}),
            {**scpi, "Device": "cryostat", "Address": cryostat.address,
             "DeviceSpecificParams": {"ReadTermination": "\r\n", "WriteTermination": "\r\n", "ErrorQuery": ""},
             "Channels": {"A": {"Query": "KRDG? A", "field-key": "kelvin", "tags": {"sensor": "A", "unit": "K"},
                                "Alarm": {"above": 100.0, "below": 50.0}}}},
            {**scpi, "Device": "oven", "Address": oven.address, "DeviceSpecificParams": {"ErrorQuery": ""},
             "Channels": {"t": {"Query": "TEMP?", "field-key": "celsius"}}},
        ]  # fmt: skip
        devices = tmp_path / "devices.json"
        devices.write_text(json.dumps(entries))
        from telegraf_inputs import registry

        lab = registry.load(devices)
        assert not lab.problems, lab.problems
        resources = templates.build([(g.driver, g.devices) for g in lab.groups], bucket=BUCKET, every=EVERY,
                                    dead_after=DEAD_AFTER)  # fmt: skip
        kinds = [r["kind"] for r in resources]
        assert kinds.count("CheckDeadman") == 3 and kinds.count("CheckThreshold") == 2 and "Bucket" in kinds

        org_id = get(influxdb, "/api/v2/orgs")["orgs"][0]["id"]
        applied = post_json(influxdb, "/api/v2/templates/apply",
                            {"orgID": org_id, "template": {"contents": resources}})  # fmt: skip
        assert not applied.get("errors"), applied
        assert BUCKET in {b["name"] for b in get(influxdb, f"/api/v2/buckets?orgID={org_id}")["buckets"]}
        dashboards = {d["name"] for d in get(influxdb, f"/api/v2/dashboards?orgID={org_id}")["dashboards"]}
        assert {"temperature (telegraf-lab)", "cryostat (telegraf-lab)", "device health (telegraf-lab)"} <= dashboards
        checks = {c["name"]: c for c in get(influxdb, f"/api/v2/checks?orgID={org_id}")["checks"]}
        assert {"chiller: no good reading", "cryostat: no good reading", "oven: no good reading",
                "chiller alarms: alarm flags set", "cryostat A: outside 50 to 100"} == set(checks)  # fmt: skip

        proc = start_telegraf(telegraf, telegraf_conf(tmp_path, influxdb, devices))
        started = time.time_ns()
        for query in templates.queries(resources):  # every cell and check query finds data
            flux = query.replace("v.timeRangeStart", "-1h").replace("v.timeRangeStop", "now()")
            wait_for(f"data for {query!r}", lambda flux=flux: rows(influxdb, flux))

        def all_ok() -> dict[str, str] | None:
            found = levels(influxdb, started)
            return found if set(found) == set(checks) and set(found.values()) == {"ok"} else None

        wait_for("every check ok", all_ok, 90)

        oven.stop()
        after = levels_when(influxdb, time.time_ns(), "the oven's deadman crit", "oven: no good reading", "crit")
        assert after.get("chiller: no good reading") == after.get("cryostat: no good reading") == "ok", after

        chiller.raise_alarm("low_tank_level")
        levels_when(influxdb, time.time_ns(), "the chiller's alarm check crit", "chiller alarms: alarm flags set",
                    "crit")  # fmt: skip

        cryostat.answers["KRDG? A"] = "+150.000"
        now = levels_when(influxdb, time.time_ns(), "the limit check crit", "cryostat A: outside 50 to 100", "crit")
        assert now.get("cryostat: no good reading") == "ok", now
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(20)
        for sim in (chiller, cryostat, oven):
            sim.stop()


def test_the_template_of_the_example_devices_file_applies_cleanly(influxdb: InfluxDB) -> None:
    from telegraf_inputs import registry
    from tests.e2e.test_influxdb import EXAMPLE

    lab = registry.load(EXAMPLE, simulate=True, environ={})
    resources = templates.build([(g.driver, g.devices) for g in lab.groups], bucket="example-lab")
    org_id = get(influxdb, "/api/v2/orgs")["orgs"][0]["id"]
    applied = post_json(influxdb, "/api/v2/templates/apply", {"orgID": org_id, "template": {"contents": resources}})
    assert not applied.get("errors"), applied
    # the API lists 20 by default: the example's 16 devices have 21 checks now
    checks = get(influxdb, f"/api/v2/checks?orgID={org_id}&limit=100")["checks"]
    assert len(checks) == sum(r["kind"].startswith("Check") for r in resources) > len(lab.devices) // 2
    dashboards = get(influxdb, f"/api/v2/dashboards?orgID={org_id}&limit=100")["dashboards"]
    assert len(dashboards) == sum(r["kind"] == "Dashboard" for r in resources)
