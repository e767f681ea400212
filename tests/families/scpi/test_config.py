"""Mistakes in a SCPI device entry stop start-up with the file, the JSON path and what is wrong."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.helpers import run_once, write_config


def entry(channel: dict[str, Any] | None = None, **device: Any) -> dict[str, Any]:
    return {
        "Device": "meter",
        "Model": "Generic SCPI",
        "Address": "TCPIP0::127.0.0.1::5025::SOCKET",
        "Channels": {"v": channel if channel is not None else {"Query": "MEAS:VOLT?"}},
        **device,
    }


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
