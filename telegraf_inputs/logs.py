"""Log lines and output for Telegraf: bounded, escaped, secrets redacted, never blocking.

Telegraf reads the program's stderr line by line with a 64 KiB limit; a longer
line kills its reader and the program then blocks on stderr for good.  So every
log record becomes one line of at most ``MAX_LOG_LINE`` characters, with
control characters escaped (text from instruments and servers is logged), and
every registered secret and key-like URL parameter replaced by ``<redacted>``.
Lines go to stdout and stderr through ``Writer`` threads with bounded queues:
a reader that stops reading delays no read and no exit; what does not fit is
dropped and counted.
"""

from __future__ import annotations

import logging
import os
import queue
import re
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger("telegraf_inputs")

_PREFIX = {
    logging.DEBUG: "D! ",
    logging.INFO: "I! ",
    logging.WARNING: "W! ",
    logging.ERROR: "E! ",
    logging.CRITICAL: "E! ",
}

#: the longest log line written (Telegraf reads stderr with a 64 KiB line limit; a longer line
#: kills its reader, and the program then blocks on stderr for good)
MAX_LOG_LINE = 4000
#: what the writer queues hold before they drop (lines of output, log records)
OUTPUT_QUEUE = 10_000
LOG_QUEUE = 1_000

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
_SECRET_IN_URL = re.compile(r"(?i)\b(read_key|api_key|key|token|password)=[^&\s'\"]+")


class Redactor(logging.Filter):
    """Replaces every registered secret, and key-like URL parameters, in log records by ``<redacted>``."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def add(self, secret: str) -> None:
        for variant in {secret, secret.strip()}:
            if len(variant) >= 4:  # shorter strings would mask ordinary words; no real key is that short
                self.secrets.add(variant)

    def clean(self, text: str) -> str:
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, "<redacted>")
            text = text.replace(repr(secret)[1:-1], "<redacted>")  # as repr() shows it (b'...\r')
        return _SECRET_IN_URL.sub(r"\1=<redacted>", text)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.clean(record.getMessage())
        record.args = None
        return True


redactor = Redactor()


def one_line(text: str, limit: int = MAX_LOG_LINE) -> str:
    """``text`` as one bounded line: control characters escaped, cut at ``limit`` characters."""
    text = text.replace("\r\n", "\n")
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text).replace("\n", "\\n")
    if len(text) > limit:
        text = text[: limit - 40] + f"... ({len(text) - limit + 40} more characters)"
    return text


def excerpt(text: str, limit: int = 200) -> str:
    """At most ``limit`` characters of a text from outside (a reply), marked where it was cut."""
    return text if len(text) <= limit else text[:limit] + f"... ({len(text) - limit} more characters)"


class TelegrafFormatter(logging.Formatter):
    """One bounded line per record, prefixed with Telegraf's level marker (E!, W!, I!, D!)."""

    def format(self, record: logging.LogRecord) -> str:
        return _PREFIX.get(record.levelno, "I! ") + one_line(super().format(record))


_PIPE_BUF = 4096  # POSIX: a write of at most this many bytes to a pipe with room goes in whole


def _writable_poll(fd: int) -> Any:
    """A poll object watching a pipe ``fd`` (Telegraf's) for room to write; None for other files, or without
    poll (Windows): those always go through the writer thread."""
    import select
    import stat

    make = getattr(select, "poll", None)
    try:
        if make is None or not stat.S_ISFIFO(os.fstat(fd).st_mode):
            return None
    except OSError:
        return None
    poller = make()
    poller.register(fd, getattr(select, "POLLOUT", 4))  # 4: POLLOUT on Linux and the BSDs
    return poller


class Writer:
    """Writes to one file descriptor from a thread of its own, through a bounded queue.

    ``put`` never blocks: when the reader has stopped reading and the queue is
    full, the data is dropped and counted.  ``closed`` is set when the reader
    has gone (broken pipe).
    """

    def __init__(self, fd: int, capacity: int, name: str) -> None:
        self.fd = fd
        self.queue: queue.Queue[bytes] = queue.Queue(capacity)
        self.dropped = 0
        self.closed = threading.Event()
        self.idle = threading.Event()
        self.idle.set()
        self.notify: Callable[[], None] = lambda: None  # told when the reader goes or data is dropped
        self.writing = threading.Lock()  # held while bytes go out: a direct write never overtakes queued ones
        self._poll = _writable_poll(fd)
        threading.Thread(target=self._run, name=name, daemon=True).start()

    def put(self, data: bytes) -> bool:
        if self.closed.is_set():
            return False
        if self._write_now(data):
            return True
        try:
            self.idle.clear()
            self.queue.put_nowait(data)
            return True
        except queue.Full:
            self.dropped += 1
            self.notify()
            return False

    def _write_now(self, data: bytes) -> bool:
        """Write here, without waking the writer thread, when that cannot block: nothing queued, and the pipe
        has room for all of it (at most PIPE_BUF bytes go in whole once poll says it is writable)."""
        if self._poll is None or len(data) > _PIPE_BUF or not self.idle.is_set():
            return False
        if not self.writing.acquire(blocking=False):
            return False
        try:
            if not (self.idle.is_set() and self.queue.empty()) or not self._poll.poll(0):
                return False
            try:
                written = os.write(self.fd, data)
            except BlockingIOError:
                return False
            except OSError:  # the reader has gone
                self.closed.set()
                self.notify()
                return True
            if written < len(data):  # not expected below PIPE_BUF; the rest goes the usual way, in order
                self.idle.clear()
                self.queue.put_nowait(data[written:])
            return True
        finally:
            self.writing.release()

    def _run(self) -> None:
        while True:
            if self.queue.empty():
                self.idle.set()
            data = self.queue.get()
            try:
                with self.writing:
                    view = memoryview(data)
                    while view:
                        view = view[os.write(self.fd, view) :]
            except OSError:  # the reader has gone (EPIPE), or the descriptor is closed
                self.closed.set()
                self.idle.set()
                self.notify()
                return

    def drain(self, timeout: float) -> bool:
        """Wait until everything queued is written (at most ``timeout`` s); True if it was."""
        end = time.monotonic() + timeout
        while not (self.idle.is_set() and self.queue.empty()):
            if time.monotonic() >= end or self.closed.is_set():
                return False
            time.sleep(0.01)
        return True


class QueueHandler(logging.Handler):
    """Hands each formatted log line to a Writer: logging never waits for stderr."""

    def __init__(self, writer: Writer) -> None:
        super().__init__()
        self.writer = writer
        self.reported = 0

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:  # a record that cannot be formatted must not stop a read
            line = "E! (a log line could not be formatted)"
        if self.writer.dropped > self.reported:  # say once what was lost, when there is room again
            lost, self.reported = self.writer.dropped - self.reported, self.writer.dropped
            self.writer.put(f"W! {lost} log line(s) dropped: stderr was not being read\n".encode())
        self.writer.put((line + "\n").encode("utf-8", "replace"))


_stderr: Writer | None = None


def flush(timeout: float = 0.5) -> None:
    """Give the log lines still queued up to ``timeout`` s to reach stderr."""
    if _stderr is not None:
        _stderr.drain(timeout)


def setup_logging(verbose: bool) -> None:
    """Send log lines to stderr with Telegraf's prefixes, bounded, secrets redacted, never blocking."""
    global _stderr
    if _stderr is None:
        _stderr = Writer(sys.stderr.fileno(), LOG_QUEUE, "stderr")
    handler = QueueHandler(_stderr)
    handler.setFormatter(TelegrafFormatter("%(message)s"))
    handler.addFilter(redactor)
    log.handlers[:] = [handler]
    log.setLevel(logging.DEBUG if verbose else logging.INFO)
    log.propagate = False


def describe(exc: BaseException) -> str:
    """A one-line description of an exception for the log, in words where the exception has only numbers.

    pyserial reports an unplugged adapter as ``(5, 'Input/output error')`` or with an
    errno tuple in its arguments; the words are what a user can act on.
    """
    text = ""
    if isinstance(exc, OSError) and exc.strerror:
        text = exc.strerror if not exc.filename else f"{exc.strerror}: {exc.filename}"
    elif len(exc.args) == 1 and isinstance(exc.args[0], tuple) and len(exc.args[0]) == 2:
        code, words = exc.args[0]
        if isinstance(code, int) and isinstance(words, str):
            text = f"{words} (errno {code})"
    if not text:
        text = str(exc).strip() or type(exc).__name__
    return " ".join(text.split())
