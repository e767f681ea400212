"""The HTTP families' client over real sockets: proxies from the environment, keep-alive, and nothing unasked read.

The servers here are raw sockets on 127.0.0.1 that record the bytes they get, so the tests see the exact request
line and headers.  The proxy answers by itself: a host behind it (``instrument.invalid``) is never resolved.
"""

from __future__ import annotations

import json
import socket
import time
from typing import Any

import pytest

from telegraf_inputs.http_client import HttpClient, HttpError
from tests.tcp import TcpServer


class RawServer(TcpServer):
    """Answers each request on a connection with ``{"n": <request number>}``; records requests and connections.

    ``then`` is sent on the connection right after the first reply, unasked (a late or stray reply);
    ``close_after_reply`` closes each connection after its reply, as a server ending keep-alive does.
    """

    def __init__(self, then: bytes = b"", close_after_reply: bool = False) -> None:
        self.requests: list[bytes] = []
        self.then, self.close_after_reply = then, close_after_reply
        super().__init__()

    def talk(self, conn: socket.socket) -> None:
        data = b""
        with conn:
            try:
                while True:
                    while b"\r\n\r\n" not in data:
                        chunk = conn.recv(4096)
                        if not chunk:
                            return
                        data += chunk
                    head, data = data.split(b"\r\n\r\n", 1)
                    self.requests.append(head)
                    body = json.dumps({"n": len(self.requests)}).encode()
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                                 + str(len(body)).encode() + b"\r\n\r\n" + body)  # fmt: skip
                    if self.then:
                        # later than the reply: in the same segment, the client's reader may take it with the
                        # reply and drop it unread, and the test would not show that the socket is checked
                        time.sleep(0.05)
                        conn.sendall(self.then)
                        self.then = b""
                    if self.close_after_reply:
                        return
            except OSError:
                return

    def stop(self) -> None:
        self.server.close()


@pytest.fixture
def no_proxies(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    return monkeypatch


def get(client: HttpClient, url: str, headers: dict[str, str] | None = None) -> Any:
    return client.get_json(url, headers or {}, 2.0, "GET test")


def test_a_proxy_from_the_environment_gets_the_absolute_url_and_its_credentials(no_proxies: Any) -> None:
    proxy = RawServer()
    no_proxies.setenv("HTTP_PROXY", f"http://lab%20user:s3cret@127.0.0.1:{proxy.port}")
    client = HttpClient()
    try:
        assert get(client, "http://instrument.invalid:8080/json?live=true", {"X-API-Key": "k"}) == {"n": 1}
    finally:
        client.close()
        proxy.stop()
    head = proxy.requests[0].decode()
    assert head.startswith("GET http://instrument.invalid:8080/json?live=true HTTP/1.1\r\n")
    assert "Proxy-Authorization: Basic bGFiIHVzZXI6czNjcmV0" in head  # base64 of "lab user:s3cret"
    assert "X-API-Key: k" in head


def test_no_proxy_sends_straight_to_the_host(no_proxies: Any) -> None:
    proxy, server = RawServer(), RawServer()
    no_proxies.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.port}")
    no_proxies.setenv("NO_PROXY", "127.0.0.1,localhost")
    client = HttpClient()
    try:
        assert get(client, f"http://127.0.0.1:{server.port}/a") == {"n": 1}
    finally:
        client.close()
        proxy.stop()
        server.stop()
    assert proxy.requests == [] and server.requests[0].startswith(b"GET /a HTTP/1.1\r\n")
    assert b"Proxy-Authorization" not in server.requests[0]


def test_one_connection_is_kept_alive_and_a_closed_one_is_replaced(no_proxies: Any) -> None:
    kept, closing = RawServer(), RawServer(close_after_reply=True)
    client = HttpClient()
    try:
        answers = [get(client, f"http://127.0.0.1:{kept.port}/x")["n"] for _ in range(5)]
        assert answers == [1, 2, 3, 4, 5] and kept.connections == 1
        again = [get(client, f"http://127.0.0.1:{closing.port}/x")["n"] for _ in range(3)]
        assert again == [1, 2, 3] and closing.connections == 3  # no failed read: the closed one was seen
    finally:
        client.close()
        kept.stop()
        closing.stop()


def test_bytes_nobody_asked_for_are_never_read_as_the_next_answer(no_proxies: Any) -> None:
    stray = json.dumps({"n": 999}).encode()
    server = RawServer(then=b"HTTP/1.1 200 OK\r\nContent-Length: " + str(len(stray)).encode() + b"\r\n\r\n" + stray)
    client = HttpClient()
    try:
        assert get(client, f"http://127.0.0.1:{server.port}/x") == {"n": 1}
        time.sleep(0.4)  # the stray reply is in the socket now
        assert get(client, f"http://127.0.0.1:{server.port}/x") == {"n": 2}
        assert server.connections == 2  # the connection holding it was dropped
    finally:
        client.close()
        server.stop()


def test_a_key_with_a_line_break_is_refused_before_anything_is_sent(no_proxies: Any) -> None:
    server = RawServer()
    client = HttpClient()
    try:
        with pytest.raises(HttpError, match="could not be sent"):
            get(client, f"http://127.0.0.1:{server.port}/x", {"X-API-Key": "k\r\nX-Evil: 1"})
    finally:
        client.close()
        server.stop()
    assert all(b"X-Evil" not in r for r in server.requests)
