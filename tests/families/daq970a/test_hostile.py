"""A hostile or broken instrument on the SCPI socket: bounded replies, no stalls, one connection per instrument."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest

from telegraf_inputs.families.daq970a.simulator import Daq970aSimulator
from telegraf_inputs.transports import MAX_REPLY
from tests.helpers import (
    ExecdProcess,
    daq_device,
    executable,
    parse_lines,
    peak_rss_kib,
    run_once,
    write_config,
)


def two(tmp_path: Path, bad: Daq970aSimulator, good: Daq970aSimulator, **extra) -> ExecdProcess:
    config = write_config(
        tmp_path, [daq_device(bad.address, name="bad", **extra), daq_device(good.address, name="good", **extra)]
    )
    return ExecdProcess(["--config", str(config)])


def good_lines(proc: ExecdProcess, timeout: float) -> list[dict]:
    lines = parse_lines("\n".join(proc.read_lines(2, timeout)))
    assert {line["tags"]["device"] for line in lines} == {"good"}
    return lines


def test_an_endless_reply_is_cut_off_and_memory_stays_small(tmp_path: Path, sim, sim2) -> None:
    proc = two(tmp_path, sim, sim2, Timeout=2000)
    try:
        proc.trigger()
        assert len(proc.read_lines(4)) == 4
        sim.instrument.faults.endless_next = True
        proc.trigger()
        good_lines(proc, 5)
        error = proc.wait_stderr("E! device 'bad'", timeout=10)
        assert f"reply longer than {MAX_REPLY} bytes without an end" in error
        assert peak_rss_kib(proc.proc.pid) < 150_000  # 2.4 GB in 8 s before
        proc.trigger()  # reconnected, read again
        assert len(proc.read_lines(4, timeout=10)) == 4
    finally:
        proc.close_stdin()
        proc.kill()


def test_a_drip_fed_reply_ends_at_the_timeout_and_holds_back_nothing(tmp_path: Path, sim, sim2) -> None:
    proc = two(tmp_path, sim, sim2, Timeout=1000, Deadline=5)
    try:
        proc.trigger()
        assert len(proc.read_lines(4)) == 4
        sim.instrument.faults.drip_next = 0.1  # a byte every 0.1 s: the reply would take seconds
        started = time.monotonic()
        proc.trigger()
        good_lines(proc, 1)  # the healthy device's lines are out at once
        error = proc.wait_stderr("E! device 'bad'", timeout=10)
        assert time.monotonic() - started < 2.5  # Timeout 1 s, not the length of the reply times 0.1 s
        assert "reply not complete within the timeout of 1 s" in error
    finally:
        proc.close_stdin()
        proc.kill()


def test_a_hung_instrument_does_not_hold_back_the_healthy_one(tmp_path: Path, sim, sim2) -> None:
    sim.instrument.faults.silent = True  # accepts the connection, never answers
    proc = two(tmp_path, sim, sim2, Timeout=2000)
    try:
        for _ in range(8):  # triggered every second, as Telegraf would
            started = time.monotonic()
            proc.trigger()
            good_lines(proc, 1.0)
            assert time.monotonic() - started < 0.5
            time.sleep(max(0.0, 1 - (time.monotonic() - started)))
        assert proc.wait_stderr("E! device 'bad'")
    finally:
        proc.close_stdin()
        proc.kill()


def test_a_200_kb_idn_reply_is_one_short_escaped_log_line(tmp_path: Path, sim) -> None:
    sim.instrument.faults.idn = "\x1b[2J" + "Rogue,Instrument," + "x" * 200_000
    result = run_once(["--config", str(write_config(tmp_path, [daq_device(sim.address)]))])
    assert result.returncode == 0
    lines = result.stderr.splitlines()
    assert any("does not look like a DAQ970A" in line for line in lines)
    assert max(len(line.encode()) for line in lines) <= 4100
    assert "\x1b" not in result.stderr and "\\x1b[2J" in result.stderr


def test_two_spellings_of_one_instrument_share_one_connection(tmp_path: Path, sim) -> None:
    port = sim.address.split("::")[2]
    spelled = [f"TCPIP0::127.0.0.1::{port}::SOCKET", f"tcpip::127.0.0.1::{port}::socket"]
    entries = [
        daq_device(spelled[0], name="one", channels={"a": {"DeviceChannel": 101, "Type": "TEMPT"}}),
        daq_device(spelled[1], name="two", channels={"b": {"DeviceChannel": 102, "Type": "DCV"}}),
    ]
    result = run_once(["--config", str(write_config(tmp_path, entries))])
    assert result.returncode == 0, result.stderr
    lines = {line["tags"]["device"]: line for line in parse_lines(result.stdout)}
    assert 15 < lines["one"]["fields"]["value"] < 35 and 0 < lines["two"]["fields"]["value"] < 1
    assert sim.instrument.log.count("*IDN?") == 1  # one connection, configured once
    entries[1]["Channels"] = {"b": {"DeviceChannel": 101, "Type": "DCV"}}  # and the overlap check sees it
    clash = run_once(["--config", str(write_config(tmp_path, entries))])
    assert (
        clash.returncode == 2
        and "DeviceChannel 101 of" in clash.stderr
        and "also configured by device" in (clash.stderr)
    )


def test_a_query_in_cmd_on_init_has_its_reply_read(tmp_path: Path, sim) -> None:
    config = write_config(tmp_path, [daq_device(sim.address, CmdOnInit=["*RST;*OPC?", "*IDN?"])])
    proc = ExecdProcess(["--config", str(config), "-v"])
    try:
        for _ in range(3):
            proc.trigger()
            lines = parse_lines("\n".join(proc.read_lines(2)))
            assert 15 < lines[0]["fields"]["value"] < 35  # in step: the temperature is a temperature
        assert not [line for line in proc.stderr if line.startswith("E! ")]
        assert proc.wait_stderr("CmdOnInit '*RST;*OPC?' answered '1'")
    finally:
        proc.close_stdin()
        proc.kill()


def test_a_resource_that_is_not_an_instrument_is_a_config_error(tmp_path: Path) -> None:
    result = run_once(["--config", str(write_config(tmp_path, [daq_device("TCPIP0::10.0.0.1::inst0")]))])
    assert result.returncode == 2
    assert "[0].Address: 'TCPIP0::10.0.0.1::inst0' is not a VISA instrument resource; use e.g." in result.stderr


# -- the pipes ---------------------------------------------------------------------------------------------
BIG = {f"c{n}": {"DeviceChannel": n, "Type": "DCV", "tags": {"sensor": f"s{n}"}} for n in range(101, 141)}


def test_a_blocked_stderr_never_freezes_the_reads(tmp_path: Path, sim) -> None:
    refused = "TCPIP0::127.0.0.1::9::SOCKET"  # fails at once, and -v logs it at every gather
    entries = [daq_device(refused, name="gone"), daq_device(sim.address, name="good")]
    proc = subprocess.Popen(
        executable("telegraf-daq970a") + ["--config", str(write_config(tmp_path, entries)), "-v"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,  # never read: it fills after a few hundred lines
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        for i in range(1500):
            proc.stdin.write(b"\n")
            proc.stdin.flush()
            for _ in range(2):
                assert proc.stdout.readline(), f"no line after {i} gathers"
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.parametrize("how", ["SIGTERM", "EOF"])
def test_a_blocked_stdout_still_lets_the_process_end_within_2_s(tmp_path: Path, sim, how: str) -> None:
    config = write_config(tmp_path, [daq_device(sim.address, channels=BIG)])
    proc = subprocess.Popen(
        executable("telegraf-daq970a") + ["--config", str(config)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,  # never read: 40 lines a gather fill it quickly
        stderr=subprocess.DEVNULL,
    )
    assert proc.stdin is not None
    try:
        for _ in range(300):
            proc.stdin.write(b"\n")
            proc.stdin.flush()
            time.sleep(0.005)
        time.sleep(1)
        started = time.monotonic()
        if how == "SIGTERM":
            proc.send_signal(signal.SIGTERM)
        else:
            proc.stdin.close()
        assert proc.wait(5) == 0
        assert time.monotonic() - started < 2
    finally:
        proc.kill()
        proc.wait()
