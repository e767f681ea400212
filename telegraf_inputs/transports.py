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

import os
import re
import socket
import time

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
