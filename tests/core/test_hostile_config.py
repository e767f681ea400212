"""Careless or hostile devices files: a clear error naming file and JSON path, never a traceback or wrong data."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import serial

from telegraf_inputs import registry
from telegraf_inputs.logs import describe, one_line
from tests.helpers import ROOT, daq_device, executable, parse_lines, smc_device, write_config


def check(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(executable("telegraf-lab") + ["check", str(path)], capture_output=True, text=True, timeout=60)


def problems(tmp_path: Path, entries: list[dict[str, Any]]) -> list[str]:
    return [str(p) for p in registry.load(write_config(tmp_path, entries), simulate=True, environ={}).problems]


def test_a_station_used_twice_on_one_line_is_refused_whichever_device_it_is(tmp_path: Path) -> None:
    line = [
        smc_device("/dev/ttyUSB0", name=name, DeviceSpecificParams={"InternalAddress": station})
        for name, station in (("a", 1), ("b", 2), ("c", 2))
    ]
    (problem,) = problems(tmp_path, line)
    assert ": [2].DeviceSpecificParams: station 2 on the port of device 'b'" in problem


def test_a_port_through_a_symlink_is_the_same_port(tmp_path: Path) -> None:
    real = tmp_path / "ttyUSB0"
    real.touch()
    link = tmp_path / "usb-FTDI_A10K1234-if00-port0"
    link.symlink_to(real)
    entries = [smc_device(str(real), name="a"), smc_device(str(link), name="b")]
    (problem,) = problems(tmp_path, entries)  # same station 1 on one port, however it is spelled
    assert "[1].DeviceSpecificParams: station 1 on the port of device 'a'" in problem


STATUS = {"Type": "STATUS", "field-key": "x"}


@pytest.mark.parametrize(
    "entries,path,other",
    [
        (  # a channel's device tag writes onto another device's series
            [
                daq_device("TCPIP0::127.0.0.1::5025::SOCKET", name="a", tags={}),
                daq_device(
                    "TCPIP0::127.0.0.1::5026::SOCKET",
                    name="b",
                    tags={},
                    channels={
                        "101": {"DeviceChannel": 101, "Type": "TEMPT", "tags": {"sensor": "a", "unit": "DegC"}},
                        "x": {
                            "DeviceChannel": 103,
                            "Type": "TEMPT",
                            "tags": {"device": "a", "sensor": "a", "unit": "DegC"},
                        },
                    },
                ),
            ],
            "[1].Channels.x",
            "channel '101' of device 'a'",
        ),
        (  # a field-key equal to a status channel's extra field
            [
                smc_device(
                    "/dev/ttyUSB0",
                    DeviceSpecificParams={"Protocol": "modbus"},
                    channels={"s": STATUS, "r": {"Type": "PV1", "field-key": "x_run"}},
                    tags={},
                )
            ],
            "[0].Channels.r",
            "channel 's'",
        ),
        (  # ... and PurpleAir's A/B agreement's _ok
            [
                {
                    "Device": "air",
                    "Model": "PurpleAir",
                    "PurpleAirAPIKey": "k",
                    "Channels": {
                        "d": {"PurpleAirSensorIndex": 1, "Type": "pm2.5_ab_difference", "field-key": "x"},
                        "o": {"PurpleAirSensorIndex": 1, "Type": "humidity", "field-key": "x_ok"},
                    },
                }
            ],
            "[0].Channels.o",
            "channel 'd'",
        ),
    ],
    ids=["device tag", "status extra", "derived extra"],
)
def test_two_channels_writing_one_series_are_refused_extras_and_all(tmp_path, entries, path, other) -> None:
    (problem,) = problems(tmp_path, entries)
    assert f": {path}: writes the same field" in problem and f"with the same tags as {other}" in problem


def test_the_fields_a_family_declares_are_the_fields_it_writes() -> None:
    run = subprocess.run(
        executable("telegraf-lab") + ["run", "--config", str(ROOT / "devices.example.json"), "--simulate", "--once"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    lab = registry.load(ROOT / "devices.example.json", simulate=True, environ={})
    declared: dict[str, set[str]] = {}
    for group in lab.groups:
        for device in group.devices:
            for _, names in group.driver.fields(device):
                declared.setdefault(device.name, set()).update(names)
    lines = parse_lines(run.stdout)
    for line in lines:
        assert set(line["fields"]) <= declared[line["tags"]["device"]], line
    # every device of the example, of every family, read from its simulator in one telegraf-lab run
    assert {line["tags"]["device"] for line in lines} == {d.name for d in lab.devices}
    assert {g.family.name for g in lab.groups} == {f.name for f in registry.families()}
    assert "E!" not in run.stderr and "W!" not in run.stderr, run.stderr


@pytest.mark.parametrize(
    "change,path,message",
    [
        ({"Deadline": int("9" * 400)}, "[0].Deadline", "expected a finite number"),
        ({"Channels": {"1": {"DeviceChannel": "1" + "0" * 5000, "Type": "DCV"}}}, "[0].Channels.1.DeviceChannel",
         "expected a whole number"),
        ({"Timeout": "1" + "0" * 5000}, "[0].Timeout", "expected a number, found a string"),
        ({"tags": {"x": "a"}, "_nest": "NEST"}, "(top level)", "nested deeper than 32 levels"),
        ({"Channels": {"1": {"DeviceChannel": "10²", "Type": "DCV"}}}, "[0].Channels.1.DeviceChannel", "whole number"),
        (
            {"Channels": {"1": {"DeviceChannel": 101, "Type": "DCV", "Converter": {"Type": "polynomial",
                                                                                  "Coefficients": {"²": 1}}}}},
            '[0].Channels.1.Converter.Coefficients["²"]',
            "coefficient keys are exponents",
        ),
        ({"Channels": {"1": {"DeviceChannel": 101, "Type": "DCV", "Multiplier": 1e400}}},
         "[0].Channels.1.Multiplier", "expected a finite number"),
    ],
    ids=["400 digits", "5000-digit integer", "5000 digits", "100000 brackets", "non-ASCII digit", "non-ASCII exponent",
         "1e400"],
)  # fmt: skip
def test_numbers_and_shapes_that_crashed_are_clear_errors(tmp_path: Path, change, path, message) -> None:
    entry = daq_device("TCPIP0::127.0.0.1::5025::SOCKET")
    entry.update(change)
    text = json.dumps([entry])
    if "NEST" in text:
        text = text.replace('"NEST"', "[" * 100_000 + "]" * 100_000)
    if "1e400" not in text and "Infinity" in text:
        text = text.replace("Infinity", "1e400")
    file = tmp_path / "devices.json"
    file.write_text(text)
    result = check(file)
    assert result.returncode == 2, result.stderr
    assert f"{file}: {path}: " in result.stderr and message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_a_byte_order_mark_and_comments_inside_tags_are_fine(tmp_path: Path) -> None:
    entry = daq_device("TCPIP0::127.0.0.1::5025::SOCKET", tags={"lab": "x", "_comment": "not a tag"})
    file = tmp_path / "devices.json"
    file.write_bytes(b"\xef\xbb\xbf" + json.dumps([entry]).encode())
    result = check(file)
    assert result.returncode == 0, result.stderr
    (device,) = registry.load(file, environ={}).devices
    assert dict(device.config.tags) == {"lab": "x"}


def test_an_unplugged_adapter_is_said_in_words() -> None:
    assert describe(serial.SerialException((5, "Input/output error"))) == "Input/output error (errno 5)"
    assert describe(serial.SerialException(5, "Input/output error")) == "Input/output error"
    assert describe(OSError(2, "No such file or directory", "/dev/ttyUSB0")) == (
        "No such file or directory: /dev/ttyUSB0"
    )


def test_a_log_line_is_one_bounded_line_with_control_characters_escaped() -> None:
    text = one_line("a\r\nb\x1b[31mc\x00" + "x" * 10_000)
    assert "\n" not in text and "\r" not in text and "\x1b" not in text and "\x00" not in text
    assert text.startswith("a\\nb\\x1b[31mc\\x00") and len(text) <= 4000
