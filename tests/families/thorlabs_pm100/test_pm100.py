"""Thorlabs PM100 through telegraf-thorlabs-pm100, against the simulated meter's SCPI socket."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from telegraf_inputs import visa
from telegraf_inputs.families.thorlabs_pm100.driver import Pm100Driver
from telegraf_inputs.families.thorlabs_pm100.simulator import Pm100Simulator
from tests.families.serial_helpers import errors, read_once, running
from tests.helpers import ExecdProcess, load_devices, parse_lines, write_config

EXE = "telegraf-thorlabs-pm100"
TYPES = ("Power", "PowerUnit", "PowerAutoRange", "Wavelength", "BeamDiameter", "NumAverages", "ZeroMagnitude")


sim = running(Pm100Simulator)


def meter(address: str, types: tuple[str, ...] = ("Power",), **extra: Any) -> dict[str, Any]:
    """The older logger's example entry, pointed at the simulator."""
    return {
        "Device": "Power meter",
        "Model": "Thorlabs PM100",
        "Address": address,
        "VISAIDN": "Thorlabs,PM100D,P0035093,2.8.1",
        "Timeout": 0.5,
        "tags": {},
        "measurement": "power",
        "Channels": {t: {"Type": t, "field-key": t} for t in types},
        **extra,
    }


def fields(lines: list[dict]) -> dict[str, Any]:
    return {k: v for line in lines for k, v in line["fields"].items()}


def test_conversation_and_every_type(tmp_path: Path, sim: Pm100Simulator) -> None:
    entry = meter(sim.address, TYPES, CmdOnInit=["SENS:AVER:COUN 20", "BOGUS 1"])
    code, lines, stderr = read_once(tmp_path, EXE, [entry])
    assert code == 0, stderr
    assert sim.received == [
        b"*IDN?\n", b"SENS:AVER:COUN 20\n", b"SYST:ERR?\n", b"BOGUS 1\n", b"SYST:ERR?\n", b"SYST:ERR?\n",
        b"SENS:POW:UNIT W\n", b"SYST:ERR?\n",
        b"MEAS:POW?\n", b"SENS:POW:UNIT?\n", b"SENS:POW:RANG:AUTO?\n", b"SENS:CORR:WAV?\n", b"SENS:CORR:BEAM?\n",
        b"SENS:AVER:COUN?\n", b"SENS:CORR:COLL:ZERO:MAGN?\n",
    ]  # fmt: skip
    got = fields(lines)
    assert got["Power"] == pytest.approx(1.25e-3, rel=0.011) and got["PowerUnit"] == "W"
    assert got["PowerAutoRange"] is True and got["Wavelength"] == 1064.0 and got["BeamDiameter"] == 5.0
    assert got["NumAverages"] == 20 and isinstance(got["NumAverages"], int) and got["ZeroMagnitude"] == 1.2e-9
    # the error queue read after each CmdOnInit command ties an error to its command
    assert errors(stderr) == [
        "E! device 'Power meter': CmdOnInit 'BOGUS 1': instrument error -113,\"Undefined header\""
    ]


def test_the_meter_is_set_to_watts_at_connect(tmp_path: Path, sim: Pm100Simulator) -> None:
    sim.unit = "DBM"
    code, lines, stderr = read_once(tmp_path, EXE, [meter(sim.address, ("Power", "PowerUnit"))])
    assert fields(lines)["PowerUnit"] == "W" and fields(lines)["Power"] < 0.01


def test_through_pyvisa_as_a_visa_socket_resource(sim: Pm100Simulator, tmp_path: Path) -> None:
    (device,) = load_devices("thorlabs_pm100", write_config(tmp_path, [meter(sim.address, ("Power", "Wavelength"))]))
    driver = Pm100Driver(opener=lambda d: visa.open_visa(d.address, "@py", d.timeout_ms))
    session = driver.open([device])
    try:
        readings = session.read(device)
    finally:
        session.close()
    assert [r.value for r in readings][1] == 1064.0 and readings[0].problem is None


def test_no_sensor_is_a_warning_and_no_value(tmp_path: Path, sim: Pm100Simulator) -> None:
    sim.faults.no_sensor = True
    code, lines, stderr = read_once(tmp_path, EXE, [meter(sim.address, ("Power", "Wavelength"))])
    assert code == 0 and fields(lines) == {"Wavelength": 1064.0}
    assert "no measurement (9.91E+37): no sensor, or over range" in errors(stderr, "W!")[0]


def test_a_garbled_reply_is_an_error_for_its_channel(tmp_path: Path, sim: Pm100Simulator) -> None:
    exe = ExecdProcess(["--config", str(write_config(tmp_path, [meter(sim.address, ("Power", "Wavelength"))]))],
                       name=EXE)  # fmt: skip
    exe.trigger()
    exe.read_lines(2)
    sim.faults.garble_next = True  # the next reply: MEAS:POW?'s
    exe.trigger()
    (line,) = parse_lines(exe.read_lines(1)[0])
    assert line["fields"] == {"Wavelength": 1064.0}
    assert "'MEAS:POW?' answered '#.#" in exe.wait_stderr("E! ")
    assert exe.close_stdin() < 2


def test_silent_cut_short_refused_and_recovery(tmp_path: Path) -> None:
    sim = Pm100Simulator().start()
    port = sim.port
    exe = ExecdProcess(["--config", str(write_config(tmp_path, [meter(sim.address)]))], name=EXE)
    try:
        exe.trigger()
        exe.read_lines(1)
        sim.faults.cut_short_next = True
        exe.trigger()
        exe.wait_stderr("reply not complete within the timeout of 0.5 s")
        exe.trigger()
        exe.read_lines(1)
        exe.wait_stderr("recovered after 1 failed gather(s)")
        sim.stop()  # the meter goes away: its connection is closed, then refused
        for _ in range(2):
            exe.trigger()
            time.sleep(0.3)
        assert sum(line.startswith("E! device 'Power meter'") for line in exe.stderr) == 2  # one per streak
        sim = Pm100Simulator(port).start()
        exe.trigger()
        exe.read_lines(1)
        deadline = time.monotonic() + 5
        while sum("recovered after" in line for line in exe.stderr) < 2:
            assert time.monotonic() < deadline, exe.stderr
            time.sleep(0.02)
        assert exe.close_stdin() < 2
    finally:
        sim.stop()


def test_visaidn_mismatch_is_a_warning(tmp_path: Path, sim: Pm100Simulator) -> None:
    code, lines, stderr = read_once(tmp_path, EXE, [meter(sim.address, VISAIDN="Thorlabs,PM100USB,X,1")])
    assert code == 0 and "VISAIDN expects 'Thorlabs,PM100USB,X,1'" in errors(stderr, "W!")[0]
