"""rp-lockbox through telegraf-rp-lockbox, against the simulated SCPI server on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from telegraf_inputs.families.rp_lockbox.simulator import LockboxSimulator
from tests.families.serial_helpers import errors, read_once, running
from tests.helpers import ExecdProcess, parse_lines, write_config

EXE = "telegraf-rp-lockbox"


sim = running(LockboxSimulator)


def lockbox(port: int, channels: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """An entry with the older logger's keys (2023-07 and 2023-10)."""
    return {
        "Device": "Lockbox",
        "Model": "rp-lockbox",
        "Address": "127.0.0.1",
        "SCPIConnectionParams": {"Port": port},
        "Timeout": 0.4,
        "tags": {},
        "measurement": "lockbox",
        "Channels": channels,
        **extra,
    }


def fields(lines: list[dict]) -> dict[str, Any]:
    return {k: v for line in lines for k, v in line["fields"].items()}


def test_pid_digit_order_input_first_both_ways(tmp_path: Path, sim: LockboxSimulator) -> None:
    sim.pids["PID21"].kp = 100  # the lock box's PID21: input 1 to output 2
    sim.pids["PID12"].kp = 200  # its PID12: input 2 to output 1
    channels = {
        "in1_out2": {"Type": "PGain", "PID": "12", "field-key": "kp_in1_out2"},
        "in2_out1": {"Type": "PGain", "PID": 21, "field-key": "kp_in2_out1"},
        "explicit": {"Type": "PGain", "PIDInput": 1, "PIDOutput": 2, "field-key": "kp_explicit"},
    }
    code, lines, stderr = read_once(tmp_path, EXE, [lockbox(sim.port, channels)], "-v")
    assert code == 0, stderr
    assert fields(lines) == {"kp_in1_out2": 100.0, "kp_in2_out1": 200.0, "kp_explicit": 100.0}
    assert sim.received == [b"PID:IN1:OUT2:KP?\r\n", b"PID:IN2:OUT1:KP?\r\n"]  # the same query asked once
    assert "in1_out2: input 1 -> output 2 (the lock box's PID21)" in stderr


def test_every_type(tmp_path: Path, sim: LockboxSimulator) -> None:
    pid = sim.pids["PID21"]
    pid.kg, pid.ki, pid.kii, pid.kd, pid.setpoint, pid.hold, pid.inverted = 2048, 1000, 10, 2, 0.25, True, True
    channels = {
        "ain": {"Type": "FastAnalogIn", "DeviceChannel": 1, "field-key": "in1"},
        "aout": {"Type": "FastAnalogOut", "DeviceChannel": 2, "field-key": "out2"},
        **{t: {"Type": t, "PID": "12", "field-key": t} for t in
           ("GlobalGain", "IGain", "IIGain", "DGain", "Setpoint", "Hold", "Relock", "Inverted")},
    }  # fmt: skip
    code, lines, stderr = read_once(tmp_path, EXE, [lockbox(sim.port, channels)])
    assert code == 0, stderr
    got = fields(lines)
    assert abs(got["in1"]) <= 0.01 and got["out2"] == -0.25
    assert {k: got[k] for k in ("GlobalGain", "IGain", "IIGain", "DGain", "Setpoint")} == {
        "GlobalGain": 2048.0, "IGain": 1000.0, "IIGain": 10.0, "DGain": 2.0, "Setpoint": 0.25}  # fmt: skip
    assert (got["Hold"], got["Relock"], got["Inverted"]) == (True, False, True)
    assert b"PID:IN1:OUT2:KG?\r\n" in sim.received and b"ANALOG:OUT2:VOLT?\r\n" in sim.received


def test_faults(tmp_path: Path, sim: LockboxSimulator) -> None:
    channels = {"a": {"Type": "PGain", "PID": "11", "field-key": "a"}, "b": {"Type": "IGain", "PID": "11",
                                                                             "field-key": "b"}}  # fmt: skip
    sim.faults.garble_next = True
    code, lines, stderr = read_once(tmp_path, EXE, [lockbox(sim.port, channels)])
    assert fields(lines) == {"b": 0.0} and "'PID:IN1:OUT1:KP?' answered '#', not a number" in errors(stderr)[0]
    sim.faults.cut_short_next = True
    code, lines, stderr = read_once(tmp_path, EXE, [lockbox(sim.port, channels)])
    assert code == 1 and "reply not complete within the timeout of 0.4 s" in errors(stderr)[0]
    sim.faults.silent = True
    code, lines, stderr = read_once(tmp_path, EXE, [lockbox(sim.port, channels)])
    assert code == 1 and "no reply to 'PID:IN1:OUT1:KP?'" in stderr


def test_refused_then_recovery(tmp_path: Path) -> None:
    sim = LockboxSimulator().start()
    port = sim.port
    sim.stop()
    channels = {"a": {"Type": "PGain", "PID": "11"}}
    exe = ExecdProcess(["--config", str(write_config(tmp_path, [lockbox(port, channels)]))], name=EXE)
    try:
        exe.trigger()
        exe.wait_stderr(f"cannot connect to 127.0.0.1:{port}: Connection refused")
        sim = LockboxSimulator(port).start()
        exe.trigger()
        assert parse_lines(exe.read_lines(1)[0])[0]["fields"] == {"value": 0.0}
        exe.wait_stderr("recovered after 1 failed gather(s)")
        assert exe.close_stdin() < 2
    finally:
        sim.stop()
