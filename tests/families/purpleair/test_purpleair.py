"""telegraf-purpleair against the simulated API and LAN sensors on 127.0.0.1 (never the real API)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from telegraf_inputs.families.purpleair.driver import AQI_PM10, AQI_PM25, _rows, aqi, epa_pm25, lan_row
from telegraf_inputs.families.purpleair.simulator import PurpleAirSimulator
from tests.helpers import OLDER_FILE, ROOT, ExecdProcess, env_without, load_devices, parse_lines, run_once, write_config

KEY = "sim-key-3f9a1c77"
EXE = "telegraf-purpleair"


@pytest.fixture
def api() -> Iterator[PurpleAirSimulator]:
    sim = PurpleAirSimulator(api_key=KEY).start()
    for index in (108682, 2001, 2002):
        sim.add_sensor(index)
    yield sim
    sim.stop()


def device(sim: PurpleAirSimulator, channels: dict, **extra) -> dict:
    entry = {
        "Device": "outdoor",
        "Model": "PurpleAir",
        "PurpleAirAPIKey": "${PURPLEAIR_API_KEY}",
        "Timeout": 2,
        "measurement": "particlecounts",
        "DeviceSpecificParams": {"BaseURL": sim.base_url},
        "Channels": channels,
    }
    entry.update(extra)
    return entry


def env(**extra: str) -> dict[str, str]:
    return {**env_without("http_proxy", "HTTP_PROXY"), "PURPLEAIR_API_KEY": KEY, **extra}


def once(tmp_path: Path, entries: list[dict], *args: str):
    return run_once(["--config", str(write_config(tmp_path, entries)), *args], name=EXE, env=env())


# -- derived values ---------------------------------------------------------------------------------
def test_epa_correction_matches_the_published_equations() -> None:
    assert epa_pm25(10, 40) == pytest.approx(0.524 * 10 - 0.0862 * 40 + 5.75)  # Barkjohn et al. 2021
    assert epa_pm25(700, 50) == pytest.approx(2.966 + 0.69 * 700 + 8.84e-4 * 700**2)  # 2022 smoke fit
    weight = 0.0244 * 590 - 13.9  # between 570 and 611 the two are blended
    high, low = 2.966 + 0.69 * 590 + 8.84e-4 * 590**2, 0.524 * 590 - 0.0862 * 50 + 5.75
    assert epa_pm25(590, 50) == pytest.approx(weight * high + (1 - weight) * low)


@given(st.floats(0, 1500), st.floats(0, 1500), st.floats(0, 100))
def test_epa_correction_rises_with_concentration(x: float, y: float, rh: float) -> None:
    lo, hi = sorted((x, y))
    assert epa_pm25(lo, rh) <= epa_pm25(hi, rh) + 1e-9


@pytest.mark.parametrize(
    ("pm25", "index"),
    [
        (0, 0),
        (9.0, 50),
        (9.1, 51),
        (12.05, 56),
        (35.4, 100),
        (35.5, 101),
        (55.4, 150),
        (125.4, 200),
        (225.4, 300),
        (325.4, 500),
    ],
)
def test_aqi_pm25_uses_the_2024_breakpoints_and_truncates(pm25: float, index: int) -> None:
    assert aqi(pm25, AQI_PM25, 1) == index


@pytest.mark.parametrize(("pm10", "index"), [(54.9, 50), (55, 51), (154, 100), (254, 150), (424, 300), (604, 500)])
def test_aqi_pm10(pm10: float, index: int) -> None:
    assert aqi(pm10, AQI_PM10, 0) == index


@given(st.floats(0, 1000), st.floats(0, 1000))
def test_aqi_never_falls_as_concentration_rises(a: float, b: float) -> None:
    lo, hi = sorted((a, b))
    assert aqi(lo, AQI_PM25, 1) <= aqi(hi, AQI_PM25, 1)


# -- reply layouts ----------------------------------------------------------------------------------
def test_both_api_layouts_and_the_lan_json_parse() -> None:
    many = {
        "api_version": "V1.0.11-0.0.41",
        "time_stamp": 1667503589,
        "data_time_stamp": 1667503531,
        "fields": ["sensor_index", "name", "last_seen"],
        "data": [[131075, "Mariners Bluff", 1667503500]],
    }
    assert _rows(many, "x") == {131075: {"sensor_index": 131075, "name": "Mariners Bluff", "last_seen": 1667503500}}
    one = {
        "api_version": "V1.0.11-0.0.41",
        "time_stamp": 1667666223,
        "data_time_stamp": 1667666181,
        "sensor": {"sensor_index": 131075, "last_seen": 1667666162, "pm2.5_a": 0.0, "humidity": 33},
    }
    assert _rows(one, "x")[131075]["humidity"] == 33
    lan = lan_row(
        {
            "DateTime": "2022/11/05T16:36:02z",
            "current_temp_f": 69,
            "current_humidity": 33,
            "pressure": 1001.66,
            "pm2_5_cf_1": 4.0,
            "pm2_5_cf_1_b": 6.0,
            "p_0_3_um": 300.0,
        }
    )
    assert lan["pm2.5_cf_1"] == 5.0 and lan["pm2.5_cf_1_a"] == 4.0 and lan["pm2.5_cf_1_b"] == 6.0
    assert lan["0.3_um_count"] == 300.0 and lan["temperature"] == 69 and lan["humidity"] == 33
    assert lan["last_seen"] == 1667666162


# -- requests on the wire ---------------------------------------------------------------------------
def test_one_request_for_all_public_sensors_and_one_per_private_sensor(tmp_path: Path, api: PurpleAirSimulator) -> None:
    api.add_sensor(3003, read_key="PRIVATEKEY77")
    channels = {
        "a": {"PurpleAirSensorIndex": "108682", "field-key": "0.3_um_count", "tags": {"sensor": "a"}},
        "b": {"PurpleAirSensorIndex": 2001, "Type": "pm2.5_epa", "field-key": "pm25", "tags": {"sensor": "b"}},
        "c": {"PurpleAirSensorIndex": 2002, "Type": "humidity", "field-key": "rh", "tags": {"sensor": "c"}},
        "p": {
            "PurpleAirSensorIndex": 3003,
            "PurpleAirReadKey": "PRIVATEKEY77",
            "Type": "pm2.5_atm",
            "tags": {"sensor": "p"},
        },
    }
    before = time.time()
    result = once(tmp_path, [device(api, channels)], "-v")
    assert result.returncode == 0, result.stderr
    batch, private = api.requests
    assert batch.path == "/v1/sensors"
    assert batch.query == {
        "fields": "last_seen,0.3_um_count,pm2.5_cf_1_a,pm2.5_cf_1_b,humidity",
        "show_only": "108682,2001,2002",
    }
    assert private.path == "/v1/sensors/3003"
    assert private.query == {"fields": "last_seen,pm2.5_atm", "read_key": "PRIVATEKEY77"}
    assert batch.headers["x-api-key"] == private.headers["x-api-key"] == KEY
    lines = {line["tags"]["sensor"]: line for line in parse_lines(result.stdout)}
    assert set(lines) == {"a", "b", "c", "p"}
    assert lines["c"]["fields"] == {"rh": 40.0}
    sim_b = api.sensors[2001].values(time.time())
    assert lines["b"]["fields"]["pm25"] == pytest.approx(
        epa_pm25((sim_b["pm2.5_cf_1_a"] + sim_b["pm2.5_cf_1_b"]) / 2, 40), abs=0.2
    )
    # stamped with the sensor's own last_seen (whole seconds, a minute before the request), not the request time
    assert all(line["time"] % 1_000_000_000 == 0 and line["time"] < (before - 30) * 1e9 for line in lines.values())
    assert "17 sensor-fields per gather" in result.stderr  # 5 fields x 3 sensors, and 2 for the private one
    assert KEY not in result.stdout + result.stderr and "PRIVATEKEY77" not in result.stdout + result.stderr


def test_lan_sensor_is_read_directly_without_a_key(tmp_path: Path, api: PurpleAirSimulator) -> None:
    channels = {
        "pa": {"Type": "pm2.5_atm_a", "field-key": "pm25_a"},
        "pb": {"Type": "pm2.5_atm_b", "field-key": "pm25_b"},
        "t": {"Type": "temperature", "field-key": "temperature_f"},
        "h": {"Type": "humidity", "field-key": "humidity"},
        "p": {"Type": "pressure", "field-key": "pressure"},
        "e": {"Type": "pm2.5_epa", "field-key": "pm25_epa"},
        "ab": {"Type": "pm2.5_ab_difference", "field-key": "ab"},
    }
    entry = device(api, channels, Address=api.lan_url(2001))
    del entry["PurpleAirAPIKey"]
    result = once(tmp_path, [entry])
    assert result.returncode == 0, result.stderr
    (request,) = api.requests
    assert request.path == "/lan/2001/json" and request.query == {"live": "true"} and "x-api-key" not in request.headers
    fields: dict = {}
    for line in parse_lines(result.stdout):
        fields.update(line["fields"])
    assert fields["pm25_b"] == pytest.approx(fields["pm25_a"] * 1.05, abs=0.02)
    assert fields["temperature_f"] == 72 and fields["humidity"] == 40 and fields["pressure"] == 1012.3
    assert fields["ab"] == pytest.approx(abs(fields["pm25_a"] - fields["pm25_b"]), abs=0.01)
    assert fields["ab_ok"] is True and 0 < fields["ab_percent"] < 10


# -- faults -----------------------------------------------------------------------------------------
def test_api_errors_name_the_error_and_never_show_the_key(tmp_path: Path, api: PurpleAirSimulator) -> None:
    entry = device(api, {"a": {"PurpleAirSensorIndex": 108682}})
    result = run_once(
        ["--config", str(write_config(tmp_path, [entry])), "-v"],
        name=EXE,
        env=env(PURPLEAIR_API_KEY="wrong-key-5550123"),
    )
    assert result.returncode == 1  # no channel could be read
    assert result.stdout == ""
    assert "HTTP 403 Forbidden: ApiKeyInvalidError: The provided api_key was not valid." in result.stderr
    assert "wrong-key-5550123" not in result.stderr


def test_a_failed_batch_loses_only_its_sensors(tmp_path: Path, api: PurpleAirSimulator) -> None:
    api.add_sensor(3003, read_key="K")
    api.faults.status, api.faults.status_count = 500, 1  # only the first request (the batch)
    channels = {
        "a": {"PurpleAirSensorIndex": 108682, "tags": {"sensor": "a"}},
        "p": {"PurpleAirSensorIndex": 3003, "PurpleAirReadKey": "K", "tags": {"sensor": "p"}},
    }
    result = once(tmp_path, [device(api, channels)])
    assert [line["tags"]["sensor"] for line in parse_lines(result.stdout)] == ["p"]
    assert "E! device 'outdoor' channel 'a': GET /sensors (1 sensor(s)): HTTP 500" in result.stderr
    assert "InternalServerError: simulated fault" in result.stderr


def test_a_request_that_spoils_every_channel_is_logged_once_for_the_device(
    tmp_path: Path, api: PurpleAirSimulator
) -> None:
    api.faults.status, api.faults.status_count = 500, 1
    channels = {k: {"PurpleAirSensorIndex": 108682, "Type": k, "field-key": k} for k in ("pm2.5_atm", "humidity")}
    result = once(tmp_path, [device(api, channels)])
    assert result.returncode == 1 and result.stdout == ""
    errors = [line for line in result.stderr.splitlines() if line.startswith("E! ")]
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith("E! device 'outdoor': GET /sensors (1 sensor(s)): HTTP 500")
    assert errors[0].endswith("; no channel emitted")


@pytest.mark.parametrize(
    ("setup", "message", "level"),
    [
        (lambda sim: setattr(sim.faults, "bad_json_next", True), "invalid JSON in the reply", "E!"),
        (lambda sim: setattr(sim.faults, "delay_s", 1.5), "timed out", "E!"),
        (lambda sim: setattr(sim.sensors[108682], "stale_s", 3600), "sensor 108682 is stale: last seen", "W!"),
        (lambda sim: sim.sensors.pop(108682), "sensor 108682 is not in the reply", "E!"),
    ],
)
def test_each_fault_is_a_clear_message_and_no_value(
    tmp_path: Path, api: PurpleAirSimulator, setup, message: str, level: str
) -> None:
    setup(api)
    entry = device(api, {"a": {"PurpleAirSensorIndex": 108682}}, Timeout=0.5)
    result = once(tmp_path, [entry])
    assert result.stdout == ""
    assert f"{level} device 'outdoor' channel 'a': " in result.stderr and message in result.stderr


def test_429_backs_off_instead_of_hammering_the_api(tmp_path: Path, api: PurpleAirSimulator) -> None:
    api.faults.status, api.faults.status_count, api.faults.retry_after = 429, 1, 120
    config = write_config(tmp_path, [device(api, {"a": {"PurpleAirSensorIndex": 108682}})])
    exe = ExecdProcess(["--config", str(config)], name=EXE, env=env())
    try:
        exe.trigger()
        line = exe.wait_stderr("HTTP 429")
        assert "RateLimitExceededError" in line and "no cloud requests for 120 s" in line
        for _ in range(3):
            exe.trigger()
        assert exe.no_more_lines(1.0) == []
        assert len(api.requests) == 1  # the later gathers sent nothing
    finally:
        exe.kill()


def test_empty_key_is_an_error_without_a_request(tmp_path: Path, api: PurpleAirSimulator) -> None:
    entry = device(api, {"a": {"PurpleAirSensorIndex": 108682}}, PurpleAirAPIKey="")
    result = once(tmp_path, [entry])
    assert result.returncode == 1 and "PurpleAirAPIKey is empty" in result.stderr
    assert api.requests == []


# -- config -----------------------------------------------------------------------------------------
def test_older_logger_entry_loads_unchanged_and_reads_the_03um_count(tmp_path: Path, api: PurpleAirSimulator) -> None:
    (dev,) = load_devices("purpleair", OLDER_FILE, None)
    (ch,) = dev.channels  # type: ignore[attr-defined]
    assert ch.sensor == 108682 and ch.type == "0.3_um_count" and ch.config.field_key == "0.3_um_count"
    entries = json.loads(OLDER_FILE.read_text())
    (pa,) = [e for e in entries if e["Model"] == "PurpleAir"]
    pa["PurpleAirAPIKey"] = "${PURPLEAIR_API_KEY}"
    pa["DeviceSpecificParams"] = {"BaseURL": api.base_url}  # instead of api.purpleair.com
    result = once(tmp_path, entries)
    assert result.returncode == 0, result.stderr
    (line,) = parse_lines(result.stdout)
    assert line["measurement"] == "particlecounts"
    assert line["tags"] == {"device": "PurpleAir", "sensor": "Gnome Tractor Garden (outside)", "unit": "particles/dl"}
    assert set(line["fields"]) == {"0.3_um_count"}


def test_simulate_flag_needs_no_network() -> None:
    example = ROOT / "devices.example.json"
    result = run_once(
        ["--config", str(example), "--simulate"], name=EXE, env=env(PURPLEAIR_READ_KEY="unused-in-simulation")
    )
    assert result.returncode == 0, result.stderr
    assert {line["tags"]["device"] for line in parse_lines(result.stdout)} == {"PurpleAir outdoor", "PurpleAir lab"}
