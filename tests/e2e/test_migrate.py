"""telegraf-lab migrate: the older logger's config.ini becomes a Telegraf configuration that works as it is."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.e2e.test_influxdb import TOKEN, InfluxDB, influxdb  # noqa: F401 (the fixture)
from tests.helpers import OLDER_FILE, executable

SECRET = "the-old-influx-token-0123"


def older_logger(tmp_path: Path, devices: Path = OLDER_FILE, **changes: str) -> Path:
    """The older logger's folder: config.ini in conf/, the devices file beside it, as its example has them."""
    if devices.parent != tmp_path:
        shutil.copy(devices, tmp_path / devices.name)
    conf = tmp_path / "conf"
    conf.mkdir(exist_ok=True)
    settings = {"url": "http://127.0.0.1:8086", "org": "lab", "bucket": "lab", "interval": "10",
                "configpath": f"../{devices.name}", **changes}  # fmt: skip
    reader = f"configreader = {settings['configreader']}\n" if "configreader" in settings else ""
    (conf / "config.ini").write_text(
        f"[Database]\nurl = {settings['url']}\norg = {settings['org']}\nbucket = {settings['bucket']}\n"
        f"token = {SECRET}\n\n[Update]\ninterval = {settings['interval']}\n\n"
        f"[Devices]\nconfigpath = {settings['configpath']}\ntimeout = 5\n{reader}"
    )
    return conf / "config.ini"


def migrate(ini: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        executable("telegraf-lab") + ["migrate", str(ini)], capture_output=True, text=True, timeout=60
    )


def test_the_output_passes_telegrafs_config_check_and_keeps_the_token_out(telegraf: str, tmp_path: Path) -> None:
    result = migrate(older_logger(tmp_path))
    assert result.returncode == 0, result.stderr
    assert SECRET not in result.stdout and SECRET not in result.stderr
    assert "INFLUX_TOKEN" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    text = result.stdout
    assert 'interval = "10s"' in text and "omit_hostname = true" in text and 'token = "${INFLUX_TOKEN}"' in text
    assert f'"--config", {json.dumps(str((tmp_path / OLDER_FILE.name).resolve()))}]' in text  # absolute
    assert "##   Met One DR-528 handheld particle counter (Met One DR-528)" in text  # read: every model is supported
    assert "Not supported yet" not in text
    assert "metric_buffer_limit = 3169" in text  # 8 lines a gather, 360 gathers an hour, 10 % more (rounded up)
    conf = tmp_path / "telegraf.conf"
    conf.write_text(text)
    check = subprocess.run(
        [telegraf, "config", "check", "--config", str(conf)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "INFLUX_TOKEN": "x"},
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_running_it_writes_what_the_older_logger_wrote(telegraf: str, influxdb: InfluxDB, tmp_path: Path) -> None:  # noqa: F811
    text = migrate(older_logger(tmp_path, url=influxdb.url, interval="1")).stdout
    text = text.replace('"--config", ', '"--simulate", "--config", ')  # the simulators stand in for the lab
    conf = tmp_path / "telegraf.conf"
    conf.write_text(text)
    proc = subprocess.Popen(
        [telegraf, "--config", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "INFLUX_TOKEN": TOKEN},
    )
    try:
        time.sleep(6)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    landed = {(p["measurement"], tuple(sorted(p["tags"].items())), p["field"]) for p in influxdb.points()}
    entries = json.loads(OLDER_FILE.read_text())
    expected = set()
    for entry in entries:
        if entry["Model"].startswith("Met One"):
            continue  # not supported yet: skipped
        for channel in entry["Channels"].values():
            tags = {"device": entry["Device"], **entry.get("tags", {}), **channel.get("tags", {})}
            expected.add((entry["measurement"], tuple(sorted(tags.items())), channel.get("field-key", "value")))
    assert expected <= landed, expected - landed
    assert {m for m, _, _ in landed} == {e["measurement"] for e in entries if not e["Model"].startswith("Met One")}


@pytest.mark.parametrize(
    "case,message",
    [
        ("no ini", "cannot read the file"),
        ("no database", "[Database] has no 'url'"),
        ("no devices file", "[Devices] configpath: no devices file at"),
        ("configreader XML", "[Devices] configreader is 'XML'; the older logger reads JSON or YAML"),
        ("interval", "[Update] interval is not a number of seconds"),
    ],
)
def test_a_broken_ini_is_one_clear_message_and_exit_2(tmp_path: Path, case: str, message: str) -> None:
    ini = older_logger(tmp_path)
    if case == "no ini":
        ini = tmp_path / "absent.ini"
    elif case == "no database":
        ini.write_text(ini.read_text().replace("url = http://127.0.0.1:8086\n", ""))
    elif case == "no devices file":
        ini = older_logger(tmp_path, configpath="../missing.json")
    elif case == "configreader XML":
        ini = older_logger(tmp_path, configreader="XML")
    else:
        ini = older_logger(tmp_path, interval="often")
    result = migrate(ini)
    assert result.returncode == 2 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("E! ") and message in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def test_a_yaml_devices_file_is_taken_with_configreader_yaml(tmp_path: Path) -> None:
    yaml_file = tmp_path / "devices.yaml"
    yaml_file.write_text("- Device: d\n  Model: Keysight DAQ970A\n  Address: TCPIP0::h::5025::SOCKET\n"
                         "  Channels: {'101': {DeviceChannel: 101, Type: DCV}}\n")  # fmt: skip
    result = migrate(older_logger(tmp_path, devices=yaml_file, configreader="YAML"))
    assert result.returncode == 0, result.stderr
    assert "##   d (Keysight DAQ970A)" in result.stdout
