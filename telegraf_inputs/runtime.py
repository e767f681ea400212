"""The execd loop: triggers, one worker per connection, deadlines, output that never blocks a read.

One worker thread per connection reads the devices that share it, one after
the other; different connections are read in parallel.  A trigger asks every
connection for a read; a connection still reading takes the request as "one
more read when this one ends", so triggers coalesce per connection.  Each
device's lines are written the moment that device has been read, with the time
of its own scan: a slow or hung device never holds back another's lines.

A read that passes its deadline is reported as timed out (its late result is
dropped: it was reported as a failure), and while it stays stuck its
connection's further requests are skipped.  Failures are logged once per
failure streak; recovery is logged.

Nothing here waits on stdout or stderr: lines and log records go through
bounded queues to writer threads, so a reader that stops reading delays no
gather and no exit; what does not fit is dropped and counted.
"""

from __future__ import annotations

import logging
import math
import os
import signal
import stat
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import BinaryIO, NoReturn

from . import channels, logs
from .base import DeviceSpec, Driver, Reading, Session, by_connection
from .lineprotocol import Metric, encode
from .logs import Writer, describe, log, setup_logging

__all__ = ["leave", "log", "main_loop", "setup_logging"]


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


@dataclass
class Outcome:
    """What reading one device gave: its metrics, or why it failed (for --health: why not every channel came)."""

    metrics: list[Metric] = field(default_factory=list)
    failed: bool = False
    problem: str = ""  # the first reason a channel, or the device, gave nothing; empty when every channel came
    read_seconds: float = 0.0
    channels: list[tuple[str, Metric | str]] = field(default_factory=list)  # each channel: its metric, or why not


class Reporter:
    """Turns readings into metrics and log lines, keeping the failure streaks (thread-safe)."""

    def __init__(self, devices: Iterable[DeviceSpec]) -> None:
        self.lock = threading.Lock()
        self.device_streaks = {d.label: _Streak() for d in devices}
        self.channel_streaks: dict[tuple[str, str], _Streak] = {}

    def device_failed(self, device: DeviceSpec, message: str) -> Outcome:
        with self.lock:
            self.device_streaks[device.label].fail(f"device {device.label}", message)
        return Outcome(failed=True, problem=message or "failed")

    def device_read(self, device: DeviceSpec, readings: Sequence[Reading]) -> Outcome:
        items = [(reading, channels.apply(device.config, reading)) for reading in readings]
        failed = [i for _, i in items if isinstance(i, channels.Rejected) and i.level >= logging.ERROR]
        rejected = [i for _, i in items if isinstance(i, channels.Rejected)]
        out = Outcome(problem=rejected[0].reason if rejected else "")
        with self.lock:
            streak = self.device_streaks[device.label]
            if items and len(failed) == len(items):
                out.failed = True  # no channel could be read
                if len(items) > 1 and len({i.reason for i in failed}) == 1:
                    # one failed exchange spoiled every channel: one log line, not one per channel
                    streak.fail(f"device {device.label}", f"{failed[0].reason}; no channel emitted")
                    return out
            streak.ok(f"device {device.label}")
            for reading, item in items:
                key = (device.label, reading.channel.key)
                ch_streak = self.channel_streaks.setdefault(key, _Streak())
                what = f"device {device.label} channel {reading.channel.key!r}"
                if isinstance(item, channels.Rejected):
                    ch_streak.fail(what, f"{item.reason}; not emitted", item.level)
                    out.channels.append((reading.channel.key, item.reason))
                else:
                    ch_streak.ok(what)
                    out.metrics.append(item)
                    out.channels.append((reading.channel.key, item))
        return out


def encode_lines(metrics: Sequence[Metric]) -> bytes:
    """The metrics as lines of line protocol; one that cannot be encoded is dropped (and logged) alone."""
    lines = []
    for metric in metrics:
        try:
            lines.append((encode(metric) + "\n").encode("utf-8"))  # UnicodeEncodeError: a lone surrogate
        except (ValueError, TypeError, OverflowError) as exc:
            log.error("dropped a reading of %s: %s", metric.tags.get("device", "?"), exc)
    return b"".join(lines)


class _Connection:
    """A worker thread owning one session, shared by the devices on it.

    ``request()`` asks for one read of every device; requests made while a read
    runs coalesce into one more read after it.  The read in progress is visible
    to the runtime (``reading_since``, ``current``) for deadline checks.
    """

    def __init__(self, driver: Driver, devices: Sequence[DeviceSpec], emit: Callable[[DeviceSpec, Outcome], None],
                 reporter: Reporter) -> None:  # fmt: skip
        self.driver = driver
        self.devices = list(devices)
        self.emit = emit
        self.reporter = reporter
        self.session: Session | None = None
        self.lock = threading.Condition()
        self.requested = False
        self.requested_at = 0.0
        self.stopping = False
        self.reading_since: float | None = None  # monotonic start of the read in progress
        self.read_number = 0  # reads started so far
        self.timed_out: set[tuple[int, str]] = set()  # (read number, device) reported as timed out
        self.thread = threading.Thread(target=self._run, name=f"conn-{devices[0].connection}", daemon=True)
        self.thread.start()

    def due(self, index: int) -> float:
        """Seconds after the read's start by which device ``index`` must have been read."""
        return sum(d.deadline_s for d in self.devices[: index + 1])

    def request(self) -> bool:
        """Ask for a read; False if the read in progress has passed its deadline (the request is dropped)."""
        with self.lock:
            if self.overdue():
                return False
            if not self.requested:
                self.requested_at = time.monotonic()
            self.requested = True
            self.lock.notify()
            return True

    def next_deadline(self) -> float | None:
        """When the runtime must next look at this connection's deadlines (monotonic), or None: nothing is due.

        A requested read not yet started counts from its request: waking early costs a look, nothing more.
        """
        with self.lock:
            started = self.reading_since if self.reading_since is not None else (
                self.requested_at if self.requested else None)  # fmt: skip
            number = self.read_number if self.reading_since is not None else None
            reported = set(self.timed_out)
        if started is None:
            return None
        for index, device in enumerate(self.devices):
            if number is None or (number, device.label) not in reported:
                return started + self.due(index)
        return None

    def overdue(self) -> bool:
        started = self.reading_since
        return started is not None and time.monotonic() - started > self.due(len(self.devices) - 1)

    def idle(self) -> bool:
        with self.lock:
            return not self.requested and self.reading_since is None

    def _run(self) -> None:
        first = True
        while True:
            with self.lock:
                while not self.requested and not self.stopping and not first:
                    self.lock.wait()
                if self.stopping:
                    break
                opening_only, first = first and not self.requested, False
                self.requested = False
                if not opening_only:
                    self.reading_since = time.monotonic()
                    self.read_number += 1
            if opening_only:
                self._open_quietly()
                continue
            try:
                self._read_all(self.read_number, self.reading_since or time.monotonic())
            except Exception as exc:  # a bug here must not end the thread: its devices would go silent for good
                log.error("reading %s failed unexpectedly (%s: %s); the connection is reopened at the next gather",
                          ", ".join(d.label for d in self.devices), type(exc).__name__, exc)  # fmt: skip
                self._close()
            finally:
                with self.lock:
                    self.reading_since = None
                    self.lock.notify_all()
        self._close()

    def _open_quietly(self) -> None:
        """Open the session before the first trigger (errors show on the first read)."""
        try:
            self.ensure_open()
        except Exception:  # reported by the first read, which opens again
            self._close()

    def ensure_open(self) -> None:
        if self.session is None:
            self.session = self.driver.open(self.devices)

    def _close(self) -> None:
        if self.session is not None:
            session, self.session = self.session, None
            session.close()

    def _read_all(self, number: int, started: float) -> None:
        for index, device in enumerate(self.devices):
            began = time.monotonic()
            try:
                self.ensure_open()
                assert self.session is not None
                readings = self.session.read(device)
            except Exception as exc:  # any failure: report it, reopen at the next read
                self._close()
                if not self._late(number, index, device, started):
                    outcome = self.reporter.device_failed(device, describe(exc))
                    outcome.read_seconds = time.monotonic() - began
                    self.emit(device, outcome)
                continue
            if not self._late(number, index, device, started):
                outcome = self.reporter.device_read(device, readings)
                outcome.read_seconds = time.monotonic() - began
                self.emit(device, outcome)

    def _late(self, number: int, index: int, device: DeviceSpec, started: float) -> bool:
        """True if this device's result came after its deadline (then it was, or is now, reported as such)."""
        if time.monotonic() - started <= self.due(index):
            return False
        self.report_timeout(number, device)
        return True

    def report_timeout(self, number: int, device: DeviceSpec) -> None:
        with self.lock:
            if (number, device.label) in self.timed_out:
                return
            self.timed_out.add((number, device.label))
            if len(self.timed_out) > 100:
                self.timed_out = {k for k in self.timed_out if k[0] >= number - 1}
        outcome = self.reporter.device_failed(device, f"no reading within the deadline of {device.deadline_s:g} s")
        outcome.read_seconds = device.deadline_s
        self.emit(device, outcome)

    def check_deadlines(self) -> None:
        """Report the devices of the read in progress whose deadline has passed (called by the runtime)."""
        with self.lock:
            started, number = self.reading_since, self.read_number
        if started is None:
            return
        elapsed = time.monotonic() - started
        for index, device in enumerate(self.devices):
            if elapsed > self.due(index):
                self.report_timeout(number, device)

    def stop(self) -> None:
        with self.lock:
            self.stopping = True
            self.lock.notify()


class Runner:
    """Reads the devices of one or more families; each device's lines go to ``output`` as soon as it is read."""

    def __init__(
        self, groups: Sequence[tuple[Driver, Sequence[DeviceSpec]]], output: Callable[[bytes], object],
        health: bool = False,
    ) -> None:  # fmt: skip
        self.devices = [d for _, devices in groups for d in devices]
        self.reporter = Reporter(self.devices)
        self.output = output
        self.health = health  # one lab_device line per device and gather (telegraf_inputs/health.py)
        self.observe: Callable[[DeviceSpec, Outcome], None] | None = None  # sees every device's outcome
        self.down: dict[str, int] = {}  # gathers in a row each device was not up
        self.failed: set[str] = set()  # devices that failed in the latest read (for --once)
        self.connections = [
            _Connection(driver, group, self._emit, self.reporter)
            for driver, devices in groups
            for group in by_connection(devices).values()
        ]

    def _emit(self, device: DeviceSpec, outcome: Outcome) -> None:
        if outcome.failed:
            self.failed.add(device.label)
        else:
            self.failed.discard(device.label)
        if self.observe is not None:
            self.observe(device, outcome)
        metrics = outcome.metrics
        if self.health:
            metrics = [*metrics, self._health(device, outcome)]
        if metrics:
            data = encode_lines(metrics)
            if data:
                self.output(data)

    def _health(self, device: DeviceSpec, outcome: Outcome) -> Metric:
        from . import health, registry

        up = not outcome.failed and not outcome.problem
        with self.reporter.lock:
            self.down[device.label] = 0 if up else self.down.get(device.label, 0) + 1
            failures = self.down[device.label]
        family = registry.family_of(device.config.model)
        return health.line(device.config.name, family.name if family else "", device.config.model.strip(), up=up,
                           read_seconds=outcome.read_seconds, failures=failures, message=outcome.problem,
                           time_ns=time.time_ns())  # fmt: skip

    def trigger(self) -> None:
        """Ask every connection for a read; a connection stuck past its deadline is skipped, and said so."""
        for conn in self.connections:
            if not conn.request():
                for device in conn.devices:
                    message = "still busy with an earlier read that passed its deadline; skipped"
                    self._emit(device, self.reporter.device_failed(device, message))

    def check_deadlines(self) -> None:
        for conn in self.connections:
            conn.check_deadlines()

    def next_deadline(self) -> float | None:
        """The earliest moment a deadline may pass (monotonic), or None while no read is due or running."""
        times = [t for conn in self.connections if (t := conn.next_deadline()) is not None]
        return min(times) if times else None

    def wait_idle(self) -> None:
        """Wait until every connection has finished (or passed the deadline of) its reads."""
        while True:
            self.check_deadlines()
            if all(conn.idle() or conn.overdue() for conn in self.connections):
                return
            time.sleep(0.02)

    def close(self, wait_s: float = 1.0) -> None:
        """Close every idle session; sessions stuck in a read are left to process exit."""
        for conn in self.connections:
            conn.stop()
        end = time.monotonic() + wait_s
        for conn in self.connections:
            conn.thread.join(max(0.0, end - time.monotonic()))


def run_once(runner: Runner, out: Writer, table: bool = False) -> int:
    """One read of every device, printed (as line protocol, or as a table); 0 if every device was read."""
    from .table import Table

    rows = Table()
    if table:
        runner.output = lambda data: None  # the table is printed instead
        runner.observe = rows.add
    runner.trigger()
    runner.wait_idle()
    if table:
        out.put(rows.render().encode("utf-8"))
    out.drain(5.0)
    runner.close()
    return 1 if runner.failed else 0


def _handle_signals(on_trigger: Callable[[int, object], None], on_stop: Callable[[int, object], None]) -> None:
    """SIGHUP, SIGUSR1 and SIGUSR2 trigger a gather (POSIX only; on Windows stdin is the trigger); SIGTERM and
    SIGINT stop."""
    for name in ("SIGHUP", "SIGUSR1", "SIGUSR2"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), on_trigger)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_stop)


def run_execd(runner: Runner, out: Writer, stdin: BinaryIO, interval: float | None) -> int:
    """Read on every stdin line, SIGHUP/SIGUSR1/SIGUSR2 (where they exist) and interval tick; exit 0 on EOF."""
    trigger = threading.Event()  # a gather is asked for
    wake = threading.Event()  # anything the loop must look at: a trigger, a stop, stdout gone or full
    stop = threading.Event()
    out.notify = wake.set

    def on_trigger(signum: int, frame: object) -> None:
        trigger.set()
        wake.set()

    def on_stop(signum: int, frame: object) -> None:
        stop.set()
        wake.set()

    _handle_signals(on_trigger, on_stop)

    sleeping_until = [0.0]  # when the main loop wakes by itself (monotonic; inf: only when woken)
    gathering = threading.Lock()  # one trigger at a time: the stdin and interval threads start reads themselves

    def gather_now() -> None:
        """Start a read here, on the triggering thread: no hand-off to the main loop for each gather. The
        main loop is woken only if this read's first deadline comes before it would wake anyway."""
        with gathering:
            runner.trigger()
            due = runner.next_deadline()
        if due is not None and due < sleeping_until[0]:
            wake.set()

    def read_stdin() -> None:
        try:
            while stdin.readline(4096):  # bounded: a line without an end must not fill the memory
                gather_now()
        except (OSError, ValueError):
            pass
        log.debug("stdin closed; stopping")
        stop.set()
        wake.set()

    threading.Thread(target=read_stdin, name="stdin", daemon=True).start()

    if interval is not None:

        def tick() -> None:
            next_at = time.monotonic()
            while not stop.is_set():
                gather_now()
                next_at += interval
                stop.wait(max(0.0, next_at - time.monotonic()))

        threading.Thread(target=tick, name="interval", daemon=True).start()

    dropped = 0
    while not stop.is_set():
        # no polling: sleep until something happens or a deadline may pass (an idle lab costs no CPU)
        sleeping_until[0] = math.inf  # first: a read started from here on wakes the loop, or is in ``due``
        due = runner.next_deadline()
        if due is not None:
            sleeping_until[0] = due
        wake.wait(None if due is None else max(0.0, due - time.monotonic()) + 0.001)
        wake.clear()
        if stop.is_set():
            break
        if trigger.is_set():  # a signal (handled on this thread)
            trigger.clear()
            with gathering:
                runner.trigger()
        runner.check_deadlines()
        if out.closed.is_set():
            log.debug("stdout closed; stopping")
            break
        if out.dropped > dropped:
            log.warning("%d batch(es) of lines dropped: stdout was not being read", out.dropped - dropped)
            dropped = out.dropped
    out.drain(0.5)  # the lines of reads that have ended, if the reader takes them
    runner.close(0.2)
    return 0


def main_loop(
    groups: Sequence[tuple[Driver, Sequence[DeviceSpec]]],
    *,
    once: bool,
    interval: float | None,
    health: bool = False,
    table: bool = False,
) -> int:
    """Run the program's main loop on stdin/stdout, reading each family's devices with its driver."""
    out = Writer(sys.stdout.fileno(), logs.OUTPUT_QUEUE, "stdout")
    runner = Runner(groups, out.put, health=health)
    if once:
        return run_once(runner, out, table)
    return run_execd(runner, out, sys.stdin.buffer, interval)


# How long the process stays after handing its stdout and stderr back (see leave()).
HAND_OVER_S = 0.1


def leave(code: int, *, hand_over: bool) -> NoReturn:
    """Exit now: worker threads stuck in an instrument read must not hold the exit up.

    The log lines still queued get a short time to reach stderr.  With hand_over,
    stdout and stderr are ended before the process is.  Telegraf's execd reads
    both pipes until their end, but closes its side as soon as the process has
    exited (Go's Cmd.Wait); a read not yet finished then fails with
    "read |0: file already closed", which Telegraf counts as an error of the
    plugin (`telegraf --once` exits 1) and which can cut the last log lines off.
    Pointing fds 1 and 2 at /dev/null ends Telegraf's reads at once; the process
    leaves a moment later.
    """
    logs.flush(0.5)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # the reader has gone: nothing left to tell it
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
