"""HighFinesse / Ångstrom wavelength meters, read through the vendor's library (wlmData).

Entries are the older logger's (no ``Address``; channel ``Type`` ``Frequency``, which read switch channel
1), with more Types and a ``SwitchChannel`` per channel.  The library is loaded in a worker process of
its own (``worker.py``): a call that hangs is cut at the device's Timeout and a crash of the library ends
only that process; either way the device is reported and its worker started again at the next gather.
A value <= 0 is the library's error code: never written, named in the log.  Nothing is set on the
instrument (the older logger set the PID's deviation unit at start-up; this family only reads).
"""

from __future__ import annotations

import json
import math
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import IO, Any

from ...base import Asked, DeviceError, DeviceSpec, Driver, Reading, Session, requests_of
from ...config import ChannelConfig, Declaration, DeviceConfig, Node
from ...keys import Integer, Number, Text
from ...serial_lines import BadReply, ask_each
from .protocol import VOCABULARY, default_library, error_of

MAX_LINE = 4096  # a worker's reply line, at most
START_S = 10.0  # loading the library and finding the WLM may take this long, beside the Timeout


DECLARATION = Declaration(
    measurement="wavemeter",
    device=(
        Text("Library", "the vendor's library: a path, or a name the system finds (default wlmData.dll on Windows, "
             "libwlmData.so on Linux, libwlmData.dylib on macOS)"),
        Number("Timeout", "seconds each call into the library may take; a call that takes longer is cut and the "
               "library's process started again", 2.0, exclusive_minimum=0, maximum=600),
    ),
    channel=(
        Text("Type", VOCABULARY.doc(), "Frequency", choices=VOCABULARY.types()),
        Integer("SwitchChannel", "the fiber switch's channel, 1 to 8 (1 when absent, as the older logger read)",
                minimum=1, maximum=8),
    ),
)  # fmt: skip


def _channel(ch: ChannelConfig) -> Asked:
    """The channel and its call: its Type's, of its SwitchChannel (1 when absent)."""
    kind = VOCABULARY.kinds[ch.values["Type"]]
    assert kind.request is not None
    number = ch.values["SwitchChannel"]
    if "{channel}" not in kind.request and number is not None:
        raise ch.node.error(f'Type "{kind.type}" is of the whole wavemeter: it has no SwitchChannel', "SwitchChannel")
    return Asked(ch, kind.request.format(channel=number or 1), kind.type, kind.field)


@dataclass(frozen=True)
class WavemeterDevice(DeviceSpec):
    """A wavemeter, by the library that reaches it; each channel one call."""

    library: str = ""
    timeout_s: float = 2.0
    channels: tuple[Asked, ...] = ()


class Worker:
    """The library's worker process, and its replies a line each (read on a thread: pipes have no deadline
    on Windows)."""

    def __init__(self, library: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", f"{__package__}.worker", library],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.lines: queue.Queue[bytes | None] = queue.Queue()
        assert self.proc.stdout is not None
        threading.Thread(target=self._read, args=(self.proc.stdout,), daemon=True).start()

    def _read(self, out: IO[bytes]) -> None:
        while line := out.readline(MAX_LINE):
            self.lines.put(line)
        self.lines.put(None)

    def next(self, timeout_s: float, what: str) -> dict[str, Any]:
        """The worker's next message; DeviceError if it does not come within ``timeout_s`` or the worker ended."""
        try:
            line = self.lines.get(timeout=timeout_s)
        except queue.Empty:
            self.stop()
            raise DeviceError(f"the library did not answer {what} within {timeout_s:g} s (hung?); its process was "
                              "stopped and starts again at the next gather") from None  # fmt: skip
        if line is None:
            raise DeviceError(f"the library's process ended during {what} ({_exit(self.proc)}); it starts again "
                              "at the next gather")  # fmt: skip
        if not line.endswith(b"\n"):  # longer than any message: the rest would pass for the next reply
            self.stop()
            raise DeviceError(f"the library's process wrote more than {MAX_LINE} bytes for {what}")
        try:
            message: dict[str, Any] = json.loads(line)
        except ValueError:
            raise DeviceError(f"the library's process wrote {line[:80]!r} for {what}") from None
        return message

    def ask(self, request: str, timeout_s: float) -> dict[str, Any]:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(request.encode("ascii") + b"\n")
            self.proc.stdin.flush()
        except OSError:
            raise DeviceError(f"the library's process has ended ({_exit(self.proc)}) before {request}") from None
        return self.next(timeout_s, request)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            pass
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                try:
                    pipe.close()
                except OSError:
                    pass


def _exit(proc: subprocess.Popen[bytes]) -> str:
    try:
        code = proc.wait(2)
    except subprocess.TimeoutExpired:
        return "still running"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}: a crash in the library"
        except ValueError:
            return f"signal {-code}"
    return f"exit code {code}"


class WavemeterSession(Session):
    def __init__(self, device: WavemeterDevice) -> None:
        self.worker = Worker(device.library)
        ready = self.worker.next(START_S + device.timeout_s, "loading the library")
        if not ready.get("ready"):
            self.worker.stop()
            raise DeviceError(str(ready.get("error", ready))[:300])

    def read(self, device: DeviceSpec) -> list[Reading]:
        assert isinstance(device, WavemeterDevice)
        results = ask_each(requests_of(device.channels), partial(self.worker.ask, timeout_s=device.timeout_s))
        return [_reading(ch, *results[ch.request]) for ch in device.channels]

    def close(self) -> None:
        self.worker.stop()


def _reading(ch: Asked, reply: dict[str, Any] | BadReply, when: int) -> Reading:
    assert not isinstance(reply, BadReply)  # the worker's replies are messages; a failed call is DeviceError
    value = reply.get("value")
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return Reading(ch.config, None, when, problem=str(reply.get("error", reply))[:300], failed=True)
    if not math.isfinite(value):  # passed on by the library (QMI's tests hold NaN a value); no number to write
        return Reading(
            ch.config, None, when, problem=f"{ch.request}: no measurement ({'NaN' if math.isnan(value) else value})"
        )
    error = error_of(ch.request.split()[0], value)
    if error is not None:
        return Reading(ch.config, None, when, problem=f"{ch.request}: {error}", failed=True)
    return Reading(ch.config, int(value) if ch.field_type == "integer" else float(value), when)


class HighFinesseDriver(Driver):
    """HighFinesse wavelength meters."""

    declaration = DECLARATION

    def device_of(self, config: DeviceConfig, node: Node) -> WavemeterDevice:
        channels = tuple(_channel(ch) for ch in config.channels)
        library = (config.values["Library"] or default_library()).strip()
        timeout_s = float(config.values["Timeout"])
        calls = len(requests_of(channels))
        deadline = config.values["Deadline"]
        return WavemeterDevice(
            config=config,
            connection=f"wlm|{library}",
            deadline_s=float(deadline) if deadline is not None else (calls + 1) * timeout_s + START_S,
            library=library,
            timeout_s=timeout_s,
            channels=channels,
        )

    def plan(self, device: DeviceSpec) -> str | None:
        assert isinstance(device, WavemeterDevice)
        return f"library {device.library}: " + ", ".join(requests_of(device.channels)) + " per gather"

    def open(self, devices: Sequence[DeviceSpec]) -> Session:
        device = devices[0]
        assert isinstance(device, WavemeterDevice)
        return WavemeterSession(device)


DRIVER = HighFinesseDriver()
