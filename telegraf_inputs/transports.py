"""Connections that never trust the other end: every reply has a size limit and a deadline.

``LineSocket`` speaks newline-terminated messages over TCP (SCPI's raw socket,
port 5025 on most instruments): a reply is read to its terminator, but never
past ``max_reply`` bytes and never past the reply's deadline, however slowly or
endlessly the bytes come.  A reply that does not come in time may still come
later, and would then be read as the answer to the next question: so the
connection is closed then, and the next message opens a new one (a TCP
connection's late bytes never reach another).  ``canonical_resource`` gives one spelling of a VISA
resource name, so that two spellings of one instrument share one connection.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import socket
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urljoin, urlsplit

#: the longest reply read from an instrument; a longer one is an error (and the connection is dropped)
MAX_REPLY = 256 * 1024

_SOCKET = re.compile(r"\s*TCPIP(\d*)::([^:]+|\[[0-9a-fA-F:.]+\])::(\d+)::SOCKET\s*", re.I)
_INSTR = re.compile(r"\s*TCPIP(\d*)::([^:]+|\[[0-9a-fA-F:.]+\])(?:::([^:]+))?::INSTR\s*", re.I)
_OTHER = re.compile(r"\s*([A-Za-z]+)(\d*)(::.*)?", re.S)


#: a serial line drained after a failed reply (it cannot tell a late reply from the next) is given up on
#: when it is still sending after this many Timeouts
DRAIN_TIMEOUTS = 3


class ReplyError(Exception):
    """A reply that is too long, too slow, or cut off; the message says which."""


def socket_address(resource: str) -> tuple[str, int] | None:
    """(host, port) of a ``TCPIP[board]::host::port::SOCKET`` resource, or None for any other."""
    match = _SOCKET.fullmatch(resource)
    if match is None:
        return None
    return match.group(2).strip("[]"), int(match.group(3))


def canonical_resource(resource: str) -> str:
    """One spelling of a VISA resource: board 0 written out, default LAN device name, letter case of VISA.

    ``TCPIP::Host::5025::SOCKET`` and ``tcpip0::host::5025::socket`` are both
    ``TCPIP0::host::5025::SOCKET``; ``TCPIP::host::INSTR`` is ``TCPIP0::host::inst0::INSTR``.
    Host names are compared without letter case, as DNS does.  Serial resources
    (``ASRL/dev/ttyUSB0::INSTR``) name the port after symlinks are resolved.
    """
    match = _SOCKET.fullmatch(resource)
    if match is not None:
        return f"TCPIP{match.group(1) or 0}::{match.group(2).lower()}::{int(match.group(3))}::SOCKET"
    match = _INSTR.fullmatch(resource)
    if match is not None:
        device = (match.group(3) or "inst0").lower()
        return f"TCPIP{match.group(1) or 0}::{match.group(2).lower()}::{device}::INSTR"
    if resource.strip().upper().startswith("ASRL"):
        port, _, rest = resource.strip()[4:].partition("::")
        if port.startswith("/"):
            port = os.path.realpath(port)
        return f"ASRL{port}::{rest.upper() or 'INSTR'}"
    match = _OTHER.fullmatch(resource)
    if match is not None:
        return f"{match.group(1).upper()}{match.group(2) or 0}{(match.group(3) or '').upper()}"
    return resource.strip()


def serial_port_key(address: str) -> str:
    """One name for a serial port: symlinks (``/dev/serial/by-id/...``) resolved; URLs and COMn as they are."""
    address = address.strip()
    if "://" in address:
        return address
    if re.fullmatch(r"(?i)com\d+", address):
        return address.upper()
    return os.path.realpath(address)


class LineSocket:
    """A TCP connection exchanging newline-terminated text messages, with bounded replies."""

    def __init__(
        self,
        host: str,
        port: int,
        timeout_s: float,
        max_reply: int = MAX_REPLY,
        read_termination: str = "\n",
        write_termination: str = "\n",
    ) -> None:
        self.address = (host, port)
        self.timeout_s = timeout_s
        self.max_reply = max_reply
        self.read_termination = read_termination.encode("ascii")
        self.write_termination = write_termination.encode("ascii")
        self.pending = bytearray()
        self.reconnects = 0  # connections opened again after a reply that did not come in time
        self._reopen = False  # closed on purpose (a reply owed): the next write opens a new connection
        self.sock: socket.socket | None = self._connect()

    def _connect(self) -> socket.socket:
        sock = socket.create_connection(self.address, timeout=self.timeout_s)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    @property
    def closed(self) -> bool:
        """True once the connection was dropped for good (an endless or cut-off reply, the other end gone).

        After a reply that did not come at all it is not: the next message goes out on a new connection.
        """
        return self.sock is None and not self._reopen

    def write(self, message: str) -> None:
        """Send one message and its terminator (a newline unless set otherwise)."""
        if self.sock is None:
            if not self._reopen:
                raise ConnectionError("the connection is closed")
            self.sock = self._connect()  # OSError (refused, unreachable) is the caller's to report
            self._reopen = False
            self.reconnects += 1
        self.sock.sendall(message.encode("ascii", "replace") + self.write_termination)

    def read(self) -> str:
        """The next reply, without its terminator; ReplyError if it is too long or not done within the timeout."""
        if self.sock is None:
            raise ConnectionError("the connection is closed")
        deadline = time.monotonic() + self.timeout_s
        term = self.read_termination
        while (end := self.pending.find(term)) < 0:
            if len(self.pending) > self.max_reply:
                self.close()  # the rest of an endless reply would be taken for the next one
                raise ReplyError(f"reply longer than {self.max_reply} bytes without an end; connection dropped")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                if not self.pending:  # nothing came yet; what comes later would answer the next question
                    self.close()
                    self._reopen = True
                    raise ReplyError(f"no reply within the timeout of {self.timeout_s:g} s")
                got = len(self.pending)
                self.close()  # the rest of a partial reply would be taken for the next one
                raise ReplyError(f"reply not complete within the timeout of {self.timeout_s:g} s ({got} bytes came)")
            self.sock.settimeout(remaining)
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                continue  # the deadline check above ends it
            if not data:
                self.close()
                raise ConnectionError("the instrument closed the connection")
            self.pending += data
        reply = bytes(self.pending[:end])
        del self.pending[: end + len(term)]
        return reply.decode("ascii", "replace").rstrip("\r")

    def query(self, message: str) -> str:
        """Send a message and read its reply."""
        self.write(message)
        return self.read()

    def close(self) -> None:
        """Close the connection; must not raise."""
        sock, self.sock = self.sock, None
        self._reopen = False
        self.pending.clear()
        if sock is not None:
            try:
                sock.close()
            except OSError:
                pass


# -- HTTP --------------------------------------------------------------------------------------------
#: the largest HTTP body read.  A reply holds the few fields a lab's channels ask for: 256 KiB is tens of
#: thousands of sensor-fields.  Kept small: every endless body read to the limit leaves the allocator's
#: high-water mark (RSS) about that much higher (8 MiB cost 13.8 MB in the soak, 1 MiB still 1.2 MB).
MAX_BODY = 256 * 1024


class HttpError(Exception):
    """An HTTP exchange failed.  The message never holds the URL's query or a header value (keys)."""

    def __init__(self, message: str, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


def origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) of a URL, the port made explicit; what a credential is tied to."""
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme.lower())
    return parts.scheme.lower(), (parts.hostname or "").lower(), port


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """An HTTP Retry-After value in seconds: delta-seconds or an HTTP-date (RFC 9110); None if neither."""
    if value is None:
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        return float(min(int(text), 10**7))
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def why(exc: BaseException) -> str:
    """Words for a failed connection, from the innermost OS error; never the exception's own text (URLs)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, TimeoutError) or type(current).__name__ in ("ConnectTimeout", "ReadTimeout"):
            return "timed out"
        if isinstance(current, OSError) and current.strerror:
            return current.strerror
        nested = [a for a in getattr(current, "args", ()) if isinstance(a, BaseException)]
        reason = getattr(current, "reason", None)
        current = (
            reason
            if isinstance(reason, BaseException)
            else nested[0]
            if nested
            else current.__cause__ or current.__context__
        )
    return type(exc).__name__


def error_and_description(body: Any) -> str:
    """An error body of the {"error": ..., "description": ...} kind, worded."""
    return f"{body.get('error', '?')}: {body.get('description', '')}".rstrip(": ")


class _Deadline:
    """When the current request of a client must be complete (monotonic seconds), for its connections."""

    at = math.inf


class _DeadlineReader(io.RawIOBase):
    """A socket's reading side that stops at a deadline, however the bytes trickle in.

    ``requests`` and ``urllib3`` bound each read of a socket, not a reply: a server sending one header
    byte every half second would hold a request for as long as it likes.
    """

    def __init__(self, sock: Any, deadline: _Deadline) -> None:
        self.sock = sock
        self.raw = sock.makefile("rb", buffering=0)  # the socket's own file: it stays open while this is read
        self.deadline = deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        remaining = self.deadline.at - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the reply was not complete within the timeout")
        before = self.sock.gettimeout()
        self.sock.settimeout(remaining if before is None else min(before, remaining))
        try:
            return int(self.raw.readinto(buffer) or 0)
        finally:
            self.sock.settimeout(before)

    def close(self) -> None:
        self.raw.close()
        super().close()


class _DeadlineSocket:
    """A connected socket (plain or TLS) whose files read to the client's deadline; the rest is the socket's."""

    def __init__(self, sock: Any, deadline: _Deadline) -> None:
        self._sock = sock
        self._deadline = deadline

    def makefile(self, mode: str = "r", *args: Any, **kwargs: Any) -> io.BufferedReader:
        return io.BufferedReader(_DeadlineReader(self._sock, self._deadline))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


def _deadline_adapter(deadline: _Deadline) -> Any:
    """A requests adapter whose connections read every reply, headers included, within ``deadline``."""
    from requests.adapters import HTTPAdapter
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    def bounded(base: type) -> type:
        class Connection(base):  # type: ignore[misc, valid-type]
            def getresponse(self, *args: Any, **kwargs: Any) -> Any:
                real: Any = self.sock  # type: ignore[has-type]
                wrapper = _DeadlineSocket(real, deadline) if real is not None else None
                self.sock = wrapper
                try:
                    return super().getresponse(*args, **kwargs)
                finally:
                    if self.sock is wrapper:  # not closed meanwhile (a reply that ends the connection)
                        self.sock = real

        return Connection

    pools = {
        "http": type("Pool", (HTTPConnectionPool,), {"ConnectionCls": bounded(HTTPConnection)}),
        "https": type("TlsPool", (HTTPSConnectionPool,), {"ConnectionCls": bounded(HTTPSConnection)}),
    }

    class Adapter(HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = pools

        def proxy_manager_for(self, *args: Any, **kwargs: Any) -> Any:
            manager = super().proxy_manager_for(*args, **kwargs)
            manager.pool_classes_by_scheme = pools
            return manager

    return Adapter()


class HttpClient:
    """GETs JSON over one kept-alive ``requests.Session``: bounded bodies, total deadlines, redirects kept on origin.

    A redirect is followed (up to 3) only to the same scheme, host and port, so
    that headers holding a key are never sent anywhere else; any other is an
    error.  Proxies come from the environment, as users expect of ``requests``.
    """

    MAX_REDIRECTS = 3

    def __init__(self) -> None:
        import requests

        self.requests = requests
        self.session = requests.Session()
        self.deadline = _Deadline()
        adapter = _deadline_adapter(self.deadline)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def get_json(
        self,
        url: str,
        headers: dict[str, str],
        timeout_s: float,
        what: str,
        detail: Callable[[Any], str] = error_and_description,
    ) -> Any:
        """The decoded JSON body of a GET; HttpError (message safe to log) on any failure.

        ``detail`` words an error reply's JSON body; a body it cannot word (TypeError, KeyError,
        AttributeError) is left out of the message.
        """
        deadline = time.monotonic() + timeout_s
        self.deadline.at = deadline
        try:
            body, status, reply_headers = self._get(url, headers, deadline, timeout_s, what)
        finally:
            self.deadline.at = math.inf
        if status >= 400:
            detail_text = ""
            try:
                worded = detail(json.loads(body))
                detail_text = f": {worded}" if worded else ""
            except (ValueError, AttributeError, RecursionError, TypeError, KeyError):
                pass
            reason = reply_headers.get("reason", "")
            raise HttpError(
                f"{what}: HTTP {status} {reason}{detail_text[:500]}".rstrip(),
                status,
                retry_after_seconds(reply_headers.get("retry-after")),
            )
        try:
            return json.loads(body)
        except (ValueError, RecursionError) as exc:
            raise HttpError(f"{what}: invalid JSON in the reply ({str(exc)[:200]})") from None

    def _get(self, url: str, headers: dict[str, str], deadline: float, timeout_s: float, what: str) -> Any:
        start = origin(url)
        for _ in range(self.MAX_REDIRECTS + 1):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise HttpError(f"{what}: no complete reply within the timeout of {timeout_s:g} s")
            try:
                response = self.session.get(url, headers=headers, timeout=remaining, allow_redirects=False, stream=True)
            except self.requests.RequestException as exc:
                raise HttpError(f"{what}: {why(exc)}") from None
            except ValueError:  # an invalid header value (a key with a line break), an invalid URL
                raise HttpError(f"{what}: the request could not be sent (check the URL and the key)") from None
            with response:
                if response.is_redirect:
                    target = response.headers.get("location", "")
                    url = urljoin(url, target)
                    if origin(url) != start:
                        scheme, host, port = origin(url)
                        raise HttpError(
                            f"{what}: HTTP {response.status_code} redirect to another origin "
                            f"({scheme}://{host}:{port}); not followed, so that the key is not sent there",
                            response.status_code,
                        )
                    continue
                body = self._body(response, deadline, timeout_s, what)
                reply_headers = {k.lower(): v for k, v in response.headers.items()}
                return body, response.status_code, {**reply_headers, "reason": response.reason or ""}
        raise HttpError(f"{what}: more than {self.MAX_REDIRECTS} redirects")

    def _body(self, response: Any, deadline: float, timeout_s: float, what: str) -> bytes:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_BODY:
            raise HttpError(f"{what}: reply of {int(declared)} bytes, over the limit of {MAX_BODY}")
        body = bytearray()
        try:
            while True:
                chunk = response.raw.read1(65536) if hasattr(response.raw, "read1") else response.raw.read(65536)
                if not chunk:
                    break
                if len(body) + len(chunk) > MAX_BODY:
                    raise HttpError(f"{what}: reply longer than {MAX_BODY} bytes; not read further")
                if time.monotonic() > deadline:
                    raise HttpError(f"{what}: reply not complete within the timeout of {timeout_s:g} s")
                body += chunk
        except HttpError:
            raise
        except Exception as exc:  # requests' and urllib3's errors (a cut-short body, a bad chunk, the deadline)
            if why(exc) == "timed out":
                raise HttpError(f"{what}: reply not complete within the timeout of {timeout_s:g} s") from None
            raise HttpError(f"{what}: reply cut short ({why(exc)})") from None
        return bytes(body)

    def close(self) -> None:
        self.session.close()
