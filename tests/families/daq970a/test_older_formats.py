"""The older logger's DAQ files of 2022 and 2025 load as it read them (device-level NPLC, both Timeout units)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from telegraf_inputs.config import ConfigError
from telegraf_inputs.families.daq970a.driver import channel_commands
from tests.helpers import executable, load_devices, write_config

CHANNELS = {
    "101": {"DeviceChannel": 101, "Type": "DCV", "field-key": "voltage", "tags": {"sensor": "a"}},
    "102": {"DeviceChannel": 102, "Type": "DCV", "DeviceSpecificParams": {"NPLC": 1}, "tags": {"sensor": "b"}},
    "103": {"DeviceChannel": 103, "Type": "ACV", "tags": {"sensor": "c"}},
}


def entry(**keys) -> dict:
    return {
        "Device": "daq",
        "Model": "Keysight DAQ973A",
        "Address": "TCPIP0::192.0.2.10::5025::SOCKET",
        "tags": {},
        "measurement": "voltage",
        "Channels": CHANNELS,
        **keys,
    }


@pytest.mark.parametrize(
    "keys",
    [{"NPLC": 10, "Timeout": 60000}, {"DeviceSpecificParams": {"NPLC": 10}, "Timeout": 60000}],
    ids=["May 2022: device-level NPLC", "June 2022: DeviceSpecificParams.NPLC"],
)
def test_a_device_level_nplc_applies_to_every_dc_voltage_channel_that_sets_none(tmp_path: Path, keys) -> None:
    (device,) = load_devices("daq970a", write_config(tmp_path, [entry(**keys)]))
    a, b, c = (channel_commands(ch) for ch in device.channels)
    assert a == ["CONF:VOLT:DC (@101)", "VOLT:DC:NPLC 10,(@101)"]
    assert b == ["CONF:VOLT:DC (@102)", "VOLT:DC:NPLC 1,(@102)"]  # the channel's own setting wins
    assert c == ["CONF:VOLT:AC (@103)"]  # not a DC voltage channel
    assert device.timeout_ms == 60000  # 2022: milliseconds


@pytest.mark.parametrize(
    "keys,path",
    [
        ({"NPLC": 10, "DeviceSpecificParams": {"NPLC": 10}}, "[0].NPLC"),
        ({"NPLC": 10, "AveragingTime": 0.1}, "[0].NPLC"),
    ],
)
def test_two_device_level_integration_times_are_refused(tmp_path: Path, keys, path: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_devices("daq970a", write_config(tmp_path, [entry(**keys)]))
    assert f": {path}: give NPLC" in str(info.value)


@pytest.mark.parametrize("timeout,ms", [(20, 20000), (2.5, 2500), (60000, 60000), (5000, 5000), (500, 500)])
def test_timeout_of_either_era_is_read_in_its_unit(tmp_path: Path, timeout: float, ms: int) -> None:
    (device,) = load_devices("daq970a", write_config(tmp_path, [entry(Timeout=timeout)]))
    assert device.timeout_ms == ms


def test_what_was_understood_of_timeout_is_said_at_verbose(tmp_path: Path) -> None:
    config = write_config(tmp_path, [entry(Timeout=20)])
    run = subprocess.run(
        executable("telegraf-lab") + ["run", "--config", str(config), "--simulate", "--once", "-v"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert "D! device 'daq': Timeout 20 read as 20 s (below 100: seconds)" in run.stderr
