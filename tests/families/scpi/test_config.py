"""Mistakes in a SCPI device entry stop start-up with the file, the JSON path and what is wrong."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.helpers import run_once, write_config


def entry(channel: dict[str, Any] | None = None, **device: Any) -> dict[str, Any]:
    return {
        "Device": "meter",
        "Model": "Generic SCPI",
        "Address": "TCPIP0::127.0.0.1::5025::SOCKET",
        "Channels": {"v": channel if channel is not None else {"Query": "MEAS:VOLT?"}},
        **device,
    }


@pytest.mark.parametrize(
    ("device", "where", "message"),
    [
        (entry({"Query": "STAT?", "Regex": "T=[0-9.]+"}), "[0].Channels.v.Regex",
         'the Regex needs a group, ( ), around the value'),
        (entry({"Query": "STAT?", "Regex": "T=(["}), "[0].Channels.v.Regex", "not a valid regular expression"),
        (entry({"Query": "STAT?", "Regex": "(x)", "Index": 1}), "[0].Channels.v.Index",
         "give Regex or Index, not both"),
        (entry({"Query": "STAT?", "Separator": ";"}), "[0].Channels.v.Separator", "Separator is used with Index only"),
        (entry({"Query": "STAT?", "Index": 0, "Separator": ""}), "[0].Channels.v.Separator", "must not be empty"),
        (entry({"Query": "STAT?", "Index": -1}), "[0].Channels.v.Index", "outside the allowed range 0..9999"),
        (entry({"Query": "STAT?", "TrueReply": "ON"}), "[0].Channels.v.TrueReply",
         'TrueReply is for FieldType "boolean" only'),
        (entry({"Query": "STAT?", "FieldType": "boolean", "TrueReply": "ON", "FalseReply": ["on", "OFF"]}),
         "[0].Channels.v.FalseReply", "ON is both a TrueReply and a FalseReply"),
        (entry({"Query": "STAT?", "FieldType": "string", "Multiplier": 2}), "[0].Channels.v.Multiplier",
         'Multiplier needs a number: use FieldType "float"'),
        (entry({"Query": "STAT?", "FieldType": "double"}), "[0].Channels.v.FieldType",
         "'double' is not allowed; use one of: float, integer, boolean, string"),
        (entry({"Query": "  "}), "[0].Channels.v.Query", "must not be empty"),
        (entry({"Regex": "(x)"}), "[0].Channels.v", "required key 'Query' is missing"),
        (entry({"Query": "X?", "Type": "DCV"}), "[0].Channels.v.Type", "a SCPI channel has no Type"),
        (entry(SerialConnectionParams={"baudrate": 9600}), "[0].SerialConnectionParams",
         "SerialConnectionParams is for serial (ASRL...) resources only"),
        (entry(Address="ASRL/dev/ttyUSB0::INSTR", SerialConnectionParams={"parity": "X"}),
         "[0].SerialConnectionParams.parity", "'X' is not allowed"),
        (entry(Address="192.168.1.5:5025"), "[0].Address", "is not a VISA instrument resource"),
        (entry(DeviceSpecificParams={"ReadTermination": ""}), "[0].DeviceSpecificParams.ReadTermination",
         "expected 1 to 4 ASCII characters"),
        (entry(DeviceSpecificParams={"QueryDelay": -1}), "[0].DeviceSpecificParams.QueryDelay",
         "below the minimum 0"),
        (entry(DeviceSpecificParams={"JoinQueries": "yes"}), "[0].DeviceSpecificParams.JoinQueries",
         "expected true or false"),
    ],
)  # fmt: skip
def test_config_errors_name_file_path_and_problem(tmp_path: Path, device: dict, where: str, message: str) -> None:
    config = write_config(tmp_path, [device])
    result = run_once(["--config", str(config)], name="telegraf-scpi")
    assert result.returncode == 2
    assert f"E! configuration error: {config}: {where}: " in result.stderr, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_devices_sharing_an_address_need_one_setting(tmp_path: Path) -> None:
    first = entry()
    second = {**entry(Address="tcpip::127.0.0.1::5025::socket", DeviceSpecificParams={"ReadTermination": "\r\n"}),
              "Device": "meter 2"}  # fmt: skip
    config = write_config(tmp_path, [first, second])
    result = run_once(["--config", str(config)], name="telegraf-scpi")
    assert result.returncode == 2
    assert f"{config}: [1].Address: shares 'TCPIP0::127.0.0.1::5025::SOCKET' with device 'meter'" in result.stderr


def test_escaped_terminations_mean_the_characters(tmp_path: Path) -> None:
    from telegraf_inputs.registry import family_named
    from tests.helpers import load_devices

    config = write_config(
        tmp_path, [entry(DeviceSpecificParams={"ReadTermination": "\\r\\n", "WriteTermination": "\r"})]
    )
    (device,) = load_devices("scpi", config)
    assert (device.read_termination, device.write_termination) == ("\r\n", "\r")
    assert family_named("scpi") is not None
