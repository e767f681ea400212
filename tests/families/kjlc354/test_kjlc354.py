"""KJLC 354 / 352 ion gauges through telegraf-kjlc354 and telegraf-lab, against the simulator on a pty."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from telegraf_inputs.families.kjlc354.protocol import ReplyError, payload
from telegraf_inputs.families.kjlc354.simulator import Kjlc354Simulator
from tests.families.serial_helpers import errors, fields_of, read_once, running
from tests.helpers import ExecdProcess, load_devices, parse_lines, write_config

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the simulator's line is a pty")
EXE = "telegraf-kjlc354"


sim = running(lambda: Kjlc354Simulator(["01"]))


def gauge(address: str, name: str = "chamber", model: str = "KJLC 354", **params: Any) -> dict[str, Any]:
    """An entry as the older logger's files have it."""
    return {
        "Device": name,
        "Model": model,
        "Address": address,
        "SerialConnectionParams": {"baudrate": 19200, "bytesize": 8, "stopbits": 1, "parity": "N"},
        "DeviceSpecificParams": {"InternalAddress": "01", **params},
        "Timeout": 0.5,
        "tags": {},
        "measurement": "pressure",
        "Channels": {"P": {"Type": "Pressure", "field-key": "pressure", "tags": {"unit": "Torr"}}},
    }


def test_conversation_bytes_and_values(tmp_path: Path, sim: Kjlc354Simulator) -> None:
    entry = gauge(sim.path, ConfirmFilamentIsOn=True)
    entry["Channels"]["CG"] = {"Type": "CG1Pressure", "field-key": "cg1"}
    entry["Channels"]["F"] = {"Type": "FilamentOn", "field-key": "filament"}
    sim.gauges["01"].base_torr = 4.2e-8
    code, lines, stderr = read_once(tmp_path, EXE, [entry])
    assert code == 0, stderr
    requests = [r for r, _ in sim.log]
    assert requests == [b"#01IGS\r", b"#01RD\r", b"#01RDCG1\r"]
    assert [reply for _, reply in sim.log][0] == b"*01 1 IG ON \r"
    fields = fields_of(lines)
    assert fields["cg1"] == 3.1e-3 and fields["filament"] is True
    assert 3.7e-8 <= fields["pressure"] <= 4.7e-8  # the simulated pressure drifts by 10 %
    assert all(line["measurement"] == "pressure" and line["tags"]["device"] == "chamber" for line in lines)


def test_a_352_reads_the_combined_pressure_by_default(tmp_path: Path, sim: Kjlc354Simulator) -> None:
    code, lines, stderr = read_once(tmp_path, EXE, [gauge(sim.path, model="KJLC 352")])
    assert code == 0, stderr
    assert [r for r, _ in sim.log] == [b"#01RDS\r"]
    code, lines, stderr = read_once(tmp_path, EXE, [gauge(sim.path, model="KJLC 352", ReadCombinedPressure=False)])
    assert [r for r, _ in sim.log][-1] == b"#01RD\r"


def test_gauges_on_one_rs485_port_share_one_connection_and_a_silent_one_stops_no_other(
    tmp_path: Path, sim: Kjlc354Simulator
) -> None:
    second = gauge(sim.path, name="absent gauge")
    second["DeviceSpecificParams"]["InternalAddress"] = "0A"  # no gauge answers at 0A
    config = write_config(tmp_path, [gauge(sim.path), second])
    first, other = load_devices("kjlc354", config)
    assert first.connection == other.connection
    code, lines, stderr = read_once(tmp_path, EXE, [gauge(sim.path), second])
    assert code == 1  # one device failed
    assert set(fields_of(lines, "chamber")) == {"pressure"} and fields_of(lines, "absent gauge") == {}
    (error,) = errors(stderr)
    assert "device 'absent gauge'" in error and "no reply to b'#0ARD\\r' within Timeout 0.5 s" in error


@pytest.mark.parametrize(
    ("fault", "level", "message"),
    [
        ("error_next", "E!", "the gauge refused RD: 'INVALID'"),
        ("cut_short_next", "E!", "cut short"),
        ("garble_next", "E!", "reply to RD"),
        ("filament_off", "W!", "the ion gauge is off (9.90E+09: filament off or an IG error)"),
    ],
)
def test_a_bad_reply_or_a_gauge_that_is_off_gives_no_value(
    tmp_path: Path, sim: Kjlc354Simulator, fault: str, level: str, message: str
) -> None:
    entry = gauge(sim.path)
    entry["Channels"]["CG"] = {"Type": "CG1Pressure", "field-key": "cg1"}
    if fault == "filament_off":
        sim.gauges["01"].filament_on = False
    else:
        setattr(sim.faults, fault, True)
    code, lines, stderr = read_once(tmp_path, EXE, [entry])
    assert code == 0, stderr
    assert fields_of(lines) == {"cg1": 3.1e-3}  # the pressure channel is left out, the other goes on
    (problem,) = errors(stderr, level)
    assert "channel 'P'" in problem and message in problem


def test_filament_check_skips_the_ion_gauge_read_while_it_is_off(tmp_path: Path, sim: Kjlc354Simulator) -> None:
    sim.gauges["01"].filament_on = False
    code, lines, stderr = read_once(tmp_path, EXE, [gauge(sim.path, ConfirmFilamentIsOn=True)])
    assert lines == [] and [r for r, _ in sim.log] == [b"#01IGS\r"]
    (warning,) = errors(stderr, "W!")
    assert "the ion gauge's filament is off (IGS)" in warning


def test_a_convection_gauge_over_range_is_a_warning(tmp_path: Path, sim: Kjlc354Simulator) -> None:
    sim.gauges["01"].cg_unplugged = True
    entry = gauge(sim.path)
    entry["Channels"] = {"CG": {"Type": "CG2Pressure", "field-key": "cg2"}}
    code, lines, stderr = read_once(tmp_path, EXE, [entry])
    assert lines == [] and "over range or unplugged (1.01E+03)" in errors(stderr, "W!")[0]


def test_wrong_baud_rate_is_no_reply(tmp_path: Path, sim: Kjlc354Simulator) -> None:
    entry = gauge(sim.path)
    entry["SerialConnectionParams"]["baudrate"] = 9600
    code, lines, stderr = read_once(tmp_path, EXE, [entry])
    assert code == 1 and lines == [] and sim.line_mismatches == 1
    assert "no reply" in errors(stderr)[0] and "SerialConnectionParams" in errors(stderr)[0]


def test_execd_unplugged_adapter_silence_and_deadline_then_recovery(tmp_path: Path) -> None:
    sim = Kjlc354Simulator(["01"], link=tmp_path / "gauge").start()
    entry = gauge(str(tmp_path / "gauge"))
    exe = ExecdProcess(["--config", str(write_config(tmp_path, [entry]))], name=EXE)
    try:
        exe.trigger()
        assert parse_lines(exe.read_lines(1)[0])[0]["fields"]["pressure"] > 0
        sim.vanish()
        exe.trigger()
        exe.wait_stderr("serial port")
        sim.reappear()
        exe.trigger()
        exe.read_lines(1)
        exe.wait_stderr("recovered after 1 failed gather(s)")
        sim.faults.silent = True
        for _ in range(3):
            exe.trigger()
            exe.wait_stderr("no reply to b'#01RD\\r'")
        stderr = "\n".join(exe.stderr)
        assert stderr.count("no reply to b'#01RD\\r'") == 1  # one line per failure streak
        assert exe.close_stdin() < 2
    finally:
        sim.stop()


def test_a_read_longer_than_the_deadline_is_reported_and_the_other_gauge_is_not_held_up(tmp_path: Path) -> None:
    sim = Kjlc354Simulator(["01"]).start()
    other = Kjlc354Simulator(["01"]).start()
    slow = {**gauge(sim.path, name="slow"), "Deadline": 0.2}  # the silent gauge's read takes its Timeout, 0.5 s
    exe = ExecdProcess(["--config", str(write_config(tmp_path, [slow, gauge(other.path, name="fine")]))], name=EXE)
    try:
        sim.faults.silent = True
        exe.trigger()
        (line,) = parse_lines(exe.read_lines(1)[0])
        assert line["tags"]["device"] == "fine"
        exe.wait_stderr("E! device 'slow': no reading within the deadline of 0.2 s")
        assert exe.close_stdin() < 2
    finally:
        sim.stop()
        other.stop()


def test_the_february_2023_files_flags_at_the_top_load(tmp_path: Path) -> None:
    entry = {**gauge("/dev/ttyUSB0"), "ConfirmFilamentIsOn": True, "ReadCombinedPressure": True}
    (device,) = load_devices("kjlc354", write_config(tmp_path, [entry]))
    assert device.confirm_filament and device.commands() == ["IGS", "RDS"]


def test_a_zero_reading_with_the_nul_the_gauge_adds_is_read(tmp_path: Path, sim: Kjlc354Simulator) -> None:
    # source: the egse project's InstruTech IGM402 driver (egse/vacuum/instrutech/igm402_controller.py):
    # "only when the pressure is zero, the device appends a null character" before the reply's CR
    assert payload(b"*01 0.00E+00\x00\r", "01", "RDCG1") == "0.00E+00"
    with pytest.raises(ReplyError, match="has 14 bytes"):
        payload(b"*01 1.00E-03\x01\r", "01", "RDCG1")  # any other extra byte is still refused
    entry = gauge(sim.path)
    entry["Channels"] = {"CG": {"Type": "CG1Pressure", "field-key": "cg1"}}
    sim.gauges["01"].cg1_torr = 0.0
    code, lines, stderr = read_once(tmp_path, EXE, [entry])
    assert code == 0, stderr
    assert [reply for _, reply in sim.log] == [b"*01 0.00E+00\x00\r"]  # the simulator answers as the source says
    assert fields_of(lines) == {"cg1": 0.0}
