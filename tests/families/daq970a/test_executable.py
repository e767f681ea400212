"""telegraf-daq970a as a subprocess against the simulator over TCP, driven like Telegraf drives it."""

from __future__ import annotations

import os
import selectors
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from telegraf_inputs.families.daq970a.simulator import Daq970aSimulator
from tests.helpers import ROOT, ExecdProcess, daq_device, executable, parse_lines, run_once, write_config


def test_once_prints_one_line_per_channel_with_the_older_schema(tmp_path: Path, sim: Daq970aSimulator) -> None:
    config = write_config(tmp_path, [daq_device(sim.address)])
    before = time.time_ns()
    result = run_once(["--config", str(config)])
    after = time.time_ns()
    assert result.returncode == 0, result.stderr
    a, b = parse_lines(result.stdout)
    assert a["measurement"] == "temperature"
    assert a["tags"] == {"device": "daq", "lab": "test", "sensor": "a", "unit": "DegC"}
    assert set(a["fields"]) == {"value"} and 15 < a["fields"]["value"] < 35
    assert b["tags"] == {"device": "daq", "lab": "test", "sensor": "b"}
    assert set(b["fields"]) == {"voltage"}
    assert before <= a["time"] == b["time"] <= after  # stamped with the scan's time, in ns


def test_once_exits_nonzero_when_a_device_fails_and_still_prints_the_others(
    tmp_path: Path, sim: Daq970aSimulator
) -> None:
    with socket.socket() as s:  # a port where nothing listens
        s.bind(("127.0.0.1", 0))
        dead = f"TCPIP0::127.0.0.1::{s.getsockname()[1]}::SOCKET"
    config = write_config(tmp_path, [daq_device(dead, name="absent"), daq_device(sim.address, name="present")])
    result = run_once(["--config", str(config)])
    assert result.returncode == 1
    assert {line["tags"]["device"] for line in parse_lines(result.stdout)} == {"present"}
    assert "E! device 'absent':" in result.stderr


def test_config_error_exits_2_with_file_and_path(tmp_path: Path) -> None:
    config = write_config(tmp_path, [daq_device("x", Channels={"1": {"DeviceChannel": 101, "Type": "VOLTS"}})])
    result = run_once(["--config", str(config)])
    assert result.returncode == 2
    assert result.stdout == ""
    assert f"E! configuration error: {config}: [0].Channels.1.Type: 'VOLTS' is not allowed" in result.stderr


def test_simulate_runs_the_example_without_hardware() -> None:
    example = ROOT / "devices.example.json"
    result = run_once(["--config", str(example), "--simulate"])
    assert result.returncode == 0, result.stderr
    lines = parse_lines(result.stdout)
    assert len(lines) == 14
    assert {line["tags"]["device"] for line in lines} == {"DAQ973A rack 1", "DAQ973A rack 1 signals"}


def test_help_explains_modes_with_an_example() -> None:
    import subprocess

    out = subprocess.run(executable("telegraf-daq970a") + ["--help"], capture_output=True, text=True).stdout
    for text in ("--once", "--simulate", "--interval", "stdin", "SIGUSR1", "examples:"):
        assert text in out


def test_execd_one_batch_per_newline_then_clean_exit_on_eof(tmp_path: Path, sim: Daq970aSimulator) -> None:
    config = write_config(tmp_path, [daq_device(sim.address)])
    proc = ExecdProcess(["--config", str(config)])
    try:
        assert proc.no_more_lines(0.5) == []  # nothing before the first trigger
        for _ in range(3):
            proc.trigger()
            assert len(proc.read_lines(2)) == 2
        assert proc.close_stdin() < 2.0
        assert proc.proc.returncode == 0
    finally:
        proc.kill()
    reads = [c for c in sim.instrument.log if c.endswith("READ?")]
    assert len(reads) == 3
    assert sim.instrument.log.count("*IDN?") == 1  # configured once, not per gather


@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2])
def test_signals_trigger_a_gather(tmp_path: Path, sim: Daq970aSimulator, sig: int) -> None:
    config = write_config(tmp_path, [daq_device(sim.address)])
    proc = ExecdProcess(["--config", str(config)])
    try:
        time.sleep(0.5)  # let it install its handlers
        proc.signal(sig)
        assert len(proc.read_lines(2)) == 2
    finally:
        proc.close_stdin()
        proc.kill()


def test_sigterm_exits_zero(tmp_path: Path, sim: Daq970aSimulator) -> None:
    config = write_config(tmp_path, [daq_device(sim.address)])
    proc = ExecdProcess(["--config", str(config)])
    time.sleep(0.5)
    proc.signal(signal.SIGTERM)
    assert proc.proc.wait(3) == 0


def test_interval_gathers_on_its_own(tmp_path: Path, sim: Daq970aSimulator) -> None:
    config = write_config(tmp_path, [daq_device(sim.address)])
    proc = ExecdProcess(["--config", str(config), "--interval", "0.2"])
    try:
        lines = parse_lines("\n".join(proc.read_lines(6, timeout=5)))
        times = sorted({line["time"] for line in lines})
        assert len(times) == 3
    finally:
        proc.close_stdin()
        proc.kill()


def test_triggers_during_a_slow_gather_coalesce(tmp_path: Path, sim: Daq970aSimulator) -> None:
    config = write_config(tmp_path, [daq_device(sim.address, Timeout=3000)])
    proc = ExecdProcess(["--config", str(config)])
    try:
        proc.trigger()
        proc.read_lines(2)
        sim.faults.delay_s = 0.5
        reads = sum(c.endswith("READ?") for c in sim.instrument.log)
        proc.trigger()
        while sum(c.endswith("READ?") for c in sim.instrument.log) == reads:
            time.sleep(0.01)  # the gather is now waiting for the slow instrument
        for _ in range(20):  # a burst while it runs
            proc.trigger()
        lines = proc.read_lines(4, timeout=5)
        assert proc.no_more_lines(1.5) == []  # 21 triggers -> 2 gathers, not 21
        assert len(lines) == 4
    finally:
        proc.close_stdin()
        proc.kill()


def test_eof_during_a_hung_read_still_exits_promptly(tmp_path: Path, sim: Daq970aSimulator) -> None:
    config = write_config(tmp_path, [daq_device(sim.address, Timeout=20000)])
    proc = ExecdProcess(["--config", str(config)])
    try:
        proc.trigger()
        proc.read_lines(2)
        sim.faults.delay_s = 15
        proc.trigger()
        time.sleep(0.3)
        assert proc.close_stdin() < 2.0
        assert proc.proc.returncode == 0
    finally:
        proc.kill()


def read_to_the_end_like_telegraf(proc: subprocess.Popen) -> tuple[bytes, bytes, bool]:
    """Read stdout and stderr until both end; also whether the process was still running then."""
    assert proc.stdout is not None and proc.stderr is not None
    got = {proc.stdout.fileno(): b"", proc.stderr.fileno(): b""}
    with selectors.DefaultSelector() as selector:
        for fd in got:
            selector.register(fd, selectors.EVENT_READ)
        while selector.get_map():
            events = selector.select(timeout=10)
            assert events, "stdout or stderr never ended"
            for key, _ in events:
                data = os.read(key.fd, 65536)
                got[key.fd] += data
                if not data:
                    selector.unregister(key.fd)
        running = proc.poll() is None
    return got[proc.stdout.fileno()], got[proc.stderr.fileno()], running


@pytest.mark.parametrize("broken_config", [False, True])
def test_execd_ends_stdout_and_stderr_before_exiting(
    tmp_path: Path, sim: Daq970aSimulator, broken_config: bool
) -> None:
    # Telegraf closes its ends of the pipes as soon as the process has exited; a read of
    # stdout or stderr not yet at the end then fails ("read |0: file already closed"), an
    # error of the plugin that makes `telegraf --once` exit 1 and can lose the last log lines.
    channels = {"1": {"DeviceChannel": 101, "Type": "VOLTS"}} if broken_config else None
    config = write_config(tmp_path, [daq_device(sim.address, channels=channels)])
    proc = subprocess.Popen(
        executable("telegraf-daq970a") + ["--config", str(config)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert proc.stdin is not None
        proc.stdin.write(b"\n")
        proc.stdin.close()  # Telegraf stopping
        stdout, stderr, running_after_the_end = read_to_the_end_like_telegraf(proc)
        assert running_after_the_end
        assert proc.wait(5) == (2 if broken_config else 0)
    finally:
        proc.kill()
        proc.wait()
    if broken_config:
        assert stdout == b""
        assert b"E! configuration error: " in stderr and b"'VOLTS' is not allowed" in stderr
    else:
        assert all(line["tags"]["device"] == "daq" for line in parse_lines(stdout.decode()))


# -- faults: the error is logged once, the healthy device's channels still go out ----------------
def two_devices(tmp_path: Path, bad: Daq970aSimulator, good: Daq970aSimulator, **extra) -> ExecdProcess:
    config = write_config(
        tmp_path, [daq_device(bad.address, name="bad", **extra), daq_device(good.address, name="good", **extra)]
    )
    return ExecdProcess(["--config", str(config)])


def gather(proc: ExecdProcess, count: int, timeout: float = 10) -> list[dict]:
    proc.trigger()
    return parse_lines("\n".join(proc.read_lines(count, timeout)))


def test_delay_past_deadline(tmp_path: Path, sim: Daq970aSimulator, sim2: Daq970aSimulator) -> None:
    proc = two_devices(tmp_path, sim, sim2, Timeout=300, Deadline=0.6)
    try:
        assert len(gather(proc, 4)) == 4
        sim.faults.delay_s = 1.5
        started = time.monotonic()
        lines = gather(proc, 2)
        assert time.monotonic() - started < 1.4  # the good device is not held up by the slow one
        assert {line["tags"]["device"] for line in lines} == {"good"}
        proc.wait_stderr("E! device 'bad':")
        sim.faults.delay_s = 0
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # recovers once the instrument answers in time again
            if {line["tags"]["device"] for line in gather(proc, 2)} == {"bad"} or any(
                "recovered" in line for line in proc.stderr
            ):
                break
        proc.wait_stderr("I! device 'bad': recovered after")
    finally:
        proc.close_stdin()
        proc.kill()


def test_dropped_connection_is_reopened(tmp_path: Path, sim: Daq970aSimulator, sim2: Daq970aSimulator) -> None:
    proc = two_devices(tmp_path, sim, sim2)
    try:
        assert len(gather(proc, 4)) == 4
        sim.faults.drop_next = True
        lines = gather(proc, 2)
        assert {line["tags"]["device"] for line in lines} == {"good"}
        proc.wait_stderr("E! device 'bad':")
        assert len(gather(proc, 4)) == 4  # reconnected and reconfigured
        assert sim.instrument.log.count("*IDN?") == 2
        proc.wait_stderr("I! device 'bad': recovered after 1 failed gather(s)")
    finally:
        proc.close_stdin()
        proc.kill()


def test_garbled_reply_is_an_error_not_a_value(tmp_path: Path, sim: Daq970aSimulator, sim2: Daq970aSimulator) -> None:
    proc = two_devices(tmp_path, sim, sim2)
    try:
        assert len(gather(proc, 4)) == 4
        sim.faults.garble_next = True
        lines = gather(proc, 2)
        assert {line["tags"]["device"] for line in lines} == {"good"}
        assert "not value,channel pairs" in proc.wait_stderr("E! device 'bad':")
    finally:
        proc.close_stdin()
        proc.kill()


def test_overload_leaves_out_one_channel_with_a_warning(tmp_path: Path, sim: Daq970aSimulator) -> None:
    config = write_config(tmp_path, [daq_device(sim.address)])
    proc = ExecdProcess(["--config", str(config)])
    try:
        sim.faults.overload = {101}
        for _ in range(3):
            (line,) = gather(proc, 1)
            assert line["tags"]["sensor"] == "b"
            assert proc.no_more_lines(0.2) == []
        warnings = [line for line in proc.stderr if line.startswith("W! ")]
        assert warnings == ["W! device 'daq' channel '101': overload or open input (+9.90E+37); not emitted"]
        sim.faults.overload = set()
        assert len(gather(proc, 2)) == 2
        proc.wait_stderr("I! device 'daq' channel '101': recovered after 3 failed gather(s)")
    finally:
        proc.close_stdin()
        proc.kill()


def test_instrument_error_is_reported_with_its_text(
    tmp_path: Path, sim: Daq970aSimulator, sim2: Daq970aSimulator
) -> None:
    proc = two_devices(tmp_path, sim, sim2)
    try:
        assert len(gather(proc, 4)) == 4
        sim.faults.error_on_read = (-222, "Data out of range")
        lines = gather(proc, 2)
        assert {line["tags"]["device"] for line in lines} == {"good"}
        error = proc.wait_stderr("E! device 'bad':")
        assert 'instrument error queue: -222,"Data out of range"' in error
    finally:
        proc.close_stdin()
        proc.kill()


def test_unsupported_channel_reported_at_startup(tmp_path: Path, sim: Daq970aSimulator) -> None:
    channels = {
        "101": {"DeviceChannel": 101, "Type": "DCI", "tags": {"sensor": "wrong"}},  # current only on 121/122
        "102": {"DeviceChannel": 102, "Type": "DCV", "tags": {"sensor": "ok"}},
    }
    config = write_config(tmp_path, [daq_device(sim.address, channels=channels)])
    proc = ExecdProcess(["--config", str(config)])
    try:
        error = proc.wait_stderr("E! device 'daq' channel '101'")  # before any trigger
        assert '-221,"Settings conflict"' in error and "left out of the scan" in error
        (line,) = gather(proc, 1)
        assert line["tags"]["sensor"] == "ok"
    finally:
        proc.close_stdin()
        proc.kill()


def test_absent_at_startup_then_appears(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    late = Daq970aSimulator(port=port)
    config = write_config(tmp_path, [daq_device(late.address)])
    proc = ExecdProcess(["--config", str(config)])
    try:
        for _ in range(3):
            proc.trigger()
            time.sleep(0.3)
        assert proc.no_more_lines(0.2) == []
        errors = [line for line in proc.stderr if line.startswith("E! ")]
        assert len(errors) == 1, proc.stderr  # one error per failure streak, not one per gather
        assert "Connection refused" in errors[0]
        assert proc.proc.poll() is None  # still running
        late.start()
        assert len(gather(proc, 2)) == 2
        proc.wait_stderr("I! device 'daq': recovered after")
    finally:
        proc.close_stdin()
        proc.kill()
        late.stop()


def test_instrument_switched_off_and_on_again(tmp_path: Path, sim: Daq970aSimulator) -> None:
    config = write_config(tmp_path, [daq_device(sim.address)])
    proc = ExecdProcess(["--config", str(config)])
    try:
        assert len(gather(proc, 2)) == 2
        port = sim.port
        sim.stop()
        proc.trigger()
        proc.wait_stderr("E! device 'daq':")
        revived = Daq970aSimulator(port=port).start()
        try:
            assert len(gather(proc, 2)) == 2
            assert revived.instrument.log[:2] == ["*CLS", "*IDN?"]  # reconfigured from scratch
        finally:
            revived.stop()
    finally:
        proc.close_stdin()
        proc.kill()
