"""HTTP GETs of JSON that never trust the server: a size limit, a deadline for the whole reply, keys kept home.

A lean client on the standard library's ``http.client``: one kept-alive
connection per origin, proxies from the environment (``HTTP_PROXY``,
``HTTPS_PROXY``, ``NO_PROXY``, read once), certificates checked against
``REQUESTS_CA_BUNDLE`` / ``CURL_CA_BUNDLE`` when set, else certifi's bundle
where installed, else the system's, as ``requests`` does.  It replaced a
``requests`` session: a GET cost about 1 ms of CPU there (most of it reading
the whole environment for proxies on every request), about 0.2 ms here.
"""

from __future__ import annotations

import http.client
import io
import json
import math
import os
import ssl
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

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


def _environment_proxies() -> dict[str, str]:
    """The proxies the environment names (``http``, ``https``, ``all``, ``no``), read once per client."""
    from urllib.request import getproxies_environment

    return {k.lower(): v for k, v in getproxies_environment().items()}


def _bypassed(host: str, proxies: dict[str, str]) -> bool:
    import urllib.request

    bypass = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]  # public, not in typeshed
    return bool(proxies.get("no")) and bool(bypass(host, proxies))


def _tls_context() -> ssl.SSLContext:
    """Certificates as ``requests`` checks them: the bundle the environment names, certifi's, or the system's."""
    cafile = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or None
    if cafile is None:
        try:
            import certifi

            cafile = certifi.where()
        except ImportError:
            pass
    return ssl.create_default_context(cafile=cafile)


def _idle_and_open(conn: http.client.HTTPConnection) -> bool:
    """A kept-alive connection may be used again: the server has not closed it nor sent anything unasked."""
    import select

    sock = conn.sock
    if sock is None:
        return False
    try:
        if isinstance(sock, ssl.SSLSocket) and sock.pending():
            return False
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return False
    return not readable


class _Link:
    """The kept-alive connection to one origin, and how requests go on it: through an http:// proxy, a request
    names the whole URL and carries the proxy's credentials."""

    __slots__ = ("conn", "absolute", "proxy_headers")

    def __init__(
        self, conn: http.client.HTTPConnection, absolute: bool = False, proxy_headers: dict[str, str] | None = None
    ) -> None:
        self.conn = conn
        self.absolute = absolute
        self.proxy_headers = proxy_headers or {}


class HttpClient:
    """GETs JSON over kept-alive connections: bounded bodies, total deadlines, redirects kept on origin.

    A redirect is followed (up to 3) only to the same scheme, host and port, so
    that headers holding a key are never sent anywhere else; any other is an
    error.  A connection that failed in any way is closed, never used again; a
    kept-alive one is checked before reuse (closed by the server, or holding
    bytes nobody asked for: a new one is opened).
    """

    MAX_REDIRECTS = 3

    def __init__(self) -> None:
        self.deadline = _Deadline()
        self.proxies = _environment_proxies()
        self.connections: dict[tuple[str, str, int | None], _Link] = {}
        self._tls: ssl.SSLContext | None = None

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
            status, reason, reply_headers, body = self._exchange(url, headers, deadline, timeout_s, what)
            if status in (301, 302, 303, 307, 308) and "location" in reply_headers:
                url = urljoin(url, reply_headers["location"])
                if origin(url) != start:
                    scheme, host, port = origin(url)
                    raise HttpError(
                        f"{what}: HTTP {status} redirect to another origin "
                        f"({scheme}://{host}:{port}); not followed, so that the key is not sent there",
                        status,
                    )
                continue
            return body, status, {**reply_headers, "reason": reason}
        raise HttpError(f"{what}: more than {self.MAX_REDIRECTS} redirects")

    def _connection(self, key: tuple[str, str, int | None], timeout: float) -> _Link:
        """The kept-alive connection to an origin, or a new one (through the environment's proxy, if any)."""
        scheme, host, port = key
        link = self.connections.get(key)
        if link is not None and _idle_and_open(link.conn):
            return link
        if link is not None:
            link.conn.close()
        proxy = None if _bypassed(host, self.proxies) else (self.proxies.get(scheme) or self.proxies.get("all"))
        target_host = f"[{host}]" if ":" in host else host
        if scheme == "https" and self._tls is None:
            self._tls = _tls_context()
        if proxy:
            parts = urlsplit(proxy if "://" in proxy else "http://" + proxy)
            if parts.scheme.lower() != "http" or not parts.hostname:
                raise ValueError("only http:// proxies are supported")
            auth = {}
            if parts.username is not None:
                import base64

                pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
                auth["Proxy-Authorization"] = "Basic " + base64.b64encode(pair).decode()
            if scheme == "https":
                tunnel = http.client.HTTPSConnection(parts.hostname, parts.port or 80, timeout=timeout,
                                                     context=self._tls)  # fmt: skip
                tunnel.set_tunnel(target_host, port, headers=auth)
                link = _Link(tunnel)
            else:
                link = _Link(http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=timeout), True, auth)
        elif scheme == "https":
            link = _Link(http.client.HTTPSConnection(target_host, port, timeout=timeout, context=self._tls))
        else:
            link = _Link(http.client.HTTPConnection(target_host, port, timeout=timeout))
        self.connections[key] = link
        return link

    def _exchange(
        self, url: str, headers: dict[str, str], deadline: float, timeout_s: float, what: str, retry: bool = True
    ) -> tuple[int, str, dict[str, str], bytes]:
        """One GET: status, reason, headers (lower-case names) and the body, all within the deadline.

        A kept-alive connection the server closes just as the request goes out (its idle timeout) fails
        before any reply: the GET is sent once more, on a new connection, as browsers do.
        """
        key = origin(url)
        parts = urlsplit(url)
        if key[0] not in ("http", "https") or not key[1]:
            raise HttpError(f"{what}: the request could not be sent (check the URL and the key)")
        conn: http.client.HTTPConnection | None = None
        answered = False
        reused = False
        try:
            link = self._connection(key, max(0.001, deadline - time.monotonic()))
            conn = link.conn
            reused = conn.sock is not None
            target = url if link.absolute else (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            conn.timeout = max(0.001, deadline - time.monotonic())
            if conn.sock is None:
                conn.connect()
            else:
                conn.sock.settimeout(conn.timeout)
            conn.putrequest("GET", target)
            sent = {"User-Agent": "telegraf-lab", "Accept": "application/json", **headers, **link.proxy_headers}
            for name, value in sent.items():
                conn.putheader(name, value)
            conn.endheaders()
            real = conn.sock
            conn.sock = _DeadlineSocket(real, self.deadline)  # the status line and headers, within the deadline
            try:
                response = conn.getresponse()
            finally:
                if conn.sock is not None:
                    conn.sock = real
            answered = True
            reply_headers = {k.lower(): v for k, v in response.getheaders()}
            body = self._body(response, reply_headers, deadline, timeout_s, what)
            return response.status, response.reason or "", reply_headers, body
        except HttpError:
            self._drop(key, conn)
            raise
        except ValueError:  # an invalid header value (a key with a line break), an invalid URL or port
            self._drop(key, conn)
            raise HttpError(f"{what}: the request could not be sent (check the URL and the key)") from None
        except (OSError, http.client.HTTPException) as exc:
            self._drop(key, conn)
            if retry and reused and not answered and isinstance(exc, (ConnectionResetError, BrokenPipeError)):
                return self._exchange(url, headers, deadline, timeout_s, what, retry=False)
            raise HttpError(f"{what}: {why(exc)}") from None

    def _body(
        self, response: http.client.HTTPResponse, headers: dict[str, str], deadline: float, timeout_s: float, what: str
    ) -> bytes:
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_BODY:
            raise HttpError(f"{what}: reply of {int(declared)} bytes, over the limit of {MAX_BODY}")
        body = bytearray()
        try:
            while True:
                chunk = response.read1(65536)
                if not chunk:
                    break
                if len(body) + len(chunk) > MAX_BODY:
                    raise HttpError(f"{what}: reply longer than {MAX_BODY} bytes; not read further")
                if time.monotonic() > deadline:
                    raise HttpError(f"{what}: reply not complete within the timeout of {timeout_s:g} s")
                body += chunk
            if declared.isdigit() and len(body) < int(declared):  # read1 returns b"" at a close, not an error
                raise http.client.IncompleteRead(bytes(body), int(declared) - len(body))
            response.close()  # the whole body is read: the connection may carry the next request
        except HttpError:
            raise
        except (OSError, http.client.HTTPException, ValueError) as exc:  # cut short, a bad chunk, the deadline
            if why(exc) == "timed out":
                raise HttpError(f"{what}: reply not complete within the timeout of {timeout_s:g} s") from None
            raise HttpError(f"{what}: reply cut short ({why(exc)})") from None
        return bytes(body)

    def _drop(self, key: tuple[str, str, int | None], conn: http.client.HTTPConnection | None) -> None:
        """A connection that failed is never used again: a late reply on it cannot answer a later question."""
        if conn is not None:
            conn.close()
        link = self.connections.get(key)
        if link is not None and link.conn is conn:
            self.connections.pop(key, None)

    def close(self) -> None:
        for link in self.connections.values():
            link.conn.close()
        self.connections.clear()
