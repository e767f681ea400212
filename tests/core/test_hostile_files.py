"""Devices files written to break things: text that is not Unicode, alias bombs, YAML's number keys, broken
shapes given to migrate, names that would become Telegraf configuration.  Each is a clear error or works."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from telegraf_inputs import registry
from telegraf_inputs.lineprotocol import Metric
from telegraf_inputs.runtime import Runner, encode_lines
from tests.e2e.test_migrate import migrate, older_logger
from tests.helpers import daq_device, executable, parse_lines, write_config


def lab(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(executable("telegraf-lab") + list(args), capture_output=True, text=True, timeout=60)


# -- 6: a lone surrogate ---------------------------------------------------------------------------------
def test_a_lone_surrogate_is_refused_at_start_up_with_its_path(tmp_path: Path) -> None:
    entry = daq_device("TCPIP0::127.0.0.1::5025::SOCKET")
    entry["Channels"]["101"]["tags"]["sensor"] = "B12 \ud83d"
    file = tmp_path / "devices.json"
    file.write_text(json.dumps([entry]))  # json writes it as the escape \ud83d, as an editor might
    for command in (["check", str(file)], ["run", "--config", str(file), "--simulate", "--once"]):
        result = lab(*command)
        assert result.returncode == 2, result
        assert f"{file}: [0].Channels.101.tags.sensor: 'B12 \\\\ud83d' is not Unicode text" in result.stderr
        assert "Traceback" not in result.stderr


def test_a_line_that_cannot_be_encoded_is_dropped_alone() -> None:
    good = Metric("m", {"v": 1.0}, {"device": "d"}, 1)
    bad = Metric("m", {"v": 2.0}, {"device": "d", "sensor": "B12 \ud83d"}, 1)
    assert encode_lines([bad, good]) == b"m,device=d v=1.0 1\n"


def test_an_exception_in_a_worker_does_not_end_it(tmp_path: Path) -> None:
    from telegraf_inputs.families.daq970a.simulator import Daq970aSimulator

    sim = Daq970aSimulator().start()
    try:
        loaded = registry.load(write_config(tmp_path, [daq_device(sim.address)]))
        assert not loaded.problems
        written: list[bytes] = []

        def output(data: bytes) -> None:
            if not written:
                written.append(b"")  # the first write fails, as a bug anywhere past the read would
                raise RuntimeError("a bug")
            written.append(data)

        runner = Runner([(g.driver, g.devices) for g in loaded.groups], output)
        for _ in range(3):
            runner.trigger()
            runner.wait_idle()
        runner.close()
        assert len([d for d in written if d]) == 2  # the two gathers after the failing write were written
        assert {line["tags"]["device"] for d in written if d for line in parse_lines(d.decode())} == {"daq"}
    finally:
        sim.stop()


# -- 9: an alias bomb ------------------------------------------------------------------------------------
def test_nested_yaml_aliases_are_refused_at_once(tmp_path: Path) -> None:
    levels = ["x0: &x0 [" + ", ".join(["lol"] * 10) + "]"]
    levels += [f"x{n}: &x{n} [" + ", ".join([f"*x{n - 1}"] * 10) + "]" for n in range(1, 9)]
    text = "- Device: d\n  Model: Keysight DAQ970A\n  _bomb:\n" + "".join(f"    {level}\n" for level in levels)
    file = tmp_path / "devices.yaml"
    file.write_text(text)
    assert len(text) < 1000
    start = time.monotonic()
    result = lab("check", str(file))
    assert time.monotonic() - start < 20
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "holds more than 1,000,000 values once its aliases are expanded" in result.stderr


def test_an_alias_that_holds_itself_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "devices.yaml"
    file.write_text("- &a\n  Device: d\n  Model: Keysight DAQ970A\n  self: *a\n")
    result = lab("check", str(file))
    assert result.returncode == 2 and "refers to a value that holds it" in result.stderr, result.stderr


# -- 10: YAML keys that are numbers or null ---------------------------------------------------------------
DAQ_YAML = """\
- Device: daq
  Model: Keysight DAQ970A
  Address: TCPIP0::127.0.0.1::5025::SOCKET
  measurement: temperature
  tags: {2024: campaign}
  Channels:
    101:
      DeviceChannel: 101
      Type: DCV
      tags: {sensor: a}
      Converter: {Type: polynomial, Coefficients: {0: 1.5, 1: 2.0}}
"""


def test_number_keys_are_read_as_their_decimal_text(tmp_path: Path) -> None:
    file = tmp_path / "devices.yaml"
    file.write_text(DAQ_YAML)
    result = lab("run", "--config", str(file), "--simulate", "--once")
    assert result.returncode == 0, result.stderr
    (line,) = parse_lines(result.stdout)
    assert line["tags"]["2024"] == "campaign" and line["tags"]["sensor"] == "a"
    loaded = registry.load(file, simulate=True)
    (device,) = loaded.devices
    assert [ch.key for ch in device.config.channels] == ["101"]


@pytest.mark.parametrize(
    ("change", "path", "what"),
    [
        (("    101:\n", "    ~:\n"), "[0].Channels", "null"),
        (("{2024: campaign}", "{true: campaign}"), "[0].tags", "boolean True"),
        (("{0: 1.5, 1: 2.0}", "{0.5: 1.5}"), "[0].Channels.101.Converter.Coefficients", "number 0.5"),
        (("{2024: campaign}", "{2024: a, '2024': b}"), "[0].tags.2024", "given twice"),
    ],
    ids=["null", "boolean", "float", "twice"],
)
def test_keys_that_are_not_text_are_refused_with_their_path(tmp_path: Path, change, path: str, what: str) -> None:
    file = tmp_path / "devices.yaml"
    file.write_text(DAQ_YAML.replace(*change))
    result = lab("check", str(file))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"{file}: {path}: " in result.stderr and what in result.stderr, result.stderr


# -- 11, 12: migrate -------------------------------------------------------------------------------------
@pytest.mark.parametrize("channels", [5, True, "101", None])
def test_migrate_on_a_broken_entry_is_one_line_and_exit_2(tmp_path: Path, channels: object) -> None:
    entry = daq_device("TCPIP0::127.0.0.1::5025::SOCKET")
    entry["Channels"] = channels
    result = migrate(older_logger(tmp_path, write_config(tmp_path, [entry], "devices.json")))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("E! ") and "devices.json: [0]" in line and "Channels" in line


NAMES = [
    'wavemeter\n[[outputs.file]]\n  files = ["/tmp/stolen"]\n#',
    "a\r\n[agent]\r\n  debug = true",
    "name\u2028[[outputs.file]]",
    'x"]\n[[outputs.file]]\n#',
    "tab\tand\x7fdel\x00nul",
]


@pytest.mark.parametrize("name", NAMES)
def test_migrate_writes_only_its_own_sections_whatever_the_names(tmp_path: Path, name: str) -> None:
    devices = [{"Device": name, "Model": f"HighFinesse {name}"}, daq_device("TCPIP0::127.0.0.1::5025::SOCKET")]
    tomllib = pytest.importorskip("tomllib")  # Python 3.11 on
    result = migrate(older_logger(tmp_path, write_config(tmp_path, devices, "devices.json")))
    assert result.returncode == 0, result.stderr
    parsed = tomllib.loads(result.stdout)
    assert set(parsed) == {"agent", "inputs", "outputs"}
    assert set(parsed["inputs"]) == {"execd"} and set(parsed["outputs"]) == {"influxdb_v2"}
    assert len(parsed["inputs"]["execd"]) == 1 and len(parsed["outputs"]["influxdb_v2"]) == 1
    assert set(parsed["agent"]) == {"interval", "flush_interval", "metric_buffer_limit", "omit_hostname"}
