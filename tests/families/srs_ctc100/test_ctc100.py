"""SRS CTC100 through telegraf-srs-ctc100, against the simulator on a pty."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import pytest

from telegraf_inputs.families.srs_ctc100.simulator import Ctc100Simulator
from tests.families.serial_helpers import errors, read_once, running
from tests.helpers import ExecdProcess, load_devices, parse_lines, write_config

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the simulator's line is a pty")
EXE = "telegraf-srs-ctc100"


sim = running(lambda: Ctc100Simulator(names={"Out1": "4K Heat"}))


def ctc(address: str, channels: dict[str, Any] | None = None) -> dict[str, Any]:
    """An entry as the older logger's files (since 30 November 2022) have it."""
    return {
        "Device": "Cryo temperatures",
        "Model": "SRS CTC100",
        "Address": address,
        "SerialConnectionParams": {"baudrate": 9600, "bytesize": 8, "stopbits": 1, "parity": "N"},
        "Timeout": 0.5,
        "tags": {},
        "measurement": "cryotemperature",
        "Channels": channels
        or {
            "temp4K": {"Type": "Temperature", "field-key": "temperature",
                       "tags": {"sensor": "4K stage", "CTC100ChannelName": "In1", "unit": "K"}},
            "heater": {"Type": "HeaterPower", "field-key": "power",
                       "tags": {"sensor": "4K heater", "CTC100ChannelName": "4K Heat", "unit": "W"}},
            "setpoint": {"Type": "PIDSetpoint", "field-key": "setpoint",
                         "tags": {"sensor": "4K heater", "CTC100ChannelName": "4K Heat", "unit": "K"}},
            "aio": {"Type": "Custom", "field-key": "aio",
                    "tags": {"sensor": "AIO", "CTC100CustomCommand": "AIO1.value?"}},
        },
    }  # fmt: skip


def fields(lines: list[dict]) -> dict[str, Any]:
    return {next(iter(line["fields"])): next(iter(line["fields"].values())) for line in lines}


def test_conversation_bytes_values_and_the_name_tags_kept(tmp_path: Path, sim: Ctc100Simulator) -> None:
    code, lines, stderr = read_once(tmp_path, EXE, [ctc(sim.path)])
    assert code == 0, stderr
    assert [r for r, _ in sim.log] == [b"In1?\n", b"4KHeat?\n", b"4KHeat.PID.Setpoint?\n", b"AIO1.value?\n"]
    replies = [float(r.decode()) for _, r in sim.log]  # type: ignore[union-attr]
    assert list(fields(lines).values()) == pytest.approx(replies, rel=1e-5)
    assert lines[0]["tags"]["CTC100ChannelName"] == "In1"  # the older logger wrote it as a tag: dashboards use it
    assert lines[3]["tags"]["CTC100CustomCommand"] == "AIO1.value?"


def test_the_november_2022_sensor_name_tag_reads_the_same(tmp_path: Path, sim: Ctc100Simulator) -> None:
    channels = {"t": {"Type": "Temperature", "field-key": "temperature", "tags": {"CTC100SensorName": "In 3"}}}
    code, lines, stderr = read_once(tmp_path, EXE, [ctc(sim.path, channels)])
    assert code == 0 and [r for r, _ in sim.log] == [b"In3?\n"]
    assert lines[0]["fields"]["temperature"] == pytest.approx(77.1, rel=0.01)


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("error_next", "reply to 'In1?' is not a number: 'Error: invalid command'"),
        ("cut_short_next", "reply to b'In1?\\n' cut short"),
        ("garble_next", "reply to 'In1?' is not a number"),
    ],
)
def test_a_bad_reply_is_an_error_for_its_channel_only(
    tmp_path: Path, sim: Ctc100Simulator, fault: str, message: str
) -> None:
    setattr(sim.faults, fault, True)
    code, lines, stderr = read_once(tmp_path, EXE, [ctc(sim.path)])
    assert code == 0 and set(fields(lines)) == {"power", "setpoint", "aio"}
    (error,) = errors(stderr)
    assert "channel 'temp4K'" in error and message in error


def test_an_unknown_channel_name_and_an_open_sensor_give_no_value(tmp_path: Path, sim: Ctc100Simulator) -> None:
    sim.open_sensors = {"In1"}
    channels = ctc(sim.path)["Channels"]
    channels["typo"] = {"Type": "Temperature", "field-key": "typo", "tags": {"CTC100ChannelName": "In 9"}}
    code, lines, stderr = read_once(tmp_path, EXE, [ctc(sim.path, channels)])
    assert set(fields(lines)) == {"power", "setpoint", "aio"}
    assert "reply to 'In9?' is not a number: 'Error: invalid command'" in errors(stderr)[0]
    assert "'In1?' reads nan (sensor open?)" in errors(stderr, "W!")[0]


def test_silence_and_an_unplugged_adapter_then_recovery(tmp_path: Path) -> None:
    sim = Ctc100Simulator(link=tmp_path / "ctc").start()
    channels = {"t": {"Type": "Temperature", "field-key": "t", "tags": {"CTC100ChannelName": "In1"}}}
    exe = ExecdProcess(["--config", str(write_config(tmp_path, [ctc(str(tmp_path / "ctc"), channels)]))], name=EXE)
    try:
        exe.trigger()
        assert parse_lines(exe.read_lines(1)[0])[0]["fields"]["t"] > 4
        sim.faults.silent = True
        exe.trigger()
        exe.wait_stderr("no reply to b'In1?\\n' within Timeout 0.5 s")
        sim.faults.silent = False
        exe.trigger()
        exe.read_lines(1)
        exe.wait_stderr("recovered after 1 failed gather(s)")
        sim.vanish()
        exe.trigger()
        exe.wait_stderr("failed")
        sim.reappear()
        exe.trigger()
        exe.read_lines(1)
        deadline = time.monotonic() + 5
        while sum("recovered after 1 failed gather(s)" in line for line in exe.stderr) < 2:
            assert time.monotonic() < deadline, exe.stderr
            time.sleep(0.02)
        assert exe.close_stdin() < 2
    finally:
        sim.stop()


def test_one_controller_per_port(tmp_path: Path) -> None:
    entries = [ctc("/dev/ttyUSB0"), {**ctc("/dev/ttyUSB0"), "Device": "again"}]
    code, _, stderr = read_once(tmp_path, EXE, entries)
    assert code == 2 and "[1].Address: the port '/dev/ttyUSB0' is already device 'Cryo temperatures''s" in stderr


def test_the_older_loggers_yaml_era_file_loads(tmp_path: Path) -> None:
    from tests.helpers import ROOT

    (device,) = load_devices("srs_ctc100", ROOT / "tests" / "data" / "older-logger-eras" / "2025-06-02.json")
    assert [ch.request for ch in device.channels] == ["In1?"]


def test_its_own_commands_are_not_read_as_channel_names() -> None:
    """``{name}?`` has the shape of ``*IDN?`` and ``geterror?``: the instrument's commands answer first."""
    from telegraf_inputs.families.srs_ctc100.simulator import Ctc100Simulator

    sim = Ctc100Simulator()
    sim.elapsed = lambda: 75.0  # its clock held: two reads of a channel agree
    assert b",CTC100," in (sim.answer("*IDN?") or b"")
    assert sim.answer("geterror?") == b"0,NO ERROR\r\n"
    assert sim.answer("nosuch?") == sim.error_answer and sim.answer("geterror?") == b"5,Invalid command\r\n"
    assert sim.answer("In1.value?") == sim.answer("In1?")
