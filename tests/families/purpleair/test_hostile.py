"""A hostile or careless HTTP side: secrets stay secret, replies are bounded, bad values fail alone."""

from __future__ import annotations

import http.server
import math
import threading
import time
from collections.abc import Iterator
from email.utils import formatdate
from pathlib import Path

import pytest

from telegraf_inputs.families.purpleair.simulator import PurpleAirSimulator
from telegraf_inputs.http_client import MAX_BODY, retry_after_seconds
from tests.helpers import ExecdProcess, env_without, parse_lines, peak_rss_kib, run_once, write_config

KEY = "hostile-test-key-0123"
READ_KEY = "private-read-key-4567"
EXE = "telegraf-purpleair"


@pytest.fixture
def api() -> Iterator[PurpleAirSimulator]:
    sim = PurpleAirSimulator(api_key=KEY).start()
    for index in (101, 102):
        sim.add_sensor(index)
    sim.add_sensor(103, read_key=READ_KEY)
    yield sim
    sim.stop()


def entry(base_url: str, channels: dict | None = None, **extra) -> dict:
    return {
        "Device": "air",
        "Model": "PurpleAir",
        "PurpleAirAPIKey": "${PURPLEAIR_API_KEY}",
        "Timeout": 2,
        "DeviceSpecificParams": {"BaseURL": base_url},
        "Channels": channels
        or {
            "a": {"PurpleAirSensorIndex": 101, "Type": "humidity", "field-key": "rh"},
            "b": {"PurpleAirSensorIndex": 102, "Type": "humidity", "field-key": "rh", "tags": {"sensor": "b"}},
            "p": {
                "PurpleAirSensorIndex": 103,
                "PurpleAirReadKey": "${PURPLEAIR_READ_KEY}",
                "Type": "humidity",
                "tags": {"sensor": "private"},
            },
        },
        **extra,
    }


def env(key: str = KEY, read_key: str = READ_KEY) -> dict[str, str]:
    return {**env_without("http_proxy", "HTTP_PROXY"), "PURPLEAIR_API_KEY": key, "PURPLEAIR_READ_KEY": read_key}


def once(tmp_path: Path, entries: list[dict], environ: dict[str, str] | None = None):
    return run_once(["--config", str(write_config(tmp_path, entries))], name=EXE, env=environ or env(), timeout=60)


def assert_no_secret(text: str) -> None:
    assert KEY not in text and READ_KEY not in text, text


# -- secrets -------------------------------------------------------------------------------------------
def test_a_key_with_a_crlf_line_end_is_stripped_warned_about_and_never_shown(tmp_path: Path, api) -> None:
    result = once(tmp_path, [entry(api.base_url)], env(key=KEY + "\r\n", read_key=READ_KEY + "\n"))
    assert result.returncode == 0, result.stderr
    assert len(parse_lines(result.stdout)) == 3  # the device is read, the private sensor too
    warnings = [line for line in result.stderr.splitlines() if line.startswith("W! ") and "white space" in line]
    assert len(warnings) == 2 and "PurpleAirAPIKey" in warnings[0] and "PurpleAirReadKey" in warnings[1]
    assert_no_secret(result.stderr)
    assert {r.headers["x-api-key"] for r in api.requests} == {KEY}


def test_a_key_a_header_cannot_carry_is_a_config_error_that_does_not_show_it(tmp_path: Path, api) -> None:
    result = once(tmp_path, [entry(api.base_url)], env(key="hostile-test\x07key"))
    assert result.returncode == 2
    assert "[0].PurpleAirAPIKey: contains a character that an HTTP header cannot carry" in result.stderr
    assert "hostile-test" not in result.stderr and api.requests == []


class Recorder(http.server.ThreadingHTTPServer):
    """Another origin: records what reaches it."""

    def __init__(self) -> None:
        self.seen: list[dict[str, str]] = []
        recorder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                recorder.seen.append({"path": self.path, **{k.lower(): v for k, v in self.headers.items()}})
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True).start()


def test_a_redirect_to_another_origin_is_not_followed_and_the_key_stays_home(tmp_path: Path, api) -> None:
    other = Recorder()
    try:
        api.faults.redirect_to = f"http://127.0.0.1:{other.server_address[1]}/v1"
        result = once(tmp_path, [entry(api.base_url)])
    finally:
        other.shutdown()
        other.server_close()
    assert result.returncode == 1 and result.stdout == ""
    assert other.seen == []  # neither the key nor the read key (in the URL) went there
    assert "HTTP 302 redirect to another origin (http://127.0.0.1:" in result.stderr
    assert "not followed, so that the key is not sent there" in result.stderr
    assert_no_secret(result.stderr)


def test_redirects_on_the_origin_are_followed_a_few_times_only(tmp_path: Path, api) -> None:
    api.faults.redirect_to = api.base_url  # to itself, without end
    result = once(tmp_path, [entry(api.base_url)])
    assert result.returncode == 1
    assert "more than 3 redirects" in result.stderr
    assert len(api.requests) == 0 or all(r.headers.get("x-api-key") == KEY for r in api.requests)


@pytest.mark.parametrize(
    "base_url,message",
    [
        ("api.purpleair.com/v1", "must be an http:// or https:// URL with a host"),
        ("https://api.purpleair.com/v1\t", "contains white space or a control character"),
        ("https://api .purpleair.com/v1", "contains white space or a control character"),
        ("ftp://api.purpleair.com/v1", "must be an http:// or https:// URL with a host"),
    ],
)
def test_a_malformed_base_url_is_a_config_error(tmp_path: Path, base_url: str, message: str) -> None:
    result = once(tmp_path, [entry(base_url)])
    assert result.returncode == 2
    assert f"[0].DeviceSpecificParams.BaseURL: {message}" in result.stderr
    assert_no_secret(result.stderr)


def test_no_error_message_shows_a_key_whatever_the_failure(tmp_path: Path) -> None:
    # nothing listens there: the request fails in the connection, whose error text names the URL
    result = once(tmp_path, [entry("http://127.0.0.1:9/v1")])
    assert result.returncode == 1
    assert "E! " in result.stderr and "Connection refused" in result.stderr
    assert_no_secret(result.stderr)


def test_plain_http_with_a_key_is_warned_about_once_at_start_up(tmp_path: Path, api) -> None:
    result = once(tmp_path, [entry(api.base_url)])
    warnings = [line for line in result.stderr.splitlines() if "plain http" in line]
    assert len(warnings) == 1 and warnings[0].startswith("W! ")
    lan = once(tmp_path, [{**entry(api.base_url), "Address": api.lan_url(101), "Channels": {"x": {}}}])
    assert "plain http" not in lan.stderr  # a LAN sensor takes no key


# -- bounded replies -----------------------------------------------------------------------------------
def test_an_endless_body_is_cut_off_and_memory_stays_small(tmp_path: Path, api) -> None:
    api.faults.endless_next = True
    config = write_config(tmp_path, [entry(api.base_url)])
    proc = ExecdProcess(["--config", str(config)], name=EXE, env=env())
    try:
        proc.trigger()
        error = proc.wait_stderr("E! device 'air'", timeout=20)
        assert f"longer than {MAX_BODY} bytes" in error or "not complete within the timeout" in error
        assert peak_rss_kib(proc.proc.pid) < 150_000  # 2.6 GB in 6 s before
        proc.trigger()
        assert len(proc.read_lines(3, timeout=10)) == 3  # and the next gather reads again
    finally:
        proc.close_stdin()
        proc.kill()


def test_a_drip_fed_body_ends_at_the_timeout(tmp_path: Path, api) -> None:
    api.faults.drip_next = 0.2
    started = time.monotonic()
    result = once(tmp_path, [entry(api.base_url)])
    assert time.monotonic() - started < 8  # Timeout 2 s, not len(body) * 0.2 s
    assert "not complete within the timeout of 2 s" in result.stderr
    assert result.stdout.count("\n") == 1  # the private sensor's own request still went out


def test_an_oversized_error_text_becomes_one_short_escaped_line(tmp_path: Path, api) -> None:
    api.faults.status, api.faults.status_count, api.faults.error_text_size = 500, 5, 200_000
    result = once(tmp_path, [entry(api.base_url)])
    lines = result.stderr.splitlines()
    assert any("HTTP 500" in line for line in lines)
    assert max(len(line.encode()) for line in lines) <= 4100
    assert "\x1b" not in result.stderr


# -- a request that fails, values that are not readings -------------------------------------------------
def test_a_cut_short_reply_loses_only_the_sensors_of_that_request(tmp_path: Path, api) -> None:
    api.faults.cut_short_path = "/v1/sensors/103"  # the private sensor's own request
    result = once(tmp_path, [entry(api.base_url)])
    assert {line["tags"].get("sensor") for line in parse_lines(result.stdout)} == {None, "b"}
    assert "GET /sensors/103: reply cut short" in result.stderr


@pytest.mark.parametrize(
    "values,problem",
    [
        ({"last_seen": 1e30}, "last_seen 1e+30 is not a time"),
        ({"last_seen": math.nan}, "last_seen nan is not a time"),
        ({"humidity": 2**70}, f"humidity {2**70} is not a reading"),
        ({"humidity": math.inf}, "humidity inf is not a reading"),
    ],
)
def test_values_that_do_not_fit_line_protocol_fail_their_channel_only(
    tmp_path: Path, api, values: dict, problem: str
) -> None:
    api.faults.values = values
    channels = {
        "rh": {"PurpleAirSensorIndex": 101, "Type": "humidity", "field-key": "rh"},
        "t": {"PurpleAirSensorIndex": 101, "Type": "temperature", "field-key": "t"},
    }
    result = once(tmp_path, [entry(api.base_url, channels)])
    lines = parse_lines(result.stdout)  # every line is valid line protocol
    assert problem in result.stderr
    if "last_seen" in values:
        assert lines == []
    else:
        assert [list(line["fields"]) for line in lines] == [["t"]]  # the sensor's other channel goes out


def test_retry_after_is_read_in_both_forms_of_the_standard() -> None:
    assert retry_after_seconds("120") == 120
    now = time.time()
    assert retry_after_seconds(formatdate(now + 300, usegmt=True), now) == pytest.approx(300, abs=1)
    assert retry_after_seconds(formatdate(now - 300, usegmt=True), now) == 0
    assert retry_after_seconds("soon") is None and retry_after_seconds("-5") is None


@pytest.mark.parametrize("retry_after,backoff", [("date", "300 s"), ("soon", "60 s")])
def test_429_backs_off_whatever_retry_after_says(tmp_path: Path, api, retry_after: str, backoff: str) -> None:
    api.faults.status, api.faults.status_count = 429, 1
    api.faults.retry_after = formatdate(time.time() + 300, usegmt=True) if retry_after == "date" else "soon"  # type: ignore[assignment]
    config = write_config(tmp_path, [entry(api.base_url, {"a": {"PurpleAirSensorIndex": 101}})])
    proc = ExecdProcess(["--config", str(config)], name=EXE, env=env())
    try:
        proc.trigger()
        line = proc.wait_stderr("HTTP 429")
        assert f"no cloud requests for {backoff}" in line or f"no cloud requests for {int(backoff[:-2]) - 1} s" in line
        sent = len(api.requests)
        for _ in range(5):
            proc.trigger()
            time.sleep(0.1)
        assert len(api.requests) == sent  # backing off: nothing sent
    finally:
        proc.close_stdin()
        proc.kill()
