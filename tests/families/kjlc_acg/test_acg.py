"""KJLC ACG through telegraf-kjlc-acg, against the streaming simulator on a pty."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from telegraf_inputs.families.kjlc_acg.protocol import (
    MANTISSAS,
    PAGES,
    FrameError,
    checksum,
    encode,
    find_frame,
    full_scale,
)
from telegraf_inputs.families.kjlc_acg.simulator import AcgSimulator
from tests.families.serial_helpers import errors, read_once, running
from tests.helpers import ExecdProcess, parse_lines, write_config

EXE = "telegraf-kjlc-acg"
posix = pytest.mark.skipif(sys.platform == "win32", reason="the simulator's line is a pty")


sim = running(AcgSimulator)


def gauge(address: str, **extra: Any) -> dict[str, Any]:
    """An entry as the older logger's files have it."""
    return {
        "Device": "ACG",
        "Model": "KJLC ACG",
        "Address": address,
        "SerialConnectionParams": {"baudrate": 9600, "bytesize": 8, "stopbits": 1, "parity": "N"},
        "Timeout": 0.5,
        "tags": {},
        "measurement": "pressure",
        "Channels": {"P": {"Type": "Pressure", "field-key": "pressure", "tags": {"unit": "Torr"}}},
        **extra,
    }


def test_the_inficon_example_frame_decodes_to_its_documented_values() -> None:
    frame = find_frame(bytes([7, 2, 16, 0, 125, 0, 20, 6, 169]))  # INFICON's example send string
    assert frame is not None and frame.page == 2 and frame.unit == "Torr" and frame.value == 32000
    assert frame.full_scale_torr == 1000 and frame.torr == 1000  # value 32000 on page 2 is full scale


@pytest.mark.parametrize(
    ("sensor_type", "torr"), [(0x06, 1000), (0x05, 100), (0x03, 1), (0x42, 0.5), (0x14, 11), (0x30, 0.0025)]
)
def test_full_scale_follows_inficon_bits_4_to_7_mantissa_and_0_to_3_exponent(sensor_type: int, torr: float) -> None:
    assert full_scale(sensor_type) == pytest.approx(torr)


@pytest.mark.parametrize("sensor_type", [0x50, 0x08, 0xFF])
def test_an_undefined_full_scale_code_is_refused(sensor_type: int) -> None:
    with pytest.raises(FrameError):
        full_scale(sensor_type)


@given(
    st.binary(max_size=30),
    st.sampled_from(sorted(PAGES)),
    st.integers(-32768, 32767),
    st.integers(0, len(MANTISSAS) - 1),
    st.integers(0, 7),
    st.binary(max_size=30),
)
def test_a_frame_is_found_in_any_noise_around_it(
    before: bytes, page: int, value: int, mantissa: int, exponent: int, after: bytes
) -> None:
    frame_bytes = encode(page, 0x10, 0, value, mantissa << 4 | exponent)
    after = bytes(b for b in after if b != 7)  # no second frame's start after it
    found = find_frame(before + frame_bytes + after)
    assert found is not None and found.value == value and found.page == page
    assert found.torr == pytest.approx(value / PAGES[page] * MANTISSAS[mantissa] * 10.0 ** (exponent - 3))


@given(st.binary(min_size=9, max_size=9))
def test_a_frame_with_a_wrong_checksum_is_never_taken(data: bytes) -> None:
    if checksum(data[1:8]) != data[8]:
        assert find_frame(data) is None


@posix
def test_pressure_and_status_from_the_stream(tmp_path: Path, sim: AcgSimulator) -> None:
    sim.value = 16000  # half of full scale: 500 Torr on the 1000 Torr head
    entry = gauge(sim.path)
    entry["Channels"]["S"] = {"Type": "Status", "field-key": "status"}
    code, lines, stderr = read_once(tmp_path, EXE, [entry])
    assert code == 0, stderr
    assert lines[0]["fields"] == {"pressure": 500.0}
    assert lines[1]["fields"] == {"status": 0x90, "status_unit": "Torr", "status_heater_ready": True,
                                  "status_setpoint1": False, "status_setpoint2": False}  # fmt: skip


@posix
@pytest.mark.parametrize(
    ("setting", "level", "message"),
    [
        ({"error": 0x80}, "E!", "the gauge reports: extended error"),
        ({"value": 32767}, "W!", "over range: 1024 Torr on a 1000 Torr head"),
        ({"sensor_type": 0x09}, "E!", "sensor type 0x09 is not a full scale INFICON defines"),
        ({"garble": True}, "E!", "no valid frame in 72 bytes"),
    ],
)
def test_a_frame_that_is_not_a_reading_gives_no_value(
    tmp_path: Path, sim: AcgSimulator, setting: dict[str, Any], level: str, message: str
) -> None:
    for key, value in setting.items():
        setattr(sim, key, value)
    code, lines, stderr = read_once(tmp_path, EXE, [gauge(sim.path)])
    assert lines == []
    (problem,) = errors(stderr, level)
    assert message in problem


@posix
def test_wrong_baud_rate_reads_noise_not_values(tmp_path: Path, sim: AcgSimulator) -> None:
    code, lines, stderr = read_once(tmp_path, EXE, [gauge(sim.path, SerialConnectionParams={"baudrate": 19200})])
    assert lines == [] and "no valid frame in 72 bytes (noise, or another baud rate)" in errors(stderr)[0]


@posix
def test_silence_a_cut_frame_and_an_unplugged_adapter_then_recovery(tmp_path: Path) -> None:
    sim = AcgSimulator(link=tmp_path / "acg").start()
    exe = ExecdProcess(["--config", str(write_config(tmp_path, [gauge(str(tmp_path / "acg"))]))], name=EXE)
    try:
        exe.trigger()
        assert parse_lines(exe.read_lines(1)[0])[0]["fields"]["pressure"] == pytest.approx(12.5, rel=0.02)
        sim.faults.cut_short_next = True  # half a frame, then nothing
        exe.trigger()
        exe.wait_stderr("E! device 'ACG'")
        sim.faults.silent = False
        exe.trigger()
        exe.read_lines(1)
        exe.wait_stderr("recovered after 1 failed gather(s)")
        sim.vanish()
        exe.trigger()
        exe.wait_stderr("failed (")
        sim.reappear()
        exe.trigger()
        exe.read_lines(1)
        assert exe.close_stdin() < 2
    finally:
        sim.stop()
