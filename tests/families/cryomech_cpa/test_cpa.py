"""Cryomech CPA compressors through telegraf-cryomech-cpa, against the Modbus TCP simulator on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from telegraf_inputs.families.cryomech_cpa.protocol import FLAG_BITS, float32, float_words
from telegraf_inputs.families.cryomech_cpa.simulator import CpaSimulator
from tests.families.serial_helpers import errors, read_once, running
from tests.helpers import ExecdProcess, load_devices, parse_lines, write_config

EXE = "telegraf-cryomech-cpa"


sim = running(CpaSimulator)


def compressor(address: str, channels: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    """An entry with the older logger's keys (its code's, as its example file had none)."""
    return {
        "Device": "Compressor",
        "Model": "Cryomech CPA1110",
        "Address": address,
        "Timeout": 0.5,
        "ModbusDeviceID": 1,
        "KeepTryingToConnect": True,
        "tags": {},
        "measurement": "compressor",
        "Channels": channels
        or {
            "in": {"Type": "CoolantIntTemperature", "field-key": "coolant_in"},
            "he": {"Type": "HeTemperature", "field-key": "helium"},
            "lp": {"Type": "LowPressure", "field-key": "low_pressure"},
            "hp": {"Type": "HighPressure", "field-key": "high_pressure"},
        },
        **extra,
    }


def fields(lines: list[dict]) -> dict[str, Any]:
    return {k: v for line in lines for k, v in line["fields"].items()}


@pytest.mark.parametrize("panel", ["3", "2"])
def test_one_read_per_gather_and_the_older_loggers_fields_only(tmp_path: Path, sim: CpaSimulator, panel: str) -> None:
    sim.panel = panel
    sim.pressure_scale, sim.temperature_scale = 1, 2  # bar, K
    entry = compressor(sim.address, DeviceSpecificParams={"PanelVersion": panel})
    code, lines, stderr = read_once(tmp_path, EXE, [entry])
    assert code == 0, stderr
    count = 55 if panel == "3" else 53
    assert sim.requests == [bytes([0, 1, 0, 0, 0, 6, 1, 4, 0, 1, 0, count])]  # one FC04 read, registers 1-count
    got = fields(lines)
    assert got["coolant_in"] == pytest.approx(75.0, rel=0.003)
    assert got["high_pressure"] == pytest.approx(288.6, rel=0.003)
    assert set(got) == {"coolant_in", "helium", "low_pressure", "high_pressure"}  # the older logger's schema


def test_unit_fields_add_the_panels_unit_when_asked_for(tmp_path: Path, sim: CpaSimulator) -> None:
    sim.pressure_scale, sim.temperature_scale = 1, 2  # bar, K
    entry = compressor(sim.address, DeviceSpecificParams={"UnitFields": True})
    code, lines, stderr = read_once(tmp_path, EXE, [entry])
    got = fields(lines)
    assert got["coolant_in_unit"] == "K" and got["high_pressure_unit"] == "bar"
    assert set(got) == {"coolant_in", "coolant_in_unit", "helium", "helium_unit", "low_pressure", "low_pressure_unit",
                        "high_pressure", "high_pressure_unit"}  # fmt: skip


@pytest.mark.parametrize(
    ("scales", "tag", "factor", "offset"),
    [
        ((1, 1), "degC", 1.0, 0.0),  # the panel's C
        ((1, 1), "DegC", 1.0, 0.0),  # as the older logger's example spells it
        ((1, 1), "degF", 1.8, 32.0),  # converted to the tag's unit
        ((1, 2), "K", 1.0, 0.0),
        ((1, 2), "degC", 1.0, -273.15),
    ],
)
def test_a_unit_tag_is_compared_by_meaning_and_a_convertible_unit_converted(
    tmp_path: Path, sim: CpaSimulator, scales: tuple[int, int], tag: str, factor: float, offset: float
) -> None:
    sim.pressure_scale, sim.temperature_scale = scales
    plain = fields(read_once(tmp_path, EXE, [compressor(sim.address)])[1])["coolant_in"]
    channels = {"in": {"Type": "CoolantIntTemperature", "field-key": "coolant_in", "tags": {"unit": tag}},
                "lp": {"Type": "LowPressure", "field-key": "low_pressure", "tags": {"unit": "psi"}}}  # fmt: skip
    code, lines, stderr = read_once(tmp_path, EXE, [compressor(sim.address, channels)])
    assert code == 0 and errors(stderr, "W!") == [], stderr
    got = fields(lines)
    assert got["coolant_in"] == pytest.approx(plain * factor + offset, rel=0.003, abs=0.3)
    assert set(got) == {"coolant_in", "low_pressure"}


def test_psi_converted_to_bar_and_a_unit_of_another_dimension_is_a_warning_not_a_value(
    tmp_path: Path, sim: CpaSimulator
) -> None:
    sim.pressure_scale = 1  # bar
    bar = fields(read_once(tmp_path, EXE, [compressor(sim.address)])[1])["high_pressure"]
    sim.pressure_scale = 0  # psi: the simulator's registers are the same numbers, now read as psi
    channels = {"hp": {"Type": "HighPressure", "field-key": "hp", "tags": {"unit": "bar"}},
                "lp": {"Type": "LowPressure", "field-key": "lp", "tags": {"unit": "degC"}},
                "he": {"Type": "HeTemperature", "field-key": "he"}}  # fmt: skip
    code, lines, stderr = read_once(tmp_path, EXE, [compressor(sim.address, channels)])
    got = fields(lines)
    assert got["hp"] == pytest.approx(bar * 0.0689476, rel=0.003) and set(got) == {"hp", "he"}
    (warning,) = errors(stderr, "W!")
    assert "channel 'lp'" in warning
    assert "the panel's pressure is in 'psi', which is not convertible to 'degC'" in warning


@pytest.mark.parametrize("panel", ["3", "2"])
def test_state_warnings_alarms_and_hours(tmp_path: Path, sim: CpaSimulator, panel: str) -> None:
    sim.panel, sim.state, sim.warnings, sim.alarms = panel, 6, 1 << 6, (1 << 19) | (1 << 30)
    channels = {
        "s": {"Type": "OperatingState", "field-key": "state"},
        "w": {"Type": "Warnings", "field-key": "warnings"},
        "a": {"Type": "Alarms", "field-key": "alarms"},
        "h": {"Type": "HoursOfOperation", "field-key": "hours"},
        "m": {"Type": "MotorCurrent", "field-key": "motor"},
    }
    code, lines, stderr = read_once(
        tmp_path, EXE, [compressor(sim.address, channels, DeviceSpecificParams={"PanelVersion": int(panel)})]
    )
    assert code == 0, stderr
    got = fields(lines)
    assert got["state"] == 6 and got["state_name"] == "error lockout" and got["state_running"] is True
    assert got["warnings"] == 1 and got["warnings_helium_high"] is True and got["warnings_oil_high"] is False
    assert got["alarms"] == 2 and got["alarms_motor_stall"] is True and got["alarms_inverter_comm_loss"] is True
    assert got["alarms_active"] == "motor_stall,inverter_comm_loss" and got["alarms_word"] == sim.alarms
    assert got["hours"] == pytest.approx(12345.6) and "hours_unit" not in got and "motor" in got
    assert len([k for k in got if k.startswith("alarms_")]) == len(FLAG_BITS) + 2


def test_an_unknown_scale_is_an_error_not_a_value_in_an_unknown_unit(tmp_path: Path, sim: CpaSimulator) -> None:
    sim.temperature_scale = 7
    code, lines, stderr = read_once(tmp_path, EXE, [compressor(sim.address)])
    assert set(fields(lines)) == {"low_pressure", "high_pressure"}
    assert "the panel's temperature scale (register 30) is 7, not a unit" in errors(stderr)[0]


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ({"exception_next": 2}, "MODBUS exception 2: illegal data address"),
        ({"exception_next": 4}, "MODBUS exception 4: server device failure"),
        ({"garble_next": True}, "reply to transaction 8, expected 1"),
        ({"wrong_unit_next": True}, "reply from unit 2, expected 1"),
        ({"cut_short_next": True}, "no complete reply within the timeout of 0.5 s"),
        ({"silent": True}, "no complete reply within the timeout of 0.5 s (0 of 7 bytes came)"),
    ],
)
def test_modbus_faults_are_errors(tmp_path: Path, sim: CpaSimulator, fault: dict[str, Any], message: str) -> None:
    for key, value in fault.items():
        setattr(sim.faults, key, value)
    code, lines, stderr = read_once(tmp_path, EXE, [compressor(sim.address)])
    assert code == 1 and lines == []
    assert message in errors(stderr)[0], stderr


def test_a_panel_version_that_does_not_match_gets_an_exception(tmp_path: Path, sim: CpaSimulator) -> None:
    sim.panel = "2"  # 53 registers: a 3.x read of 55 is outside them
    code, lines, stderr = read_once(tmp_path, EXE, [compressor(sim.address)])
    assert code == 1 and "MODBUS exception 2: illegal data address" in errors(stderr)[0]


def test_refused_then_recovery_in_execd(tmp_path: Path) -> None:
    sim = CpaSimulator().start()
    port = sim.port
    sim.stop()  # nothing listens: connection refused
    exe = ExecdProcess(["--config", str(write_config(tmp_path, [compressor(f"127.0.0.1:{port}")]))], name=EXE)
    try:
        exe.trigger()
        exe.wait_stderr(f"cannot connect to 127.0.0.1:{port}: Connection refused")
        sim = CpaSimulator(port=port).start()
        exe.trigger()
        assert len(parse_lines("\n".join(exe.read_lines(4)))) == 4
        exe.wait_stderr("recovered after 1 failed gather(s)")
        assert exe.close_stdin() < 2
    finally:
        sim.stop()


def test_the_address_takes_a_port_and_two_entries_for_one_unit_are_refused(tmp_path: Path) -> None:
    (device,) = load_devices("cryomech_cpa", write_config(tmp_path, [compressor("[::1]:5020")]))
    assert (device.host, device.port, device.unit) == ("::1", 5020, 1)
    entries = [compressor("10.0.0.5"), {**compressor("10.0.0.5:502"), "Device": "again"}]
    code, _, stderr = read_once(tmp_path, EXE, entries)
    assert code == 2 and "[1].ModbusDeviceID: unit 1 at 10.0.0.5:502 is already device 'Compressor''s" in stderr


@given(st.floats(width=32, allow_nan=False))
def test_2x_floats_low_word_first_round_trip(value: float) -> None:
    low, high = float_words(value)
    assert float32(low, high) == value


# Cryomech's own sample code for 2.x panels over Modbus TCP (Cryomech/SampleCode, CPA_2xxx_ModbusTCP.py,
# buildMessage): the warnings and alarms floats are the negated sum of the flags, -1 "Coolant In High"
# alone, -2 "Coolant In Low", ... -2**30 "Inverter Comm Loss"; 0 none.
VENDOR_2X_CASES = [
    (-1.0, ["coolant_in_high"]),
    (-2.0, ["coolant_in_low"]),
    (-3.0, ["coolant_in_high", "coolant_in_low"]),
    (-524288.0, ["motor_stall"]),
    (-1073741824.0, ["inverter_comm_loss"]),
    (0.0, []),
]


@pytest.mark.parametrize(("sent", "active"), VENDOR_2X_CASES)
def test_a_2x_panels_flag_floats_decode_as_cryomechs_sample_code(
    tmp_path: Path, sim: CpaSimulator, sent: float, active: list[str]
) -> None:
    from telegraf_inputs.families.cryomech_cpa.protocol import ALARMS2, WARNINGS2

    sim.panel = "2"
    sim.floats2 = {WARNINGS2: sent, ALARMS2: 0.0}
    channels = {"w": {"Type": "Warnings", "field-key": "warnings"}, "a": {"Type": "Alarms", "field-key": "alarms"}}
    entry = compressor(sim.address, channels, DeviceSpecificParams={"PanelVersion": 2})
    code, lines, stderr = read_once(tmp_path, EXE, [entry])
    assert code == 0, stderr
    got = fields(lines)
    assert got["warnings"] == len(active) and got["warnings_active"] == ",".join(active)
    assert [name for name in FLAG_BITS if got[f"warnings_{name}"]] == active
    assert got["alarms"] == 0 and got["alarms_active"] == ""


@pytest.mark.parametrize("sent", [float("nan"), 1.5, 4.0, -(2.0**31)])
def test_a_2x_flag_float_that_is_no_flag_sum_fails_its_channel_alone(
    tmp_path: Path, sim: CpaSimulator, sent: float
) -> None:
    from telegraf_inputs.families.cryomech_cpa.protocol import WARNINGS2

    sim.panel = "2"
    sim.floats2 = {WARNINGS2: sent}
    channels = {"w": {"Type": "Warnings", "field-key": "warnings"}, "a": {"Type": "Alarms", "field-key": "alarms"},
                "in": {"Type": "CoolantIntTemperature", "field-key": "coolant_in"}}  # fmt: skip
    code, lines, stderr = read_once(tmp_path, EXE, [compressor(sim.address, channels,
                                                               DeviceSpecificParams={"PanelVersion": 2})])  # fmt: skip
    got = fields(lines)
    assert not any(key.startswith("warnings") for key in got), got  # no fabricated flags
    assert got["coolant_in"] == pytest.approx(75.0, rel=0.003) and got["alarms"] == 0
    (error,) = errors(stderr)
    assert "the panel's warnings word:" in error and "Traceback" not in stderr
