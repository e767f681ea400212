"""`telegraf-lab template`: the resources it generates, its escaping, and its queries against what is written."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from telegraf_inputs import health, registry
from telegraf_inputs import template as templates
from tests.helpers import ROOT, executable, parse_lines, smc_device, write_config

EXAMPLE = ROOT / "devices.example.json"
PAIR = re.compile(r'r\._measurement == ("(?:[^"\\]|\\.)*") and r\._field == ("(?:[^"\\]|\\.)*")')


def unflux(literal: str) -> str:
    """A Flux string literal's text (the escapes flux_string writes)."""
    assert literal[0] == literal[-1] == '"'
    out, body, i = [], literal[1:-1], 0
    while i < len(body):
        if body[i] == "\\":
            out.append({"n": "\n", "r": "\r", "t": "\t"}.get(body[i + 1], body[i + 1]))
            i += 2
        else:
            assert body[i] != '"', literal
            out.append(body[i])
            i += 1
    return "".join(out)


@given(st.text())
def test_any_text_is_a_flux_string_that_reads_back_and_never_interpolates(text: str) -> None:
    literal = templates.flux_string(text)
    assert unflux(literal) == text
    assert re.search(r"(?<!\\)\$\{", literal) is None  # ${ would be string interpolation in Flux


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(executable("telegraf-lab") + list(args), capture_output=True, text=True, timeout=60)


def test_every_query_of_the_example_labs_template_names_fields_its_lines_carry() -> None:
    result = run("template", "--config", str(EXAMPLE))
    assert result.returncode == 0, result.stderr
    resources = json.loads(result.stdout)
    read = run("run", "--config", str(EXAMPLE), "--simulate", "--once", "--health")
    assert read.returncode == 0, read.stderr
    written = {(line["measurement"], field) for line in parse_lines(read.stdout) for field in line["fields"]}
    queries = templates.queries(resources)
    asked = {(unflux(m), unflux(f)) for q in queries for m, f in PAIR.findall(q)}
    assert len(asked) >= 20 and all(PAIR.search(q) for q in queries)
    assert asked <= written, f"queried but never written: {sorted(asked - written)}"
    lab = registry.load(EXAMPLE, simulate=True)
    names = {d.config.name for d in lab.devices}
    kinds = [r["kind"] for r in resources]
    assert kinds.count("CheckDeadman") == len(names)
    assert {(health.MEASUREMENT, f) for f in ("up", "read_seconds", "consecutive_failures")} <= asked
    assert all(re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", r["metadata"]["name"]) for r in resources)
    assert len({r["metadata"]["name"] for r in resources}) == len(resources)


def test_alarm_flags_and_channel_limits_become_threshold_checks(tmp_path: Path) -> None:
    entry = smc_device("/dev/ttyUSB0", 'chiller "B" \\back', Channels={
        "PV1": {"Type": "PV1", "Alarm": {"above": 25.0}},
        "SV1": {"Type": "SV1", "field-key": "setpoint", "Alarm": {"above": 30.0, "below": 10.0}},
        "alarms": {"Type": "ALARMS", "field-key": "alarms"}}, DeviceSpecificParams={"Protocol": "modbus"})  # fmt: skip
    result = run("template", "--config", str(write_config(tmp_path, [entry])), "--no-bucket", "--every", "30s",
                 "--notify", "https://alerts.example.org/hook")  # fmt: skip
    assert result.returncode == 0, result.stderr
    resources = json.loads(result.stdout)
    thresholds = {r["spec"]["name"]: r["spec"] for r in resources if r["kind"] == "CheckThreshold"}
    prefix = 'chiller "B" \\back'
    assert thresholds[f"{prefix} PV1: above 25"]["thresholds"] == [{"type": "greater", "level": "CRIT", "value": 25.0}]
    assert thresholds[f"{prefix} SV1: outside 10 to 30"]["thresholds"] == [
        {"type": "outside_range", "level": "CRIT", "min": 10.0, "max": 30.0}]  # fmt: skip
    assert thresholds[f"{prefix} alarms: alarm flags set"]["thresholds"][0]["value"] == 0.5
    assert all(spec["every"] == "30s" for spec in thresholds.values())
    assert "Bucket" not in {r["kind"] for r in resources}
    assert {"NotificationEndpointHTTP", "NotificationRule"} <= {r["kind"] for r in resources}
    for spec in thresholds.values():  # the name is one escaped Flux string in each query
        assert 'r["device"] == "chiller \\"B\\" \\\\back"' in spec["query"]


def test_bad_options_and_bad_limits_are_clear_errors(tmp_path: Path) -> None:
    good = write_config(tmp_path, [smc_device("/dev/ttyUSB0")])
    assert "is not a duration" in run("template", "--config", str(good), "--every", "soon").stderr
    assert "not an http" in run("template", "--config", str(good), "--notify", "file:///etc/passwd").stderr
    entry = smc_device("/dev/ttyUSB0", Channels={"PV1": {"Type": "PV1", "Alarm": {"above": 10, "below": 20}}})
    bad = write_config(tmp_path, [entry])
    result = run("template", "--config", str(bad))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"{bad}: [0].Channels.PV1.Alarm: 'below' (20) must be under 'above' (10)" in result.stderr
    result = run("run", "--config", str(bad), "--once")
    assert result.returncode == 2 and "Channels.PV1.Alarm" in result.stderr
