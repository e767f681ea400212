"""Thorlabs KPA101 through telegraf-thorlabs-kpa101, against the APT simulator on a pty."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from telegraf_inputs.base import DeviceError
from telegraf_inputs.families.thorlabs_kpa101.driver import find_port
from telegraf_inputs.families.thorlabs_kpa101.protocol import (
    FrameError,
    Readings,
    long_message,
    parse_header,
    parse_readings,
    readings_data,
)
from telegraf_inputs.families.thorlabs_kpa101.simulator import Kpa101Simulator
from tests.families.serial_helpers import errors, read_once, running
from tests.helpers import ExecdProcess, load_devices, parse_lines, write_config

EXE = "telegraf-thorlabs-kpa101"
posix = pytest.mark.skipif(sys.platform == "win32", reason="the simulator's line is a pty")


sim = running(Kpa101Simulator)


def cube(address: str | None, types: tuple[str, ...] = ("XDiff", "YDiff", "Sum"), **extra: Any) -> dict[str, Any]:
    """The older logger's example entry (SerialNumber, Timeout), here with the pty as Address."""
    entry: dict[str, Any] = {
        "Device": "Beam position", "Model": "Thorlabs KPA101", "SerialNumber": 69252254, "Timeout": 0.5,
        "tags": {}, "measurement": "beamposition",
        "Channels": {t: {"Type": t, "field-key": t, "tags": {"unit": "V"}} for t in types},
    }  # fmt: skip
    if address is not None:
        entry["Address"] = address
    return {**entry, **extra}


def fields(lines: list[dict]) -> dict[str, Any]:
    return {k: v for line in lines for k, v in line["fields"].items()}


def test_the_port_is_found_by_serial_number_with_or_without_the_ftdi_suffix() -> None:
    ports = [SimpleNamespace(device="/dev/ttyUSB0", serial_number="FT123"),
             SimpleNamespace(device="/dev/ttyUSB1", serial_number="69252254"),
             SimpleNamespace(device="COM7", serial_number=None)]  # fmt: skip
    assert find_port(69252254, ports) == "/dev/ttyUSB1"
    windows = [SimpleNamespace(device="COM5", serial_number="69252254A")]
    assert find_port(69252254, windows) == "COM5"
    with pytest.raises(DeviceError, match=r"no USB serial port has serial number 1; found: /dev/ttyUSB0 \(FT123\)"):
        find_port(1, ports)


@posix
def test_the_serial_number_lookup_opens_the_port_it_finds(tmp_path: Path, sim: Kpa101Simulator) -> None:
    from telegraf_inputs.families.thorlabs_kpa101.driver import Kpa101Driver

    driver = Kpa101Driver(ports=lambda: [SimpleNamespace(device=sim.path, serial_number="69252254A")])
    (device,) = load_devices("thorlabs_kpa101", write_config(tmp_path, [cube(None)]))
    session = driver.open([device])
    try:
        readings = session.read(device)
    finally:
        session.close()
    assert [r.value for r in readings][2] == pytest.approx(32767 * 10 / 32767 / 2)


@posix
def test_conversation_bytes_and_every_type(tmp_path: Path, sim: Kpa101Simulator) -> None:
    sim.readings = Readings(xdiff=6553, ydiff=-3277, sum=65534, xpos=100, ypos=-200)
    types = ("XDiff", "YDiff", "Sum", "XPos", "YPos", "XPosPDP90A", "YPosPDP90A")
    code, lines, stderr = read_once(tmp_path, EXE, [cube(sim.path, types)])
    assert code == 0, stderr
    assert [r for r, _ in sim.log] == [bytes([0x71, 0x08, 0x03, 0x00, 0x50, 0x01])]
    reply = sim.log[0][1]
    assert reply is not None and reply[:6] == bytes([0x72, 0x08, 12, 0, 0x81, 0x50])
    got = fields(lines)
    x = parse_readings(reply[6:])
    assert got["XDiff"] == pytest.approx(x.xdiff * 10 / 32767) and got["YDiff"] == pytest.approx(-3277 * 10 / 32767)
    assert got["Sum"] == pytest.approx(65534 * 10 / 32767 / 2)
    assert got["YPos"] == pytest.approx(-200 * 10 / 32767)
    assert got["XPosPDP90A"] == pytest.approx(5 * got["XDiff"] / got["Sum"])


@posix
@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("garble_next", "a message from 0x10 to 0x01, not from the device (0x50) to the host (0x01)"),
        ("unknown_next", "message id 0x0999 is not one the KPA101 sends here"),
        ("cut_short_next", "a message cut short"),
    ],
)
def test_bad_frames_give_no_value(tmp_path: Path, sim: Kpa101Simulator, fault: str, message: str) -> None:
    if fault == "unknown_next":
        sim.unknown_next = True
    else:
        setattr(sim.faults, fault, True)
    code, lines, stderr = read_once(tmp_path, EXE, [cube(sim.path)])
    assert lines == []
    assert message in errors(stderr)[0], stderr


@posix
def test_an_unsolicited_status_update_is_skipped(tmp_path: Path, sim: Kpa101Simulator) -> None:
    sim.status_next = True
    code, lines, stderr = read_once(tmp_path, EXE, [cube(sim.path)])
    assert code == 0 and set(fields(lines)) == {"XDiff", "YDiff", "Sum"}


@posix
def test_no_light_is_no_position(tmp_path: Path, sim: Kpa101Simulator) -> None:
    sim.readings = Readings(0, 0, 0, 0, 0)
    code, lines, stderr = read_once(tmp_path, EXE, [cube(sim.path, ("Sum", "XPosPDP90A"))])
    assert fields(lines) == {"Sum": 0.0} and "no light on the detector" in errors(stderr, "W!")[0]


@posix
def test_silence_and_an_unplugged_cube_then_recovery(tmp_path: Path) -> None:
    sim = Kpa101Simulator(link=tmp_path / "kpa").start()
    exe = ExecdProcess(["--config", str(write_config(tmp_path, [cube(str(tmp_path / "kpa"))]))], name=EXE)
    try:
        exe.trigger()
        assert len(parse_lines("\n".join(exe.read_lines(3)))) == 3
        sim.faults.silent = True
        exe.trigger()
        exe.wait_stderr("no reply from")
        sim.faults.silent = False
        exe.trigger()
        exe.read_lines(3)
        exe.wait_stderr("recovered after 1 failed gather(s)")
        sim.vanish()
        exe.trigger()
        exe.wait_stderr("unplugged?")
        sim.reappear()
        exe.trigger()
        exe.read_lines(3)
        assert exe.close_stdin() < 2
    finally:
        sim.stop()


@given(st.integers(0, 0xFFFF), st.integers(0, 0xFF), st.integers(0, 0xFF), st.binary(min_size=0, max_size=20))
def test_only_device_to_host_messages_of_known_ids_pass(message_id: int, dest: int, source: int, data: bytes) -> None:
    raw = long_message(message_id, data, dest=dest & 0x7F, source=source)[:6]
    try:
        header = parse_header(raw)
    except FrameError:
        return
    assert header.source == 0x50 and header.dest & 0x7F == 0x01 and header.message_id in (0x0872, 0x0881, 0x0006)


@given(st.integers(-32768, 32767), st.integers(-32768, 32767), st.integers(0, 65535))
def test_readings_round_trip(x: int, y: int, total: int) -> None:
    r = Readings(x, y, total, y, x)
    assert parse_readings(readings_data(r)) == r
