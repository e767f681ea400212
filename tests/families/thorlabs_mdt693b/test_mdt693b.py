"""Thorlabs MDT693B through telegraf-thorlabs-mdt693b, against the simulator on a pty."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from telegraf_inputs.families.thorlabs_mdt693b.simulator import Mdt693bSimulator
from tests.families.serial_helpers import errors, read_once, running
from tests.helpers import ExecdProcess, parse_lines, write_config

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the simulator's line is a pty")
EXE = "telegraf-thorlabs-mdt693b"


sim = running(Mdt693bSimulator)


def piezo(address: str, channels: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    """The older logger's example entry: no SerialConnectionParams."""
    return {
        "Device": "Piezo controller",
        "Model": "Thorlabs MDT693B",
        "Address": address,
        "Timeout": 0.5,
        "tags": {},
        "measurement": "piezo",
        "Channels": channels
        or {
            axis: {"Type": "Vout", "Axis": axis, "field-key": "voltage", "tags": {"axis": axis, "unit": "V"}}
            for axis in "xyz"
        },
        **extra,
    }


def voltages(lines: list[dict]) -> dict[str, float]:
    return {line["tags"]["axis"]: line["fields"]["voltage"] for line in lines}


def test_the_older_example_entry_reads_every_axis_at_115200(tmp_path: Path, sim: Mdt693bSimulator) -> None:
    sim.volts = {"x": 12.5, "y": 0.0, "z": 149.9}
    code, lines, stderr = read_once(tmp_path, EXE, [piezo(sim.path)])
    assert code == 0, stderr
    assert voltages(lines) == {"x": 12.5, "y": 0.0, "z": 149.9}
    assert sim.log == [
        (b"xvoltage?\n", b"[  12.5]\r>"),
        (b"yvoltage?\n", b"[   0.0]\r>"),
        (b"zvoltage?\n", b"[ 149.9]\r>"),
    ]


def test_echo_on_is_read_through_and_limits_read(tmp_path: Path) -> None:
    sim = Mdt693bSimulator(echo=True).start()
    try:
        channels = {
            "x": {"Type": "Vout", "Axis": "X", "field-key": "voltage", "tags": {"axis": "x"}},
            "xmax": {"Type": "Vmax", "Axis": "x", "field-key": "max", "tags": {"axis": "x"}},
            "limit": {"Type": "Vlimit", "field-key": "limit", "tags": {"axis": "all"}},
        }
        code, lines, stderr = read_once(tmp_path, EXE, [piezo(sim.path, channels)])
        assert code == 0, stderr
        assert {k: v for line in lines for k, v in line["fields"].items()} == {"voltage": 24.8, "max": 150.0,
                                                                                 "limit": 150.0}  # fmt: skip
        assert sim.log[0] == (b"xvoltage?\n", b"xvoltage?\r[  24.8]\r>")
    finally:
        sim.stop()


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("error_next", "reply to 'xvoltage?' is not a bracketed value: 'CMD_NOT_DEFINED'"),
        ("cut_short_next", "reply to b'xvoltage?\\n' cut short"),
        ("garble_next", "reply to 'xvoltage?'"),
    ],
)
def test_a_bad_reply_is_an_error_for_its_axis_only(
    tmp_path: Path, sim: Mdt693bSimulator, fault: str, message: str
) -> None:
    setattr(sim.faults, fault, True)
    code, lines, stderr = read_once(tmp_path, EXE, [piezo(sim.path)])
    assert code == 0 and set(voltages(lines)) == {"y", "z"}
    (error,) = errors(stderr)
    assert "channel 'x'" in error and message in error


def test_a_value_out_of_range_is_no_value(tmp_path: Path, sim: Mdt693bSimulator) -> None:
    sim.volts["y"] = 151.0
    code, lines, stderr = read_once(tmp_path, EXE, [piezo(sim.path)])
    assert set(voltages(lines)) == {"x", "z"}
    assert "reply to 'yvoltage?' is 151.0 V, outside 0 to 150 V" in errors(stderr)[0]


def test_silence_wrong_baud_and_unplugged_adapter_then_recovery(tmp_path: Path) -> None:
    sim = Mdt693bSimulator(link=tmp_path / "piezo").start()
    try:
        wrong = piezo(str(tmp_path / "piezo"), SerialConnectionParams={"baudrate": 9600})
        code, lines, stderr = read_once(tmp_path, EXE, [wrong])
        assert code == 1 and "no reply to b'xvoltage?\\n' within Timeout 0.5 s" in errors(stderr)[0]
        exe = ExecdProcess(["--config", str(write_config(tmp_path, [piezo(str(tmp_path / "piezo"))]))], name=EXE)
        exe.trigger()
        assert len(parse_lines("\n".join(exe.read_lines(3)))) == 3
        sim.vanish()
        exe.trigger()
        exe.wait_stderr("failed")
        sim.reappear()
        exe.trigger()
        exe.read_lines(3)
        exe.wait_stderr("recovered after 1 failed gather(s)")
        assert exe.close_stdin() < 2
    finally:
        sim.stop()
