"""The execd loop: triggers, concurrent device reads with deadlines, output.

One worker thread per connection reads the devices that share it, one after
the other; different connections are read in parallel.  A gather waits for
each connection until the sum of its devices' deadlines; a device still being
read then is reported as timed out, and its connection is skipped ("busy") on
later gathers until that read returns, so reads on one connection never
overlap.  Failures are logged once per failure streak; recovery is logged.
"""

from __future__ import annotations

import functools
import logging
import os
import queue
import signal
import stat
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, BinaryIO, NoReturn

from . import channels
from .base import DeviceSpec, Driver, Reading, Session, by_connection
from .lineprotocol import Metric, encode

log = logging.getLogger("telegraf_inputs")

_PREFIX = {
    logging.DEBUG: "D! ",
    logging.INFO: "I! ",
    logging.WARNING: "W! ",
    logging.ERROR: "E! ",
    logging.CRITICAL: "E! ",
}


class TelegrafFormatter(logging.Formatter):
    """Prefix each line with Telegraf's level marker (E!, W!, I!, D!)."""

    def format(self, record: logging.LogRecord) -> str:
        prefix = _PREFIX.get(record.levelno, "I! ")
        text = super().format(record)
        return "\n".join(prefix + line for line in text.splitlines() or [""])


def setup_logging(verbose: bool) -> None:
    """Send log lines to stderr with Telegraf's prefixes."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(TelegrafFormatter("%(message)s"))
    log.handlers[:] = [handler]
    log.setLevel(logging.DEBUG if verbose else logging.INFO)
    log.propagate = False


def describe(exc: BaseException) -> str:
    """A one-line description of an exception for the log."""
    text = str(exc).strip() or type(exc).__name__
    return " ".join(text.split())


@dataclass
class _Streak:
    """Failure-streak state, so that a failure is logged once, not every gather."""

    failing: bool = False
    count: int = 0

    def fail(self, what: str, message: str, level: int = logging.ERROR) -> None:
        self.count += 1
        if not self.failing:
            self.failing = True
            log.log(level, "%s: %s", what, message)
        else:
            log.debug("%s: %s (failure %d in a row)", what, message, self.count)

    def ok(self, what: str) -> None:
        if self.failing:
            log.info("%s: recovered after %d failed gather(s)", what, self.count)
        self.failing = False
        self.count = 0


class _Connection:
    """A worker thread owning one session, shared by the devices on it."""

    def __init__(self, driver: Driver, devices: Sequence[DeviceSpec]) -> None:
        self.driver = driver
        self.devices = list(devices)
        self.session: Session | None = None
        self.jobs: queue.Queue[tuple[Callable[[], Any], Future[Any]] | None] = queue.Queue()
        self.overdue: Future[Any] | None = None  # a gather's read that passed its deadline
        self.thread = threading.Thread(target=self._run, name=f"conn-{devices[0].connection}", daemon=True)
        self.thread.start()

    @property
    def deadline_s(self) -> float:
        return sum(d.deadline_s for d in self.devices)

    def _run(self) -> None:
        while (item := self.jobs.get()) is not None:
            job, future = item
            try:
                future.set_result(job())
            except BaseException as exc:  # handed to the waiting thread, which logs it
                future.set_exception(exc)
        self._close()

    def submit(self, job: Callable[[], Any]) -> Future[Any]:
        future: Future[Any] = Future()
        self.jobs.put((job, future))
        return future

    def _close(self) -> None:
        if self.session is not None:
            session, self.session = self.session, None
            session.close()

    def ensure_open(self) -> None:
        """Open the session if it is not open (runs on the worker thread)."""
        if self.session is None:
            self.session = self.driver.open(self.devices)

    def read_all(self, results: dict[str, list[Reading] | BaseException]) -> None:
        """Read each device in turn into ``results`` (runs on the worker thread)."""
        for device in self.devices:
            try:
                self.ensure_open()
                assert self.session is not None
                results[device.name] = self.session.read(device)
            except Exception as exc:  # any failure: report it, reopen next gather
                results[device.name] = exc
                self._close()

    def stop(self) -> None:
        self.jobs.put(None)


@dataclass
class GatherResult:
    """What one gather produced."""

    metrics: list[Metric] = field(default_factory=list)
    failed_devices: list[str] = field(default_factory=list)


class Runner:
    """Reads the devices of one or more families and encodes their readings."""

    def __init__(self, groups: Sequence[tuple[Driver, Sequence[DeviceSpec]]]) -> None:
        self.devices = [d for _, devices in groups for d in devices]
        self.connections = [
            _Connection(driver, group) for driver, devices in groups for group in by_connection(devices).values()
        ]
        self.device_streaks = {d.name: _Streak() for d in self.devices}
        self.channel_streaks: dict[tuple[str, str], _Streak] = {}

    def open_all(self) -> None:
        """Start opening every connection in the background (errors show on first gather)."""
        for conn in self.connections:
            conn.submit(conn.ensure_open)

    def gather(self, stop: threading.Event | None = None) -> GatherResult | None:
        """Read all devices once; None if ``stop`` was set while waiting."""
        started = time.monotonic()
        pending: list[tuple[_Connection, dict[str, Any], Future[Any] | None]] = []
        for conn in self.connections:
            results: dict[str, Any] = {}
            if conn.overdue is not None and not conn.overdue.done():
                for device in conn.devices:
                    results[device.name] = TimeoutError(
                        "still busy with an earlier read that passed its deadline; skipped"
                    )
                pending.append((conn, results, None))
                continue
            pending.append((conn, results, conn.submit(functools.partial(conn.read_all, results))))
        for conn, results, future in pending:
            if future is None:
                continue
            deadline = started + conn.deadline_s
            while not future.done():
                if stop is not None and stop.is_set():
                    return None
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    future.result(timeout=min(remaining, 0.05))
                except TimeoutError:
                    pass
            if not future.done():
                conn.overdue = future
            for device in conn.devices:
                if device.name not in results:
                    results[device.name] = TimeoutError(f"no reading within the deadline of {device.deadline_s:g} s")
        return self._collect(pending)

    def _collect(self, pending: list[tuple[_Connection, dict[str, Any], Future[Any] | None]]) -> GatherResult:
        out = GatherResult()
        for conn, results, _ in pending:
            for device in conn.devices:
                outcome = dict(results).get(device.name)
                streak = self.device_streaks[device.name]
                if isinstance(outcome, BaseException) or outcome is None:
                    out.failed_devices.append(device.name)
                    streak.fail(f"device {device.name!r}", describe(outcome or RuntimeError("no result")))
                    continue
                items = [(reading, channels.apply(device.config, reading)) for reading in outcome]
                failed = [i for _, i in items if isinstance(i, channels.Rejected) and i.level >= logging.ERROR]
                if items and len(failed) == len(items):
                    out.failed_devices.append(device.name)  # no channel could be read
                    if len(items) > 1 and len({i.reason for i in failed}) == 1:
                        # one failed exchange spoiled every channel: one log line, not one per channel
                        streak.fail(f"device {device.name!r}", f"{failed[0].reason}; no channel emitted")
                        continue
                streak.ok(f"device {device.name!r}")
                for reading, item in items:
                    key = (device.name, reading.channel.key)
                    ch_streak = self.channel_streaks.setdefault(key, _Streak())
                    what = f"device {device.name!r} channel {reading.channel.key!r}"
                    if isinstance(item, channels.Rejected):
                        ch_streak.fail(what, f"{item.reason}; not emitted", item.level)
                    else:
                        ch_streak.ok(what)
                        out.metrics.append(item)
        return out

    def close(self, wait_s: float = 1.0) -> None:
        """Close every idle session; sessions stuck in a read are left to process exit."""
        for conn in self.connections:
            conn.stop()
        end = time.monotonic() + wait_s
        for conn in self.connections:
            conn.thread.join(max(0.0, end - time.monotonic()))


def write_batch(out: BinaryIO, metrics: Sequence[Metric]) -> None:
    """Encode the batch and write it with one write and one flush."""
    lines = []
    for metric in metrics:
        try:
            lines.append(encode(metric) + "\n")
        except ValueError as exc:  # a device produced something unencodable: drop that line only
            log.error("dropped a reading of %s: %s", metric.tags.get("device", "?"), exc)
    if lines:
        out.write("".join(lines).encode("utf-8"))
        out.flush()


def run_once(runner: Runner, out: BinaryIO) -> int:
    """One gather, printed; 0 if every device was read."""
    result = runner.gather()
    assert result is not None
    write_batch(out, result.metrics)
    runner.close()
    return 1 if result.failed_devices else 0


def run_execd(runner: Runner, out: BinaryIO, stdin: BinaryIO, interval: float | None) -> int:
    """Gather on every stdin line, SIGHUP/SIGUSR1/SIGUSR2 and interval tick; exit 0 on EOF."""
    trigger = threading.Event()
    stop = threading.Event()

    def on_trigger(signum: int, frame: object) -> None:
        trigger.set()

    def on_stop(signum: int, frame: object) -> None:
        stop.set()
        trigger.set()

    for sig in (signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2):
        signal.signal(sig, on_trigger)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_stop)

    def read_stdin() -> None:
        try:
            while stdin.readline():
                trigger.set()
        except (OSError, ValueError):
            pass
        log.debug("stdin closed; stopping")
        stop.set()
        trigger.set()

    threading.Thread(target=read_stdin, name="stdin", daemon=True).start()

    if interval is not None:

        def tick() -> None:
            next_at = time.monotonic()
            while not stop.is_set():
                trigger.set()
                next_at += interval
                stop.wait(max(0.0, next_at - time.monotonic()))

        threading.Thread(target=tick, name="interval", daemon=True).start()

    runner.open_all()
    exit_code = 0
    while True:
        trigger.wait(1.0)
        if stop.is_set():
            break
        if not trigger.is_set():
            continue
        trigger.clear()  # triggers arriving during the gather coalesce into one more
        result = runner.gather(stop)
        if result is None:
            break
        try:
            write_batch(out, result.metrics)
        except BrokenPipeError:
            log.debug("stdout closed; stopping")
            break
    runner.close()
    return exit_code


def main_loop(
    groups: Sequence[tuple[Driver, Sequence[DeviceSpec]]],
    *,
    once: bool,
    interval: float | None,
) -> int:
    """Run the executable's main loop on stdin/stdout, reading each family's devices with its driver."""
    runner = Runner(groups)
    out = sys.stdout.buffer
    if once:
        return run_once(runner, out)
    return run_execd(runner, out, sys.stdin.buffer, interval)


# How long the process stays after handing its stdout and stderr back (see leave()).
HAND_OVER_S = 0.1


def leave(code: int, *, hand_over: bool) -> NoReturn:
    """Exit now: worker threads stuck in an instrument read must not hold the exit up.

    With hand_over, stdout and stderr are ended before the process is.  Telegraf's
    execd reads both pipes until their end, but closes its side as soon as the
    process has exited (Go's Cmd.Wait); a read not yet finished then fails with
    "read |0: file already closed", which Telegraf counts as an error of the
    plugin (`telegraf --once` exits 1) and which can cut the last log lines off.
    Pointing fds 1 and 2 at /dev/null ends Telegraf's reads at once; the process
    leaves a moment later.
    """
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # stdout's reader has gone: nothing left to tell it
            pass
    if hand_over and (_is_pipe(1) or _is_pipe(2)):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        time.sleep(HAND_OVER_S)
    os._exit(code)


def _is_pipe(fd: int) -> bool:
    try:
        return stat.S_ISFIFO(os.fstat(fd).st_mode)
    except OSError:
        return False
