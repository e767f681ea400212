"""telegraf-smc-hrs as a subprocess, reading simulated chillers through pseudo-terminals."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from telegraf_inputs.families.smc_hrs.simulator import HrsSimulator
from tests.helpers import OLDER_FILE, ExecdProcess, parse_lines, run_once, smc_device, write_config

EXE = "telegraf-smc-hrs"


@pytest.fixture
def chiller(tmp_path: Path) -> Iterator[HrsSimulator]:
    """A chiller behind a stable name, like /dev/serial/by-id/usb-FTDI_...-port0."""
    sim = HrsSimulator(link=tmp_path / "usb-FTDI_chiller-if00-port0").start()
    yield sim
    sim.stop()


def test_older_logger_file_reads_unchanged_but_for_the_port(tmp_path: Path, chiller: HrsSimulator) -> None:
    entries = json.loads(OLDER_FILE.read_text())
    (smc,) = [e for e in entries if e["Model"].startswith("SMC")]
    smc["Address"] = chiller.path  # /dev/ttyUSB0 in the file
    config = write_config(tmp_path, entries)
    chiller.chillers[1].set_point = 21.5
    result = run_once(["--config", str(config)], name=EXE)
    # what the simulator heard, should no reply come (a rare failure seen only on a loaded machine)
    assert result.returncode == 0, (result.stderr, chiller.log, chiller.line_mismatches)
    pv, sv = parse_lines(result.stdout)
    device = "Chiller for 1064 nm fiber amplifier"
    assert pv["measurement"] == sv["measurement"] == "temperature"
    assert pv["tags"] == {"device": device, "sensor": "Returning", "unit": "DegC"}
    assert sv["tags"] == {"device": device, "sensor": "Setpoint", "unit": "DegC"}
    assert sv["fields"] == {"value": 21.5} and abs(pv["fields"]["value"] - 21.5) <= 0.6
    assert [req for req, _ in chiller.log] == [b"\x0201RPV1\x03", b"\x0201RSV1\x03"]


def test_execd_reads_on_every_trigger_through_one_open_port(tmp_path: Path, chiller: HrsSimulator) -> None:
    exe = ExecdProcess(["--config", str(write_config(tmp_path, [smc_device(chiller.path)]))], name=EXE)
    try:
        for _ in range(3):
            exe.trigger()
            lines = parse_lines("\n".join(exe.read_lines(2)))
            assert [line["tags"]["sensor"] for line in lines] == ["Returning", "Setpoint"]
        assert exe.close_stdin() < 2
        assert exe.proc.returncode == 0
    finally:
        exe.kill()
    assert len(chiller.log) == 6


FAULTS = [
    ("nak_next", "2", True, "negative reply (NAK) to PV1: exception code '2'"),
    ("bad_check_next", True, True, "checksum error in reply"),
    ("garble_next", True, True, "checksum error in reply"),
    ("garble_next", True, False, "is not 5 digits"),
    ("wrong_station_next", True, True, "reply from station '02', expected 01"),
    ("truncate_next", True, True, "cut short"),
    ("truncate_next", True, False, "cut short"),
]


@pytest.mark.parametrize(("fault", "value", "with_bcc", "message"), FAULTS)
def test_a_bad_reply_loses_that_channel_only_and_logs_an_error(
    tmp_path: Path, fault: str, value: object, with_bcc: bool, message: str
) -> None:
    sim = HrsSimulator(bcc=with_bcc, link=tmp_path / "port").start()
    entry = smc_device(sim.path, Timeout=0.3, DeviceSpecificParams={"BCC": with_bcc})
    exe = ExecdProcess(["--config", str(write_config(tmp_path, [entry]))], name=EXE)
    try:
        setattr(sim.faults, fault, value)
        exe.trigger()
        (line,) = parse_lines(exe.read_lines(1)[0])
        assert line["tags"]["sensor"] == "Setpoint"
        error = exe.wait_stderr("E! device 'chiller' channel 'PV1'")
        assert message in error and error.endswith("not emitted")
        assert exe.no_more_lines(0.3) == []  # no value was made up for PV1
        exe.trigger()
        assert len(exe.read_lines(2)) == 2
        exe.wait_stderr("I! device 'chiller' channel 'PV1': recovered")
    finally:
        exe.kill()
        sim.stop()


def test_a_silent_chiller_is_one_error_per_streak_then_recovers(tmp_path: Path, chiller: HrsSimulator) -> None:
    exe = ExecdProcess(["--config", str(write_config(tmp_path, [smc_device(chiller.path, Timeout=0.3)]))], name=EXE)
    try:
        chiller.faults.silent = True
        for _ in range(3):
            exe.trigger()
            exe.wait_stderr("no reply to PV1 within Timeout 0.3 s")
        assert exe.no_more_lines(1.2) == []
        errors = [line for line in exe.stderr if line.startswith("E!")]
        assert len(errors) == 1 and "check the cable" in errors[0]
        chiller.faults.silent = False
        exe.trigger()
        assert len(exe.read_lines(2)) == 2
        exe.wait_stderr("I! device 'chiller': recovered after")
    finally:
        exe.kill()


def test_an_unplugged_adapter_is_reopened_when_it_comes_back(tmp_path: Path, chiller: HrsSimulator) -> None:
    exe = ExecdProcess(["--config", str(write_config(tmp_path, [smc_device(chiller.path, Timeout=0.3)]))], name=EXE)
    try:
        exe.trigger()
        assert len(exe.read_lines(2)) == 2
        chiller.vanish()  # the open port fails, and its path is gone
        assert not Path(chiller.path).exists()
        for _ in range(3):
            exe.trigger()
        exe.wait_stderr("E! device 'chiller'")
        assert exe.no_more_lines(1.5) == []
        assert len([line for line in exe.stderr if line.startswith("E!")]) == 1
        chiller.reappear()
        exe.trigger()
        assert len(exe.read_lines(2)) == 2
        exe.wait_stderr("I! device 'chiller': recovered")
        assert exe.proc.poll() is None
    finally:
        exe.kill()


def test_a_slow_chiller_does_not_hold_up_one_on_another_port(tmp_path: Path) -> None:
    slow = HrsSimulator(link=tmp_path / "slow").start()
    fast = HrsSimulator(link=tmp_path / "fast").start()
    try:
        slow.faults.delay_s = 0.5
        config = write_config(
            tmp_path,
            [
                smc_device(slow.path, name="slow", Channels={"PV1": {"Type": "PV1"}}),
                smc_device(fast.path, name="fast", Channels={"PV1": {"Type": "PV1"}}),
            ],
        )
        result = run_once(["--config", str(config)], name=EXE)
    finally:
        slow.stop()
        fast.stop()
    assert result.returncode == 0, result.stderr
    times = {line["tags"]["device"]: line["time"] for line in parse_lines(result.stdout)}
    # each reading is stamped mid-exchange: the fast chiller was read while the slow one was still answering
    assert times["fast"] < times["slow"] - 200_000_000


def test_two_stations_on_one_rs485_port(tmp_path: Path) -> None:
    bus = HrsSimulator(stations=[1, 2], link=tmp_path / "rs485").start()
    try:
        bus.chillers[2].set_point = 12.0
        config = write_config(
            tmp_path,
            [
                smc_device(bus.path, name="laser", Channels={"SV1": {"Type": "SV1"}}),
                smc_device(
                    bus.path,
                    name="cavity",
                    Channels={"SV1": {"Type": "SV1"}},
                    DeviceSpecificParams={"InternalAddress": 2},
                ),
            ],
        )
        result = run_once(["--config", str(config)], name=EXE)
    finally:
        bus.stop()
    assert result.returncode == 0, result.stderr
    assert {line["tags"]["device"]: line["fields"]["value"] for line in parse_lines(result.stdout)} == {
        "laser": 20.0,
        "cavity": 12.0,
    }


def test_modbus_status_and_alarms_become_fields_grafana_can_alert_on(tmp_path: Path) -> None:
    sim = HrsSimulator(protocol="modbus", link=tmp_path / "port").start()
    channels = {
        "PV1": {"Type": "PV1", "tags": {"sensor": "Returning", "unit": "DegC"}},
        "P": {"Type": "PRESSURE", "field-key": "pressure", "tags": {"unit": "MPa"}},
        "A": {"Type": "ALARMS", "field-key": "alarms"},
        "S": {"Type": "STATUS", "field-key": "status"},
    }
    entry = smc_device(sim.path, measurement="chiller", DeviceSpecificParams={"Protocol": "modbus"}, Channels=channels)
    exe = ExecdProcess(["--config", str(write_config(tmp_path, [entry]))], name=EXE)
    try:
        exe.trigger()
        before = {tuple(sorted(line["fields"])): line for line in parse_lines("\n".join(exe.read_lines(4)))}
        sim.raise_alarm("low_tank_level")
        sim.raise_alarm("pump_maintenance")
        exe.trigger()
        after = parse_lines("\n".join(exe.read_lines(4)))
    finally:
        exe.kill()
        sim.stop()
    alarms_before = next(line for line in before.values() if "alarms" in line["fields"])["fields"]
    assert alarms_before["alarms"] == 0 and alarms_before["alarms_low_tank_level"] is False
    assert alarms_before["alarms_active"] == ""
    alarms = next(line for line in after if "alarms" in line["fields"])["fields"]
    assert alarms["alarms"] == 2 and alarms["alarms_low_tank_level"] is True and alarms["alarms_pump_maintenance"]
    assert alarms["alarms_active"] == "low_tank_level,pump_maintenance"
    status = next(line for line in after if "status" in line["fields"])["fields"]
    assert status["status_run"] is True and status["status_operation_continued_alarm"] is True
    pressure = next(line for line in after if "pressure" in line["fields"])
    assert pressure["fields"]["pressure"] == 0.25 and pressure["tags"]["unit"] == "MPa"


def test_standalone_simulator_prints_a_port_the_executable_reads(tmp_path: Path) -> None:
    link = tmp_path / "ttyCHILLER"
    proc = subprocess.Popen(
        [sys.executable, "-m", "telegraf_inputs.families.smc_hrs.simulator", "--link", str(link), "--bcc"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        banner = proc.stdout.readline()
        assert banner.strip().endswith(f"Address: {link}")
        config = write_config(tmp_path, [smc_device(str(link), DeviceSpecificParams={"BCC": True})])
        result = run_once(["--config", str(config)], name=EXE)
    finally:
        proc.terminate()
        proc.wait(5)
    assert result.returncode == 0, result.stderr
    assert len(parse_lines(result.stdout)) == 2


def test_simulate_flag_needs_no_hardware(tmp_path: Path) -> None:
    config = write_config(tmp_path, [smc_device("/dev/ttyUSB-absent")])
    result = run_once(["--config", str(config), "--simulate"], name=EXE)
    assert result.returncode == 0, result.stderr
    assert [line["tags"]["sensor"] for line in parse_lines(result.stdout)] == ["Returning", "Setpoint"]


def test_simulate_serves_chillers_sharing_a_port_from_one_simulated_bus(tmp_path: Path) -> None:
    chillers = [
        smc_device("/dev/ttyUSB-absent", name=f"chiller{i}", DeviceSpecificParams={"InternalAddress": i})
        for i in (1, 2)
    ]
    result = run_once(["--config", str(write_config(tmp_path, chillers)), "--simulate"], name=EXE)
    assert result.returncode == 0, result.stderr
    assert sorted(line["tags"]["device"] for line in parse_lines(result.stdout)) == ["chiller1"] * 2 + ["chiller2"] * 2


# -- socket:// (what the simulator uses where there are no ptys, as on Windows) ---------------------
def test_a_chiller_on_a_socket_url_is_read_and_its_failure_and_return_reported(tmp_path: Path) -> None:
    sim = HrsSimulator(transport="socket", protocol="modbus").start()
    try:
        assert sim.path.startswith("socket://127.0.0.1:")
        entry = smc_device(
            sim.path,
            DeviceSpecificParams={"Protocol": "modbus"},
            channels={"PV1": {"Type": "PV1"}, "P": {"Type": "PRESSURE", "field-key": "pressure"}},
        )
        exe = ExecdProcess(["--config", str(write_config(tmp_path, [entry]))], name=EXE)
        try:
            exe.trigger()
            lines = parse_lines("\n".join(exe.read_lines(2)))
            assert lines[1]["fields"] == {"pressure": 0.25}
            sim.vanish()  # the serial-over-LAN adapter goes away
            exe.trigger()
            assert "E! device 'chiller'" in exe.wait_stderr("E! device 'chiller'")
            sim.reappear()  # on the same port
            deadline = time.monotonic() + 10
            while not any("recovered" in line for line in exe.stderr) and time.monotonic() < deadline:
                exe.trigger()
                time.sleep(0.3)
            exe.wait_stderr("I! device 'chiller': recovered")
        finally:
            exe.close_stdin()
            exe.kill()
    finally:
        sim.stop()


def test_the_standalone_simulator_serves_a_socket_url(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "telegraf_inputs.families.smc_hrs.simulator", "--socket", "--baudrate", "19200"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        banner = proc.stdout.readline()
        address = banner.rsplit("Address: ", 1)[1].strip()
        assert address.startswith("socket://127.0.0.1:")
        entry = smc_device(address, SerialConnectionParams={"baudrate": 19200})
        result = run_once(["--config", str(write_config(tmp_path, [entry]))], name=EXE)
        assert result.returncode == 0, result.stderr
        assert len(parse_lines(result.stdout)) == 2
    finally:
        proc.terminate()
        proc.wait(5)
