"""The benchmarks' plumbing: the simulator process, executables run as Telegraf runs them, /proc readings,
tables and checks.  Every part (run.py, native.py) measures with these."""

from __future__ import annotations

import json
import os
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TOKEN = "bench-token"
API_KEY = "bench-key"
DAQ, SMC, PA, LAB = "telegraf-daq970a", "telegraf-smc-hrs", "telegraf-purpleair", "telegraf-lab"
SCPI = "telegraf-scpi"
SLOTS_OF_40 = {"1": "DAQM908A", "2": "DAQM908A", "3": "DAQM908A"}
CHANNELS_120 = [*range(101, 141), *range(201, 241), *range(301, 341)]


# --------------------------------------------------------------------------- plumbing


class Rig:
    """The simulator process (rig.py), called by operation name."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "rig.py")], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        self.lock = threading.Lock()

    def __call__(self, op: str, **kw: Any) -> Any:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        with self.lock:
            self.proc.stdin.write(json.dumps({"op": op, **kw}) + "\n")
            self.proc.stdin.flush()
            reply = json.loads(self.proc.stdout.readline() or '{"error": "the rig exited"}')
        if "error" in reply:
            raise RuntimeError(reply["error"])
        return reply["ok"]

    def stop(self) -> None:
        try:
            self("stop")
        finally:
            self.proc.wait(10)


def executable(name: str) -> str:
    path = Path(sys.executable).parent / name
    found = str(path) if path.exists() else shutil.which(name)
    if not found:
        raise SystemExit(f"{name} is not installed; run: pip install -e '.[test]'")
    return found


CONFIGS = tempfile.TemporaryDirectory(prefix="bench-configs-")  # removed at exit


def write_config(devices: list[dict[str, Any]]) -> str:
    handle, path = tempfile.mkstemp(prefix="devices-", suffix=".json", dir=CONFIGS.name)
    with os.fdopen(handle, "w") as f:
        json.dump(devices, f, indent=1)
    return path


def task_cpu_ns(pid: int) -> int:
    """Run time of every live thread of ``pid``, in nanoseconds."""
    total = 0
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return 0
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            pass  # the thread just ended
    return total


def process_cpu_s(pid: int) -> float:
    """utime + stime of ``pid`` (every thread, ended ones included), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def status_kib(pid: int, key: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise KeyError(key)


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


@dataclass
class Gather:
    wall_s: float
    cpu_s: float
    lines: list[str]
    started_ns: int  # time.time_ns() at the trigger
    ended_ns: int


class Execd:
    """An executable in execd mode, triggered and read as Telegraf does it."""

    def __init__(self, name: str, config: str, *extra: str, env: dict[str, str] | None = None) -> None:
        subcommand = ["run"] if name == LAB else []  # telegraf-lab run; the per-family commands have no subcommand
        self.proc = subprocess.Popen(
            [executable(name), *subcommand, "--config", config, *extra],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            bufsize=0,
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.pid = self.proc.pid
        self.stdin = self.proc.stdin
        self.out = self.proc.stdout.fileno()
        self.pending = b""
        self.stderr: list[str] = []
        threading.Thread(target=self._drain_stderr, daemon=True).start()

    def _drain_stderr(self) -> None:
        assert self.proc.stderr is not None
        for raw in iter(self.proc.stderr.readline, b""):
            self.stderr.append(raw.decode("utf-8", "replace").rstrip("\n"))

    def trigger(self) -> None:
        self.stdin.write(b"\n")

    def collect(
        self, done: Callable[[list[str]], bool], timeout: float = 60, strict: bool = True, settle: float = 0.0
    ) -> list[str]:
        """Read complete lines until ``done(lines)`` and ``settle`` s have passed; after ``timeout``, an error
        (or, not strict, what came)."""
        lines: list[str] = []
        start = time.monotonic()
        end = start + timeout
        while not done(lines) or time.monotonic() < start + settle:
            wait = end - time.monotonic()
            if done(lines):
                wait = min(wait, start + settle - time.monotonic())
            ready, _, _ = select.select([self.out], [], [], max(0.0, wait))
            if not ready:
                if done(lines):
                    continue  # settled
                if not strict:
                    return lines
                raise RuntimeError(f"no complete batch within {timeout} s; got {lines[-3:]}; stderr {self.stderr[-5:]}")
            data = os.read(self.out, 1 << 20)
            if not data:
                raise RuntimeError(f"the executable exited ({self.proc.wait()}); stderr {self.stderr[-5:]}")
            *complete, self.pending = (self.pending + data).split(b"\n")
            lines.extend(line.decode() for line in complete)
        return lines

    def gather(
        self, done: Callable[[list[str]], bool], timeout: float = 60, strict: bool = True, settle: float = 0.0
    ) -> Gather:
        cpu = task_cpu_ns(self.pid)
        started_ns = time.time_ns()
        start = time.perf_counter()
        self.trigger()
        lines = self.collect(done, timeout, strict, settle)
        wall = time.perf_counter() - start
        return Gather(wall, (task_cpu_ns(self.pid) - cpu) / 1e9, lines, started_ns, time.time_ns())

    def close(self) -> int:
        """Close stdin as Telegraf does on shutdown; the exit status."""
        self.stdin.close()
        try:
            return self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return -9


def lines_at_least(n: int) -> Callable[[list[str]], bool]:
    return lambda lines: len(lines) >= n


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def p99(values: Sequence[float]) -> float:
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[98]


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.2f}"


def us(seconds: float) -> str:
    return f"{seconds * 1e6:.0f}"


@dataclass
class Table:
    title: str
    header: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def markdown(self) -> str:
        out = [f"### {self.title}", "", "| " + " | ".join(self.header) + " |"]
        out.append("|" + "|".join("---" for _ in self.header) + "|")
        out += ["| " + " | ".join(row) + " |" for row in self.rows]
        out += ["", *self.notes]
        return "\n".join(out).rstrip() + "\n"


class Checks:
    def __init__(self) -> None:
        self.results: list[tuple[str, bool, str]] = []

    def add(self, what: str, ok: bool, detail: str = "") -> None:
        self.results.append((what, ok, detail))

    @property
    def failed(self) -> list[tuple[str, bool, str]]:
        return [r for r in self.results if not r[1]]


# --------------------------------------------------------------------------- device entries


def daq_entry(name: str, address: str, channels: Sequence[int], **extra: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "Device": name,
        "Model": "Keysight DAQ970A",
        "Address": address,
        "Timeout": 2000,
        "measurement": "bench",
        "Channels": {
            f"ch{n}": {"DeviceChannel": n, "Type": "DCV", "field-key": "voltage", "tags": {"ch": f"ch{n}"}}
            for n in channels
        },
    }
    entry.update(extra)
    return entry


def smc_entry(name: str, path: str, items: Sequence[str], protocol: str = "simple", **extra: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "Device": name,
        "Model": "SMC HRS012-AN-10-T",
        "Address": path,
        "SerialConnectionParams": {"baudrate": 9600, "bytesize": 8, "stopbits": 2, "parity": "N"},
        "DeviceSpecificParams": {"InternalAddress": "01", "Protocol": protocol},
        "Timeout": 1,
        "measurement": "bench",
        "Channels": {item: {"Type": item, "tags": {"ch": item}} for item in items},
    }
    for key, value in extra.items():
        entry[key] = {**entry[key], **value} if isinstance(value, dict) and key in entry else value
    return entry


def pa_entry(name: str, channels: dict[str, tuple[int, str]], **extra: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "Device": name,
        "Model": "PurpleAir",
        "PurpleAirAPIKey": API_KEY,
        "Timeout": 2,
        "measurement": "bench",
        "Channels": {
            key: {"PurpleAirSensorIndex": index, "Type": kind, "field-key": kind, "tags": {"ch": key}}
            for key, (index, kind) in channels.items()
        },
    }
    entry.update(extra)
    return entry


@dataclass
class Footprint:
    """A process's RSS and open descriptors, sampled every 10 gathers, first window against last."""

    samples: list[tuple[int, int, int]] = field(default_factory=list)  # (gather, RSS KiB, fds)

    def sample(self, pid: int, i: int, gathers: int) -> None:
        if i % 10 == 0 or i == gathers - 1:
            self.samples.append((i, status_kib(pid, "VmRSS"), open_fds(pid)))

    @staticmethod
    def window(gathers: int) -> int:
        return min(1000, max(10, gathers // 10))

    def compare(self, gathers: int) -> tuple[float, float, int, int] | None:
        """(median RSS first, median RSS last, max fds first, max fds last), or None without samples."""
        window = self.window(gathers)
        first = [s for s in self.samples if s[0] < window]
        last = [s for s in self.samples if s[0] >= gathers - window]
        if not first or not last:
            return None
        return (
            median([r for _, r, _ in first]),
            median([r for _, r, _ in last]),
            max(f for _, _, f in first),
            max(f for _, _, f in last),
        )

    def check(self, checks: Checks, what: str, gathers: int) -> None:
        compared = self.compare(gathers)
        if compared is None or gathers < 2000:
            return  # too short to tell a leak from warming up
        rss_first, rss_last, fds_first, fds_last = compared
        growth = rss_last - rss_first
        checks.add(f"{what}: RSS flat (median growth ≤ 1024 KiB)", growth <= 1024, f"{growth:+.0f} KiB")
        checks.add(f"{what}: open fds flat", fds_last <= fds_first, f"{fds_first} -> {fds_last}")
