"""The shared runtime's behaviour, for every serial family: one error line per failure streak, recovery,
deadlines that never hold the other devices up, and the older logger's example entries read as they are.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from telegraf_inputs.families.kjlc354.simulator import Kjlc354Simulator
from telegraf_inputs.families.kjlc_acg.simulator import AcgSimulator
from telegraf_inputs.families.metone_dr528.simulator import Dr528Simulator
from telegraf_inputs.families.srs_ctc100.simulator import Ctc100Simulator
from telegraf_inputs.families.srs_sim922.simulator import Sim922Simulator
from telegraf_inputs.families.thorlabs_mdt693b.simulator import Mdt693bSimulator
from telegraf_inputs.serial_sim import LineSimulator
from tests.helpers import ROOT, ExecdProcess, executable, parse_lines, write_config

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the simulators' lines are ptys")
EXAMPLE = ROOT / "tests" / "data" / "older-logger-example-serial.json"
SIMULATORS: dict[str, Callable[[], LineSimulator]] = {
    "KJLC 354": lambda: Kjlc354Simulator(["01"]),
    "KJLC 352": lambda: Kjlc354Simulator(["01"]),
    "KJLC ACG": AcgSimulator,
    "Met One DR-528": Dr528Simulator,
    "SRS CTC100": Ctc100Simulator,
    "SRS SIM922": Sim922Simulator,
    "Thorlabs MDT693B": Mdt693bSimulator,
}


def example_entries() -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = json.loads(EXAMPLE.read_text())
    return entries


def test_the_example_has_every_serial_model() -> None:
    assert {e["Model"] for e in example_entries()} == set(SIMULATORS)


@pytest.mark.parametrize("entry", example_entries(), ids=lambda e: e["Model"])
def test_streaks_recovery_and_deadlines(tmp_path: Path, entry: dict[str, Any]) -> None:
    sim = SIMULATORS[entry["Model"]]().start()
    other = Mdt693bSimulator().start()
    healthy = {"Device": "healthy", "Model": "Thorlabs MDT693B", "Address": other.path, "Timeout": 0.5,
               "Channels": {"x": {"Type": "Vout", "Axis": "x"}}}  # fmt: skip
    device = {**entry, "Address": sim.path, "Timeout": 0.4}
    count = len(device["Channels"])
    exe = ExecdProcess(["run", "--config", str(write_config(tmp_path, [device, healthy]))], name="telegraf-lab")
    try:
        exe.trigger()
        lines = parse_lines("\n".join(exe.read_lines(count + 1)))
        assert {line["tags"]["device"] for line in lines} == {entry["Device"], "healthy"}
        sim.faults.silent = True
        name = entry["Device"]
        for _ in range(3):
            exe.trigger()
            (line,) = parse_lines(exe.read_lines(1)[0])  # the healthy device goes on
            assert line["tags"]["device"] == "healthy"
            exe.wait_stderr(f"E! device '{name}'")
            time.sleep(0.6)  # the silent device's read ends at its Timeout
        errors = [e for e in exe.stderr if e.startswith(f"E! device '{name}'")]
        assert len(errors) == 1, exe.stderr  # one line per failure streak, not one per gather
        sim.faults.silent = False
        exe.trigger()
        exe.read_lines(count + 1)
        exe.wait_stderr(f"I! device '{name}': recovered after 3 failed gather(s)")
        assert exe.close_stdin() < 2
    finally:
        sim.stop()
        other.stop()


@pytest.mark.parametrize("entry", example_entries(), ids=lambda e: e["Model"])
def test_a_read_past_its_deadline_is_reported_and_holds_no_other_device_up(tmp_path: Path, entry: dict[str, Any]
                                                                            ) -> None:  # fmt: skip
    sim = SIMULATORS[entry["Model"]]().start()
    other = Mdt693bSimulator().start()
    sim.faults.silent = True  # the read then takes its Timeout, 0.6 s: longer than the Deadline
    device = {**entry, "Address": sim.path, "Timeout": 0.6, "Deadline": 0.2}
    healthy = {"Device": "healthy", "Model": "Thorlabs MDT693B", "Address": other.path, "Timeout": 0.5,
               "Channels": {"x": {"Type": "Vout", "Axis": "x"}}}  # fmt: skip
    exe = ExecdProcess(["run", "--config", str(write_config(tmp_path, [device, healthy]))], name="telegraf-lab")
    try:
        exe.trigger()
        (line,) = parse_lines(exe.read_lines(1)[0])
        assert line["tags"]["device"] == "healthy"
        exe.wait_stderr(f"E! device '{entry['Device']}': no reading within the deadline of 0.2 s")
        assert exe.close_stdin() < 2
    finally:
        sim.stop()
        other.stop()


def test_the_older_loggers_example_reads_every_serial_device_with_simulate() -> None:
    run = subprocess.run(executable("telegraf-lab") + ["run", "--config", str(EXAMPLE), "--simulate", "--once"],
                         capture_output=True, text=True, timeout=60)  # fmt: skip
    assert run.returncode == 0, run.stderr
    written = {line["tags"]["device"] for line in parse_lines(run.stdout)}
    assert written == {e["Device"] for e in example_entries()}
    assert "E!" not in run.stderr and "W!" not in run.stderr


ASKED = [e for e in example_entries() if e["Model"] != "KJLC ACG"]  # the ACG streams: nothing is asked of it


@pytest.mark.parametrize("entry", ASKED, ids=lambda e: e["Model"])
def test_an_endless_reply_is_cut_at_the_limit_and_the_next_gather_reads(tmp_path: Path, entry: dict[str, Any]) -> None:
    sim = SIMULATORS[entry["Model"]]().start()
    device = {**entry, "Address": sim.path, "Timeout": 0.5}
    count = len(device["Channels"])
    exe = ExecdProcess(["run", "--config", str(write_config(tmp_path, [device]))], name="telegraf-lab")
    try:
        sim.faults.endless_next = True  # 2 KiB without an end instead of the first reply
        exe.trigger()
        error = exe.wait_stderr(f"E! device '{entry['Device']}'")
        assert len(error) < 1000  # the noise is not copied into the log
        exe.trigger()
        lines = parse_lines("\n".join(exe.read_lines(count)))
        assert all(line["tags"]["device"] == entry["Device"] for line in lines)
        exe.wait_stderr("recovered after 1 failed gather(s)")
        assert exe.close_stdin() < 2
    finally:
        sim.stop()


@pytest.mark.parametrize("entry", example_entries(), ids=lambda e: e["Model"])
def test_every_serial_family_reads_over_a_socket_url_as_on_windows(tmp_path: Path, entry: dict[str, Any]) -> None:
    sim = SIMULATORS[entry["Model"]]()
    sim.transport = "socket"  # pyserial's socket:// URL: what the simulators serve on Windows, where ptys do not exist
    sim.start()
    try:
        assert sim.path.startswith("socket://127.0.0.1:")
        run = subprocess.run(executable("telegraf-lab") + ["run", "--config", str(write_config(
            tmp_path, [{**entry, "Address": sim.path, "Timeout": 1}])), "--once"], capture_output=True, text=True,
            timeout=60)  # fmt: skip
        assert run.returncode == 0, run.stderr
        assert len(parse_lines(run.stdout)) == len(entry["Channels"])
    finally:
        sim.stop()


@pytest.mark.parametrize("entry", [e for e in example_entries() if e["Model"] != "KJLC 352"], ids=lambda e: e["Model"])
def test_the_standalone_simulator_serves_the_line_it_is_told(tmp_path: Path, entry: dict[str, Any]) -> None:
    """``python -m <family>.simulator --baudrate 4800 --parity E``, as a user starts it: the entry with the same
    settings reads every channel, and one at another baud rate nothing (a pty carries the rate)."""
    from telegraf_inputs import registry

    family = registry.family_of(entry["Model"])
    assert family is not None
    line = {"baudrate": 4800, "bytesize": 8, "stopbits": 1, "parity": "E"}  # no family's factory setting
    sim = subprocess.Popen([sys.executable, "-m", f"{family.package}.simulator", "--baudrate", "4800", "--parity",
                            "E"], stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert sim.stdout is not None
        banner = sim.stdout.readline()
        address = banner.rsplit("Address: ", 1)[1].strip()
        device = {**entry, "Address": address, "Timeout": 2, "SerialConnectionParams": line}
        config = write_config(tmp_path, [device])
        done = subprocess.run(executable("telegraf-lab") + ["run", "--config", str(config), "--once"],
                              capture_output=True, text=True, timeout=60)  # fmt: skip
        assert done.returncode == 0, (banner, done.stderr)
        assert len(parse_lines(done.stdout)) == len(entry["Channels"]), done.stdout
        wrong = {**device, "SerialConnectionParams": {**line, "baudrate": 9600}, "Timeout": 0.5}
        done = subprocess.run(executable("telegraf-lab") + ["run", "--config", str(write_config(tmp_path, [wrong])),
                              "--once"], capture_output=True, text=True, timeout=60)  # fmt: skip
        assert done.stdout == "" and done.returncode != 0, done.stdout
    finally:
        sim.terminate()
        sim.wait(10)


def test_a_stopped_simulator_closes_its_line_only_once_its_thread_is_gone() -> None:
    """Stopped in the middle of a slow reply, the simulator's thread finishes before its pty's fds close.

    A fd number closed under a thread still polling it is soon the next pty's (the next test's simulator),
    and that thread would read the next pty's requests: the next test's instrument would hear nothing.
    """
    import os

    import serial

    sim = Mdt693bSimulator().start()
    line = sim._line
    assert line is not None and hasattr(line, "master")
    sim.faults.delay_s = 2.5  # longer than the 2 s the simulator's stop once waited for its thread
    port = serial.Serial(sim.path, 115200, timeout=0.1)
    try:
        port.write(b"xvoltage?" + sim.request_end)
        deadline = time.monotonic() + 2
        while not sim.log and time.monotonic() < deadline:
            time.sleep(0.01)
        assert sim.log, "the simulator did not take the request"
        sim.stop()
        assert not sim._thread.is_alive()
        with pytest.raises(OSError):
            os.fstat(line.master)
    finally:
        port.close()
