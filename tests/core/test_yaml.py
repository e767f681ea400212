"""YAML devices files (the older logger's since mid-2025): the same checks, the same messages, the same lines."""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

from ruamel.yaml import YAML

from tests.helpers import ROOT, executable, parse_lines

EXAMPLE = ROOT / "devices.example.json"


def lab(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(executable("telegraf-lab") + list(args), capture_output=True, text=True, timeout=60, env=env)


def as_yaml(data: object) -> str:
    out = io.StringIO()
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.dump(data, out)
    return out.getvalue()


def schema(stdout: str) -> set[tuple]:
    return {
        (m["measurement"], tuple(sorted(m["tags"].items())), tuple(sorted(m["fields"]))) for m in parse_lines(stdout)
    }


def test_the_example_as_yaml_reads_the_same_devices_into_the_same_lines(tmp_path: Path) -> None:
    file = tmp_path / "devices.yaml"
    file.write_text(as_yaml(json.loads(EXAMPLE.read_text())))
    from_yaml = lab("run", "--config", str(file), "--simulate", "--once")
    from_json = lab("run", "--config", str(EXAMPLE), "--simulate", "--once")
    assert from_yaml.returncode == from_json.returncode == 0, from_yaml.stderr
    assert schema(from_yaml.stdout) == schema(from_json.stdout) and schema(from_yaml.stdout)


OLDER_LOGGER_2025 = """\
# The older logger's YAML shape (its configreader = YAML), with a model this project does not read yet
- Device: Cryo temperatures
  Model: SRS CTC100
  Address: /dev/ttyUSB0
  SerialConnectionParams: {baudrate: 9600, bytesize: 8, stopbits: 1, parity: N}
  Timeout: 1
  tags: {}
  measurement: cryotemperature
  Channels:
    temp4K:
      Type: Temperature
      field-key: temperature
      tags: {sensor: 4K stage, CTC100ChannelName: In1, unit: K}
- Device: Multimeter
  Model: Keysight DAQ973A
  Address: TCPIP0::${DAQ_HOST}::5025::SOCKET
  Timeout: 20
  _comment: comments work as in JSON files
  tags: {room: B12, _note: not a tag}
  measurement: voltage
  Channels:
    '101': {DeviceChannel: 101, Type: DCV, field-key: voltage, DeviceSpecificParams: {NPLC: 10}, tags: {sensor: a}}
"""


def test_an_older_logger_yaml_file_loads_as_it_is(tmp_path: Path) -> None:
    file = tmp_path / "devices.yml"
    file.write_text(OLDER_LOGGER_2025)
    env = {"PATH": "/usr/bin:/bin:" + str(Path(executable("telegraf-lab")[0]).parent), "DAQ_HOST": "192.0.2.10"}
    result = lab("check", str(file), env=env)
    assert result.returncode == 0, result.stderr
    assert "OK, 2 device(s) (daq970a: 1, srs_ctc100: 1)" in result.stdout
    run = lab("run", "--config", str(file), "--simulate", "--once", "-v", env=env)
    lines = {line["tags"]["device"]: line for line in parse_lines(run.stdout)}
    assert lines["Multimeter"]["tags"] == {"device": "Multimeter", "room": "B12", "sensor": "a"}
    assert lines["Cryo temperatures"]["tags"]["CTC100ChannelName"] == "In1"
    assert "Timeout 20 read as 20 s" in run.stderr


def test_a_yaml_syntax_error_names_file_line_and_column(tmp_path: Path) -> None:
    file = tmp_path / "devices.yaml"
    file.write_text("- Device: a\n  Model: Keysight DAQ970A\n  Channels: {101: [1, 2}\n")
    result = lab("check", str(file))
    assert result.returncode == 2
    assert f"{file}: (top level): invalid YAML at line 3, column" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_duplicate_key_in_yaml_is_refused_with_its_line(tmp_path: Path) -> None:
    file = tmp_path / "devices.yaml"
    file.write_text("- Device: a\n  Model: Keysight DAQ970A\n  Device: b\n")
    result = lab("check", str(file))
    assert result.returncode == 2 and "invalid YAML at line 3" in result.stderr and "duplicate key" in result.stderr


def test_a_check_error_in_yaml_names_the_json_path(tmp_path: Path) -> None:
    data = json.loads(EXAMPLE.read_text())
    at = next(i for i, entry in enumerate(data) if "DAQ97" in entry["Model"])
    data[at]["Channels"]["101"]["Type"] = "VOLTS"
    file = tmp_path / "devices.yaml"
    file.write_text(as_yaml(data))
    result = lab("check", str(file))
    assert result.returncode == 2
    assert f"{file}: [{at}].Channels.101.Type: 'VOLTS' is not allowed" in result.stderr
