"""`run --once --format table` and one devices file for every host of the lab (`Host`, `run --host`)."""

from __future__ import annotations

import socket
from pathlib import Path

from tests.helpers import daq_device, parse_lines, run_once, write_config
from tests.helpers import executable as exe


def test_the_table_has_a_row_per_field_with_its_unit_and_a_failing_devices_reason(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"TCPIP0::127.0.0.1::{s.getsockname()[1]}::SOCKET"
    from telegraf_inputs.families.daq970a.simulator import Daq970aSimulator

    sim = Daq970aSimulator().start()
    try:
        config = write_config(tmp_path, [daq_device(sim.address), daq_device(dead, name="absent")])
        result = run_once(["run", "--config", str(config), "--format", "table"], name="telegraf-lab")
    finally:
        sim.stop()
    assert result.returncode == 1, result.stderr  # one device failed
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["device", "channel", "field", "value", "unit", "error"]
    rows = {tuple(line.split()[:3]): line for line in lines[1:]}
    temperature = rows[("daq", "101", "value")].split()
    assert 15 < float(temperature[3]) < 35 and temperature[4] == "DegC"
    assert ("daq", "102", "voltage") in rows
    absent = next(line for line in lines if line.startswith("absent"))
    assert "Connection refused" in absent
    assert "=" not in result.stdout.split("\n", 1)[1].split("absent")[0]  # no line protocol


def test_a_table_needs_once(tmp_path: Path) -> None:
    import subprocess

    config = write_config(tmp_path, [daq_device("TCPIP0::127.0.0.1::5025::SOCKET")])
    result = subprocess.run(exe("telegraf-lab") + ["run", "--config", str(config), "--format", "table"],
                            capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)  # fmt: skip
    assert result.returncode == 2 and "--format table is for --once" in result.stderr


def _lab(tmp_path: Path) -> Path:
    return write_config(tmp_path, [
        daq_device("TCPIP0::127.0.0.1::5025::SOCKET", name="pi1 daq", Host="pi1"),
        daq_device("TCPIP0::127.0.0.1::5026::SOCKET", name="pi2 daq", Host="PI2"),
        daq_device("TCPIP0::127.0.0.1::5027::SOCKET", name="any daq"),
    ])  # fmt: skip


def test_each_host_reads_its_own_devices_and_those_with_no_host(tmp_path: Path) -> None:
    config = _lab(tmp_path)
    read = {}
    for host in ("pi1", "pi2", "elsewhere"):
        result = run_once(["run", "--config", str(config), "--simulate", "--host", host], name="telegraf-lab")
        assert result.returncode == 0, result.stderr
        read[host] = {line["tags"]["device"] for line in parse_lines(result.stdout)}
    assert read == {"pi1": {"pi1 daq", "any daq"}, "pi2": {"pi2 daq", "any daq"}, "elsewhere": {"any daq"}}


def test_host_auto_is_this_machines_name(tmp_path: Path) -> None:
    name = socket.gethostname().split(".")[0]
    config = write_config(
        tmp_path,
        [
            daq_device("TCPIP0::127.0.0.1::5025::SOCKET", name="mine", Host=name),
            daq_device("TCPIP0::127.0.0.1::5026::SOCKET", name="theirs", Host=name + "x"),
        ],
    )
    result = run_once(["run", "--config", str(config), "--simulate", "--host", "auto"], name="telegraf-lab")
    assert result.returncode == 0, result.stderr
    assert {line["tags"]["device"] for line in parse_lines(result.stdout)} == {"mine"}


def test_check_reports_a_host_no_run_would_read_only_when_asked(tmp_path: Path) -> None:
    import subprocess

    config = _lab(tmp_path)
    plain = subprocess.run(exe("telegraf-lab") + ["check", str(config)], capture_output=True, text=True)
    assert plain.returncode == 0, plain.stderr
    asked = subprocess.run(exe("telegraf-lab") + ["check", str(config), "--hosts", "pi1,pi3"], capture_output=True,
                           text=True)  # fmt: skip
    assert asked.returncode == 2
    assert f"{config}: [1].Host: Host 'PI2' is none of --hosts pi1,pi3" in asked.stderr
    assert "[0].Host" not in asked.stderr
