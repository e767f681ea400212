"""Test helpers: run the installed executables as real subprocesses."""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from line_protocol_parser import parse_line

ROOT = Path(__file__).resolve().parent.parent  # the repository
OLDER_FILE = ROOT / "tests" / "data" / "older-logger-devices.json"  # the older logger's own example


def executable(name: str) -> list[str]:
    """The console script as installed by pip next to this Python."""
    path = Path(sys.executable).parent / name
    if path.exists():
        return [str(path)]
    found = shutil.which(name)
    assert found, f"{name} is not installed: run pip install -e '.[test]'"
    return [found]


def write_config(tmp_path: Path, devices: list[dict[str, Any]], name: str = "devices.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(devices, indent=2))
    return path


def daq_device(address: str, name: str = "daq", channels: dict[str, Any] | None = None, **extra: Any) -> dict:
    """A DAQ970A device entry pointing at ``address`` with sensible test defaults."""
    entry = {
        "Device": name,
        "Model": "Keysight DAQ970A",
        "Address": address,
        "Timeout": 500,
        "measurement": "temperature",
        "tags": {"lab": "test"},
        "Channels": channels
        or {
            "101": {"DeviceChannel": 101, "Type": "TEMPT", "tags": {"sensor": "a", "unit": "DegC"}},
            "102": {"DeviceChannel": 102, "Type": "DCV", "field-key": "voltage", "tags": {"sensor": "b"}},
        },
    }
    entry.update(extra)
    return entry


def set_environ(updates: dict[str, str]) -> Callable[[], None]:
    """Set ``updates`` in this process's environment (what its subprocesses inherit); the function undoing it."""
    saved = {name: os.environ.get(name) for name in updates}
    os.environ.update(updates)

    def restore() -> None:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

    return restore


def run_once(
    args: list[str], timeout: float = 30, env: dict[str, str] | None = None, name: str = "telegraf-daq970a"
) -> subprocess.CompletedProcess:
    return subprocess.run(
        executable(name) + args + ["--once"],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        stdin=subprocess.DEVNULL,
    )


def smc_device(address: str, name: str = "chiller", channels: dict[str, Any] | None = None, **extra: Any) -> dict:
    """An SMC HRS entry as the older logger wrote them, pointing at ``address``."""
    entry = {
        "Device": name,
        "Model": "SMC HRS012-AN-10-T",
        "Address": address,
        "SerialConnectionParams": {"baudrate": 9600, "bytesize": 8, "stopbits": 2, "parity": "N"},
        "DeviceSpecificParams": {"InternalAddress": "01"},
        "Timeout": 1,
        "measurement": "temperature",
        "Channels": channels
        or {
            "PV1": {"Type": "PV1", "tags": {"sensor": "Returning", "unit": "DegC"}},
            "SV1": {"Type": "SV1", "tags": {"sensor": "Setpoint", "unit": "DegC"}},
        },
    }
    for key, value in extra.items():
        if key in ("SerialConnectionParams", "DeviceSpecificParams"):  # changed, not replaced
            entry[key] = {**entry[key], **value}  # type: ignore[dict-item]
        else:
            entry[key] = value
    return entry


def parse_lines(text: str) -> list[dict[str, Any]]:
    return [parse_line(line) for line in text.splitlines() if line.strip()]


class ExecdProcess:
    """The executable in execd mode, driven like Telegraf drives it."""

    def __init__(self, args: list[str], name: str = "telegraf-daq970a", env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            executable(name) + args,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            bufsize=0,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.stderr: list[str] = []
        threading.Thread(target=self._pump, args=(self.proc.stdout, self.lines.put), daemon=True).start()
        threading.Thread(target=self._pump, args=(self.proc.stderr, self.stderr.append), daemon=True).start()

    @staticmethod
    def _pump(stream: Any, sink: Any) -> None:
        for raw in iter(stream.readline, b""):
            sink(raw.decode("utf-8", "replace").rstrip("\n"))

    def trigger(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"\n")
        self.proc.stdin.flush()

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def read_lines(self, count: int, timeout: float = 10) -> list[str]:
        """Wait for ``count`` output lines."""
        out = []
        end = time.monotonic() + timeout
        while len(out) < count:
            remaining = end - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"got {len(out)} of {count} lines: {out}\nstderr: {self.stderr}")
            try:
                out.append(self.lines.get(timeout=remaining))
            except queue.Empty:
                continue
        return out

    def no_more_lines(self, wait: float) -> list[str]:
        """Lines that arrive within ``wait`` seconds (expected: none)."""
        time.sleep(wait)
        out = []
        while not self.lines.empty():
            out.append(self.lines.get())
        return out

    def wait_stderr(self, text: str, timeout: float = 10) -> str:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for line in list(self.stderr):
                if text in line:
                    return line
            time.sleep(0.02)
        raise AssertionError(f"{text!r} not in stderr: {self.stderr}")

    def close_stdin(self) -> float:
        """Close stdin as Telegraf does; return the seconds until the process exited."""
        assert self.proc.stdin is not None
        start = time.monotonic()
        self.proc.stdin.close()
        self.proc.wait(timeout=10)
        return time.monotonic() - start

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(5)


def env_without(*names: str) -> dict[str, str]:
    env = dict(os.environ)
    for name in names:
        env.pop(name, None)
    return env


def load_devices(family: str, path: Path, names: list[str] | None = None) -> list[Any]:
    """The devices of ``family`` in ``path``, as telegraf-lab run loads them; the first problem raised."""
    from telegraf_inputs import registry

    chosen = registry.family_named(family)
    assert chosen is not None
    lab = registry.load(path, selected=[chosen])
    if lab.problems:
        raise lab.problems[0]
    return [d for d in lab.devices if not names or d.name in names]


def peak_rss_kib(pid: int) -> int:
    """The peak resident memory (VmHWM) of a running process, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


def accepted_names(specials: str, alphabet: Any = None, max_size: int = 20) -> Any:
    """A hypothesis strategy: names that the line protocol check accepts (``alphabet`` any text by default)."""
    from hypothesis import strategies as st

    from telegraf_inputs.lineprotocol import check_name

    def ok(text: str) -> bool:
        try:
            check_name(text, "name", specials)
        except ValueError:
            return False
        return True

    chars = st.characters(blacklist_categories=("Cs",)) if alphabet is None else alphabet
    return st.text(chars, min_size=1, max_size=max_size).filter(ok)
