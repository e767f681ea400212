"""The older logger's devices files of every era, JSON and YAML: they load as they are and write its schema.

Each file in tests/data/older-logger-eras/ is written from the dated facts of the older logger's history
(the keys of that date), named by the date its format appeared.
"""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from telegraf_inputs import registry
from tests.helpers import ROOT, daq_device, executable, parse_lines, write_config

ERAS = sorted((ROOT / "tests" / "data" / "older-logger-eras").glob("*.json"))


def as_file(era: Path, kind: str, tmp_path: Path) -> Path:
    if kind == "json":
        return era
    out = io.StringIO()
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.dump(json.loads(era.read_text()), out)
    path = tmp_path / (era.stem + ".yaml")
    path.write_text(out.getvalue())
    return path


@pytest.mark.parametrize("kind", ["json", "yaml"])
@pytest.mark.parametrize("era", ERAS, ids=lambda p: p.stem)
def test_each_era_loads_as_it_is_and_writes_the_older_schema(era: Path, kind: str, tmp_path: Path) -> None:
    file = as_file(era, kind, tmp_path)
    run = subprocess.run(
        executable("telegraf-lab") + ["run", "--config", str(file), "--simulate", "--once"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": os.environ["PATH"]},  # nothing set: secrets stand in as the simulators' own
    )
    assert run.returncode == 0, run.stderr
    assert "E! " not in run.stderr, run.stderr
    written = {
        (m["measurement"], tuple(sorted(m["tags"].items())), tuple(m["fields"])) for m in parse_lines(run.stdout)
    }
    entries = json.loads(era.read_text())
    unsupported = [e for e in entries if registry.family_of(e["Model"]) is None]
    for entry in entries:
        if entry in unsupported:
            continue
        for channel in entry["Channels"].values():
            tags = tuple(sorted({"device": entry["Device"], **entry["tags"], **channel.get("tags", {})}.items()))
            field = channel.get("field-key", "value")
            assert any(m == entry["measurement"] and t == tags and f[0] == field for m, t, f in written), (
                entry["Device"],
                channel,
            )
    warnings = [line for line in run.stderr.splitlines() if line.startswith("W! ")]
    assert len(warnings) == len(unsupported)
    for warning, entry in zip(warnings, unsupported, strict=True):
        assert f"device {entry['Device']!r} has Model {entry['Model']!r}" in warning


MAY_2022 = ROOT / "tests" / "data" / "older-logger-eras" / "2022-05-19.json"


def test_entries_that_share_a_name_are_read_as_two_devices_and_device_selects_both() -> None:
    # the older logger's example of May 2022: one DAQ, one Address, two entries of one name with
    # different settings (NPLC, AveragingTime); it wrote both under the same device tag
    name = "Keysight DAQ973A multimeter 1"
    run = subprocess.run(
        executable("telegraf-lab") + ["run", "--config", str(MAY_2022), "--simulate", "--once", "--device", name],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    written = sorted((m["tags"]["device"], m["tags"]["channel"]) for m in parse_lines(run.stdout))
    assert written == [(name, "101"), (name, "102"), (name, "103")]


def test_where_names_repeat_log_lines_name_the_entry_by_its_index(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    address = f"TCPIP0::127.0.0.1::{port}::SOCKET"
    first = daq_device(address, Timeout=300)
    second = daq_device(address, Timeout=300, tags={"lab": "other"})
    second["Channels"] = {"103": {"DeviceChannel": 103, "Type": "DCV", "tags": {"sensor": "c"}}}
    unique = daq_device(address, name="alone", Timeout=300, tags={"lab": "x"})
    unique["Channels"] = {"104": {"DeviceChannel": 104, "Type": "DCV"}}
    config = write_config(tmp_path, [first, second, unique])
    run = subprocess.run(
        executable("telegraf-lab") + ["run", "--config", str(config), "--once"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 1 and run.stdout == ""
    errors = [line for line in run.stderr.splitlines() if line.startswith("E! ")]
    assert any("device 'daq' at [0]" in line for line in errors), errors
    assert any("device 'daq' at [1]" in line for line in errors), errors
    assert any("device 'alone'" in line and "'alone' at" not in line for line in errors), errors
