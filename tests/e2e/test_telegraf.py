"""End to end through the real Telegraf: [[inputs.execd]] runs our executable.

Telegraf comes from $TELEGRAF_BIN, .telegraf/bin/telegraf (scripts/build-telegraf)
or a `telegraf` on PATH.  Without one these tests are skipped, unless
REQUIRE_TELEGRAF=1 (CI), where a missing Telegraf fails them.
"""

from __future__ import annotations

import gzip
import http.server
import json
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from line_protocol_parser import parse_line

from telegraf_inputs.families.daq970a.simulator import Daq970aSimulator
from telegraf_inputs.families.smc_hrs.simulator import HrsSimulator
from tests.helpers import ROOT, daq_device, executable, smc_device, write_config

TOKEN = "test-token-123"
EXECUTABLES = ("telegraf-daq970a", "telegraf-smc-hrs", "telegraf-purpleair")


# -- a receiver implementing InfluxDB 2.x's POST /api/v2/write -----------------------------------
class WriteReceiver:
    """Accepts line protocol like InfluxDB 2.x: token auth, org, bucket, precision, gzip."""

    def __init__(self, token: str = TOKEN, org: str = "lab", bucket: str = "lab") -> None:
        self.token, self.org, self.bucket = token, org, bucket
        self.lines: list[str] = []
        self.requests: list[dict] = []
        self.unavailable_until = 0.0
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _reply(self, code: int, body: dict | None = None) -> None:
                data = json.dumps(body).encode() if body else b""
                self.send_response(code)
                if data:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() != "chunked":
                    return self.rfile.read(int(self.headers.get("Content-Length", 0)))
                chunks = []
                while (size := int(self.rfile.readline().split(b";")[0], 16)) > 0:
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
                self.rfile.readline()  # the blank line after the last chunk
                return b"".join(chunks)

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                url = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                body = self._body()
                encoding = self.headers.get("Content-Encoding", "")
                receiver.requests.append(
                    {"path": url.path, "query": query, "encoding": encoding, "auth": self.headers.get("Authorization")}
                )
                if url.path != "/api/v2/write":
                    return self._reply(404, {"code": "not found", "message": "path not found"})
                if self.headers.get("Authorization") != f"Token {receiver.token}":
                    return self._reply(401, {"code": "unauthorized", "message": "unauthorized access"})
                if query.get("org") != receiver.org or query.get("bucket") != receiver.bucket:
                    return self._reply(404, {"code": "not found", "message": "bucket not found"})
                if time.monotonic() < receiver.unavailable_until:
                    return self._reply(503, {"code": "unavailable", "message": "service unavailable"})
                if encoding == "gzip":
                    body = gzip.decompress(body)
                if query.get("precision", "ns") != "ns":
                    return self._reply(400, {"code": "invalid", "message": "test receiver expects ns"})
                receiver.lines.extend(line for line in body.decode().splitlines() if line.strip())
                self._reply(204)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[WriteReceiver]:
    r = WriteReceiver()
    yield r
    r.stop()


# -- running Telegraf ----------------------------------------------------------------------------
def telegraf_conf(
    tmp_path: Path, command: list[str], *, signal_name: str = "STDIN", more: str = "", interval: str = "1s"
) -> Path:
    """A Telegraf config running ``command`` under execd into a file; ``more`` is added TOML."""
    out_file = tmp_path / "metrics.out"
    conf = tmp_path / "telegraf.conf"
    conf.write_text(f"""
[agent]
  interval = "{interval}"
  flush_interval = "1s"
  omit_hostname = true
  skip_processors_after_aggregators = false

[[inputs.execd]]
  command = {json.dumps(command)}
  signal = "{signal_name}"
  restart_delay = "1s"
  data_format = "influx"

[[outputs.file]]
  files = ["{out_file}"]
  data_format = "influx"
{more}
""")
    return conf


class Telegraf:
    def __init__(self, binary: str, conf: Path, env: dict[str, str] | None = None) -> None:
        self.log_path = conf.parent / "telegraf.log"
        self.out_path = conf.parent / "metrics.out"
        self.log_file = self.log_path.open("w")
        self.proc = subprocess.Popen(
            [binary, "--config", str(conf)],
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
        )

    def log(self) -> str:
        return self.log_path.read_text()

    def metrics(self) -> list[dict]:
        if not self.out_path.exists():
            return []
        return [parse_line(line) for line in self.out_path.read_text().splitlines() if line.strip()]

    def wait_for(self, predicate, timeout: float = 20, what: str = "condition") -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if predicate():
                return
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}\nTelegraf log:\n{self.log()}")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(30)
        self.log_file.close()
        return code


def children_running(marker: str) -> list[int]:
    """PIDs of processes whose command line contains ``marker``."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if marker in cmdline and int(entry.name) != os.getpid():
                pids.append(int(entry.name))
    return pids


@pytest.fixture
def daq_command(tmp_path: Path, sim: Daq970aSimulator) -> list[str]:
    config = write_config(tmp_path, [daq_device(sim.address, name="e2e")])
    return executable("telegraf-daq970a") + ["--config", str(config)]


def check_schema(metrics: list[dict]) -> None:
    assert metrics
    by_sensor = {m["tags"]["sensor"]: m for m in metrics}
    assert by_sensor["a"]["measurement"] == "temperature"
    assert by_sensor["a"]["tags"] == {"device": "e2e", "lab": "test", "sensor": "a", "unit": "DegC"}
    assert set(by_sensor["a"]["fields"]) == {"value"} and 15 < by_sensor["a"]["fields"]["value"] < 35
    assert by_sensor["b"]["tags"] == {"device": "e2e", "lab": "test", "sensor": "b"}
    assert set(by_sensor["b"]["fields"]) == {"voltage"}


def test_stdin_signal_timed_run(telegraf: str, tmp_path: Path, daq_command: list[str]) -> None:
    started = time.time_ns()
    tg = Telegraf(telegraf, telegraf_conf(tmp_path, daq_command))
    tg.wait_for(lambda: len(tg.metrics()) >= 6, what="three gathers")
    assert tg.stop() == 0
    metrics = tg.metrics()
    check_schema(metrics)
    # The timestamps are the plugin's (the scan's time): the two channels of a gather share one,
    # and Telegraf does not round them to its interval.
    times = sorted({m["time"] for m in metrics})
    assert len(metrics) == 2 * len(times)
    assert all(started < t < time.time_ns() for t in times)
    assert any(t % 1_000_000_000 for t in times)


def test_smc_chiller_through_telegraf(telegraf: str, tmp_path: Path) -> None:
    chiller = HrsSimulator(link=tmp_path / "ttyUSB-chiller").start()
    try:
        chiller.chillers[1].set_point = 17.5
        config = write_config(tmp_path, [smc_device(chiller.path, name="laser chiller")])
        command = executable("telegraf-smc-hrs") + ["--config", str(config)]
        tg = Telegraf(telegraf, telegraf_conf(tmp_path, command))
        tg.wait_for(lambda: len(tg.metrics()) >= 4, what="two gathers of the chiller")
        assert tg.stop() == 0
    finally:
        chiller.stop()
    metrics = tg.metrics()
    setpoints = [m for m in metrics if m["tags"]["sensor"] == "Setpoint"]
    assert setpoints and all(m["fields"] == {"value": 17.5} for m in setpoints)
    assert all(m["measurement"] == "temperature" and m["tags"]["device"] == "laser chiller" for m in metrics)
    assert children_running(str(tmp_path)) == []


def test_once_starts_and_stops_the_executables_cleanly(telegraf: str, tmp_path: Path) -> None:
    # execd is a service input: `telegraf --once` starts each executable and closes its stdin again
    # at once.  Telegraf counts a read of stdout or stderr cut short by the process's exit as an
    # error and then exits 1; before the executables ended their output first, about one stop in
    # eighteen failed that way, so the three are stopped ten times each.
    example = str(ROOT / "devices.example.json")
    commands = [executable(name) + ["--config", example, "--simulate"] for name in EXECUTABLES]
    keys = 'environment = ["PURPLEAIR_API_KEY=simulated", "PURPLEAIR_READ_KEY=simulated"]'
    more = "".join(f"\n[[inputs.execd]]\n  command = {json.dumps(c)}\n  {keys}\n" for c in commands[1:])
    conf = telegraf_conf(tmp_path, commands[0], more=more)
    for _ in range(10):
        result = subprocess.run([telegraf, "--config", str(conf), "--once"], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        assert "Loaded inputs: execd (3x)" in result.stderr
        assert result.stderr.count("Starting process") == 3 and result.stderr.count("shut down") == 3
        assert " E! " not in result.stderr and "exited" not in result.stderr, result.stderr
    assert children_running(example) == []


def test_signal_none_with_interval(telegraf: str, tmp_path: Path, sim: Daq970aSimulator) -> None:
    config = write_config(tmp_path, [daq_device(sim.address, name="e2e")])
    command = executable("telegraf-daq970a") + ["--config", str(config), "--interval", "0.3"]
    tg = Telegraf(telegraf, telegraf_conf(tmp_path, command, signal_name="none", interval="10s"))
    tg.wait_for(lambda: len({m["time"] for m in tg.metrics()}) >= 4, what="four self-timed gathers")
    tg.stop()
    check_schema(tg.metrics())


def test_signal_sigusr1(telegraf: str, tmp_path: Path, daq_command: list[str]) -> None:
    tg = Telegraf(telegraf, telegraf_conf(tmp_path, daq_command, signal_name="SIGUSR1"))
    tg.wait_for(lambda: len({m["time"] for m in tg.metrics()}) >= 2, what="two signalled gathers")
    tg.stop()
    check_schema(tg.metrics())


def test_shutdown_closes_stdin_and_the_executable_exits(telegraf: str, tmp_path: Path, daq_command: list[str]) -> None:
    tg = Telegraf(telegraf, telegraf_conf(tmp_path, daq_command))
    tg.wait_for(lambda: len(tg.metrics()) >= 2, what="a gather")
    assert children_running(str(tmp_path / "devices.json"))
    started = time.monotonic()
    assert tg.stop() == 0
    assert time.monotonic() - started < 5  # no 5 s SIGTERM wait: the executable left on EOF
    assert children_running(str(tmp_path / "devices.json")) == []
    log = tg.log()
    assert "shut down" in log and "exited" not in log


def test_killed_executable_is_restarted(telegraf: str, tmp_path: Path, daq_command: list[str]) -> None:
    tg = Telegraf(telegraf, telegraf_conf(tmp_path, daq_command))
    try:
        tg.wait_for(lambda: len(tg.metrics()) >= 2, what="a gather")
        (pid,) = children_running(str(tmp_path / "devices.json"))
        os.kill(pid, signal.SIGKILL)
        killed_at = time.time_ns()
        tg.wait_for(lambda: re.search(r"Process .* exited", tg.log()) is not None, what="the exit being noticed")
        tg.wait_for(lambda: any(m["time"] > killed_at for m in tg.metrics()), what="metrics after the restart")
        (new_pid,) = children_running(str(tmp_path / "devices.json"))
        assert new_pid != pid
    finally:
        tg.stop()


def test_warning_and_error_levels_reach_telegrafs_log(telegraf: str, tmp_path: Path, sim: Daq970aSimulator) -> None:
    sim.faults.overload = {101}
    config = write_config(
        tmp_path,
        [
            daq_device(sim.address, name="e2e"),
            daq_device("TCPIP0::127.0.0.1::1::SOCKET", name="absent"),
        ],
    )
    command = executable("telegraf-daq970a") + ["--config", str(config)]
    tg = Telegraf(telegraf, telegraf_conf(tmp_path, command))
    tg.wait_for(lambda: "device 'absent'" in tg.log() and "channel '101'" in tg.log(), what="both log lines")
    tg.stop()
    log = tg.log()
    assert re.search(r" W! \[inputs\.execd\] device 'e2e' channel '101': overload", log), log
    assert re.search(r" E! \[inputs\.execd\] device 'absent': ", log), log
    assert {m["tags"]["sensor"] for m in tg.metrics()} == {"b"}  # the healthy channel still arrives


def influx_output(url: str, token: str = TOKEN) -> str:
    return f"""
[[outputs.influxdb_v2]]
  urls = ["{url}"]
  token = "{token}"
  organization = "lab"
  bucket = "lab"
  content_encoding = "gzip"
"""


# The real InfluxDB (test_influxdb.py) covers what lands, a wrong token, an outage and the shipped
# example; this receiver stays for what only the wire shows: the path, the gzip encoding, org and bucket.
def test_into_influxdb_write_api(
    telegraf: str, tmp_path: Path, daq_command: list[str], receiver: WriteReceiver
) -> None:
    tg = Telegraf(telegraf, telegraf_conf(tmp_path, daq_command, more=influx_output(receiver.url)))
    tg.wait_for(lambda: len(receiver.lines) >= 4, what="points at the receiver")
    tg.stop()
    request = receiver.requests[0]
    assert request["path"] == "/api/v2/write" and request["encoding"] == "gzip"
    assert request["query"]["org"] == "lab" and request["query"]["bucket"] == "lab"
    check_schema([parse_line(line) for line in receiver.lines])
