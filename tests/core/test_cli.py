"""telegraf-lab run | check | models | schema, through the installed console scripts."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from telegraf_inputs import registry
from tests.helpers import ROOT, ExecdProcess, daq_device, executable, parse_lines, smc_device, write_config

EXAMPLE = ROOT / "devices.example.json"


def lab(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        executable("telegraf-lab") + list(args),
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        stdin=subprocess.DEVNULL,
    )


def empty_environment() -> dict[str, str]:
    """Nothing but what a process needs to start: no secrets, no settings."""
    return {"PATH": os.environ["PATH"]}


def example_devices() -> list[dict[str, Any]]:
    return [d for d in json.loads(EXAMPLE.read_text()) if isinstance(d, dict)]


def test_models_lists_every_model_string_with_its_family() -> None:
    result = lab("models")
    assert result.returncode == 0, result.stderr
    rows = {tuple(line.rsplit(None, 1)) for line in result.stdout.splitlines()}
    for family in registry.families():
        for model in family.models:
            assert (model, family.name) in rows
    assert ("SMC-HRS012-AN-10-T", "smc_hrs") in rows  # the older logger's 2022 spelling


def test_simulate_runs_the_shipped_example_with_an_empty_environment() -> None:
    result = lab("run", "--config", str(EXAMPLE), "--simulate", "--once", env=empty_environment())
    assert result.returncode == 0, result.stderr
    devices = {line["tags"]["device"] for line in parse_lines(result.stdout)}
    assert devices == {d["Device"] for d in example_devices() if registry.family_of(d["Model"])}
    assert "I! --simulate: ${PURPLEAIR_API_KEY} is not set; PurpleAirAPIKey uses the simulator's own key" in (
        result.stderr
    )
    # without --simulate an unset variable stays a configuration error
    result = lab("run", "--config", str(EXAMPLE), "--once", env=empty_environment())
    assert result.returncode == 2
    assert "environment variable PURPLEAIR_API_KEY is not set" in result.stderr
    assert "Traceback" not in result.stderr


def test_one_process_reads_every_family_and_family_restricts_it() -> None:
    everything = parse_lines(lab("run", "--config", str(EXAMPLE), "--simulate", "--once").stdout)
    chiller_names = {d["Device"] for d in example_devices() if d["Model"].upper().startswith("SMC")}
    only = lab("run", "--config", str(EXAMPLE), "--simulate", "--once", "--family", "smc-hrs")
    assert only.returncode == 0, only.stderr
    assert {line["tags"]["device"] for line in parse_lines(only.stdout)} == chiller_names
    assert chiller_names < {line["tags"]["device"] for line in everything}


def test_the_family_alias_is_run_with_that_family(tmp_path: Path) -> None:
    args = ["--config", str(EXAMPLE), "--simulate", "--once"]
    alias = subprocess.run(executable("telegraf-smc-hrs") + args, capture_output=True, text=True, timeout=60)
    assert alias.returncode == 0, alias.stderr
    run = lab("run", "--family", "smc_hrs", *args)
    strip = [(line["measurement"], line["tags"], sorted(line["fields"])) for line in parse_lines(alias.stdout)]
    assert strip == [(line["measurement"], line["tags"], sorted(line["fields"])) for line in parse_lines(run.stdout)]
    assert strip, "the alias printed nothing"


def test_an_unknown_family_is_refused() -> None:
    result = lab("run", "--config", str(EXAMPLE), "--once", "--family", "nope")
    assert result.returncode == 2
    from telegraf_inputs import registry

    known = ", ".join(f.name for f in registry.families())
    assert f"--family 'nope' is not an installed family; known: {known}\n" in result.stderr
    assert "daq970a" in known and "purpleair" in known


def test_unsupported_and_misspelt_models_get_one_warning_each_and_the_rest_run(tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        [
            daq_device("TCPIP0::127.0.0.1::5025::SOCKET", name="good"),
            {"Device": "typo", "Model": "Keysight DAQ970", "Channels": {}},
            {"Device": "stale", "Model": "Slapdash", "Channels": {}},
        ],
    )
    result = lab("run", "--config", str(config), "--simulate", "--once")
    assert result.returncode == 0, result.stderr
    assert {line["tags"]["device"] for line in parse_lines(result.stdout)} == {"good"}
    warnings = [line for line in result.stderr.splitlines() if line.startswith("W! ")]
    assert len(warnings) == 2, result.stderr
    assert "[1]: device 'typo' has Model 'Keysight DAQ970'" in warnings[0]
    assert "(did you mean 'Keysight DAQ970A'?)" in warnings[0]
    assert "device 'stale' has Model 'Slapdash'" in warnings[1] and "did you mean" not in warnings[1]


def test_a_file_with_no_device_read_here_is_an_error(tmp_path: Path) -> None:
    config = write_config(tmp_path, [{"Device": "x", "Model": "PurpleAir"}])
    result = lab("run", "--config", str(config), "--once", "--family", "daq970a")
    assert result.returncode == 2
    assert "no device has a Model read here (Keysight DAQ970A, Keysight DAQ973A)" in result.stderr


def test_check_reports_every_problem_of_a_file_in_one_run(tmp_path: Path) -> None:
    bad_daq = daq_device("TCPIP0::127.0.0.1::5025::SOCKET", name="daq")
    bad_daq["Channels"]["101"]["Type"] = "VOLTS"
    chiller = smc_device("/dev/ttyUSB0", name="chiller", SerialConnectionParams={"parity": "X"})
    config = write_config(
        tmp_path,
        [
            bad_daq,
            chiller,
            {"Device": "air", "Model": "PurpleAir", "Channels": {"a": {"Type": "pm2.5"}}},
            daq_device("TCPIP0::127.0.0.1::5026::SOCKET", name="daq"),
            {"Model": "PurpleAir"},
            daq_device("TCPIP0::127.0.0.1::5027::SOCKET", name="daq"),  # a shared name is allowed, its series not
        ],
    )
    result = lab("check", str(config))
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert f"{config}: [0].Channels.101.Type: 'VOLTS' is not allowed" in lines[0]
    assert f"{config}: [1].SerialConnectionParams.parity: 'X' is not allowed" in result.stderr
    assert f"{config}: [2].Channels.a: required key 'PurpleAirSensorIndex' is missing" in result.stderr
    assert f"{config}: [4]: required key 'Device' is missing" in result.stderr
    assert (
        f"{config}: [5].Channels.101: writes the same field 'value' with the same tags as channel '101' of "
        "device 'daq' at [3], so one would overwrite the other" in result.stderr
    )
    assert lines[-1] == f"{config}: 6 problem(s)"  # [5]'s two channels
    assert "Traceback" not in result.stderr


def test_run_reports_every_problem_too_and_starts_nothing(tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        [
            daq_device("TCPIP0::127.0.0.1::5025::SOCKET", name="a", Timeout="soon"),
            smc_device("/dev/ttyUSB0", name="b", Timeout=-1),
        ],
    )
    result = lab("run", "--config", str(config), "--once")
    assert result.returncode == 2 and result.stdout == ""
    errors = [line for line in result.stderr.splitlines() if line.startswith("E! configuration error: ")]
    assert [e.split(": ")[2] for e in errors] == ["[0].Timeout", "[1].Timeout"]


def test_check_of_a_good_file_says_so_in_one_line(tmp_path: Path) -> None:
    entries = json.loads((ROOT / "tests" / "data" / "older-logger-devices.json").read_text())
    entries.append({"Device": "scope", "Model": "Slapdash", "Channels": {"f": {}}})  # the older logger's, for a while
    file = tmp_path / "devices.json"
    file.write_text(json.dumps(entries))
    result = lab("check", str(file))
    assert result.returncode == 0, result.stderr
    summary = result.stdout.strip().splitlines()
    assert len(summary) == 1
    assert summary[0].endswith(
        "OK, 5 device(s) (daq970a: 2, metone_dr528: 1, purpleair: 1, smc_hrs: 1); 1 skipped (Model not supported)"
    )
    assert "device 'scope' has Model 'Slapdash', which no installed family reads" in result.stderr


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "soon"])
def test_an_interval_that_is_not_a_positive_finite_number_is_refused(value: str) -> None:
    result = lab("run", "--config", str(EXAMPLE), "--once", "--interval", value)
    assert result.returncode == 2
    assert "--interval" in result.stderr and "Traceback" not in result.stderr


def test_execd_mode_serves_every_family_from_one_process() -> None:
    proc = ExecdProcess(["run", "--config", str(EXAMPLE), "--simulate"], name="telegraf-lab")
    try:
        expected = len(parse_lines(lab("run", "--config", str(EXAMPLE), "--simulate", "--once").stdout))
        proc.wait_stderr("simulating 2 smc_hrs device(s)")
        proc.trigger()
        lines = proc.read_lines(expected, timeout=20)
        assert {m for m in (line.split(",")[0] for line in lines)} >= {"temperature", "particlecounts", "chiller"}
        assert proc.close_stdin() < 2
        assert proc.proc.returncode == 0
    finally:
        proc.kill()
