"""HiSLIP 1.0 (IVI-6.1) in front of a simulator's text socket: the server side pyvisa-py's client talks to.

The sync channel carries Data/DataEnd messages both ways; the async channel the session set-up, the
maximum message size, status queries and the first half of a device clear.  See lan_sim.py for the
gateway the simulators share.
"""

from __future__ import annotations

import itertools
import socket
import struct
import threading
from collections import deque

from .lan_sim import MAX_MESSAGE, Bridge, Gateway, LinkClosed, recv_exact

# HiSLIP message types
INITIALIZE, INITIALIZE_RESPONSE, FATAL_ERROR = 0, 1, 2
ASYNC_LOCK, ASYNC_LOCK_RESPONSE, DATA, DATA_END = 4, 5, 6, 7
DEVICE_CLEAR_COMPLETE, DEVICE_CLEAR_ACKNOWLEDGE = 8, 9
ASYNC_REMOTE_LOCAL, ASYNC_REMOTE_LOCAL_RESPONSE, TRIGGER = 10, 11, 12
ASYNC_MAX_MSG_SIZE, ASYNC_MAX_MSG_SIZE_RESPONSE, ASYNC_INITIALIZE, ASYNC_INITIALIZE_RESPONSE = 15, 16, 17, 18
ASYNC_DEVICE_CLEAR, ASYNC_STATUS_QUERY, ASYNC_STATUS_RESPONSE, ASYNC_DEVICE_CLEAR_ACKNOWLEDGE = 19, 21, 22, 23
ASYNC_LOCK_INFO, ASYNC_LOCK_INFO_RESPONSE = 24, 25
HISLIP_HEADER = struct.Struct("!2sBBIQ")
HISLIP_VERSION = 0x0100  # 1.0
HISLIP_PORT = 4880


class HislipSession:
    """One client's synchronous and asynchronous channels, its bridge, and the queries owed an answer."""

    def __init__(self, sync: socket.socket, bridge: Bridge) -> None:
        self.sync, self.bridge = sync, bridge
        self.async_channel: socket.socket | None = None
        self.owed: deque[int] = deque()  # message ids of queries, oldest first: each reply goes to one
        self.lock = threading.Lock()  # one writer on the sync channel; a clear and a reply never interleave
        self.generation = 0  # bumped by a clear: a reply read before it is not sent after it
        self.incoming = bytearray()


def hislip(kind: int, control: int = 0, parameter: int = 0, payload: bytes = b"") -> bytes:
    return HISLIP_HEADER.pack(b"HS", kind, control, parameter, len(payload)) + payload


def read_hislip(sock: socket.socket) -> tuple[int, int, int, bytes]:
    prologue, kind, control, parameter, size = HISLIP_HEADER.unpack(recv_exact(sock, HISLIP_HEADER.size))
    if prologue != b"HS" or size > MAX_MESSAGE:
        sock.sendall(hislip(FATAL_ERROR, 1, 0, b"poorly formed message header"))
        raise LinkClosed
    return kind, control, parameter, recv_exact(sock, size)


class HislipGateway(Gateway):
    """A HiSLIP 1.0 server, without overlap mode, locking or TLS (what pyvisa-py asks for).

    ``address`` is ``TCPIP0::host::hislip0::INSTR`` on port 4880, ``TCPIP0::host::hislip0,port::INSTR`` otherwise.
    """

    def __init__(
        self, target: tuple[str, int], reply_end: bytes, host: str = "127.0.0.1", standard_port: bool = False
    ) -> None:
        super().__init__(target, reply_end, host, HISLIP_PORT if standard_port else 0)
        self.sessions: dict[int, HislipSession] = {}
        self._ids = itertools.count(1)
        self.messages: list[int] = []  # every message type received, in order (tests read it)

    @property
    def address(self) -> str:
        if self.port == HISLIP_PORT:
            return f"TCPIP0::{self.host}::hislip0::INSTR"
        return f"TCPIP0::{self.host}::hislip0,{self.port}::INSTR"

    def serve(self, server: socket.socket, conn: socket.socket) -> None:
        kind, _control, parameter, _payload = read_hislip(conn)
        self.messages.append(kind)
        if kind == INITIALIZE:
            session_id = next(self._ids) & 0xFFFF
            session = HislipSession(conn, Bridge(self.target, self.reply_end))
            self.sessions[session_id] = session
            conn.sendall(hislip(INITIALIZE_RESPONSE, 0, HISLIP_VERSION << 16 | session_id))
            threading.Thread(target=self._replies, args=(session,), daemon=True).start()
            try:
                self._sync(session)
            finally:
                self.sessions.pop(session_id, None)
                self._end(session)
        elif kind == ASYNC_INITIALIZE and parameter in self.sessions:
            session = self.sessions[parameter]
            session.async_channel = conn
            conn.sendall(hislip(ASYNC_INITIALIZE_RESPONSE, 0, int.from_bytes(b"TL\0\0", "big")))
            try:
                self._async(session)
            finally:
                self._end(session)
        else:
            conn.sendall(hislip(FATAL_ERROR, 3, 0, b"invalid initialization sequence"))

    def _end(self, session: HislipSession) -> None:
        """Either channel ending ends the session: both channels and the bridge are closed."""
        session.bridge.close()
        for channel in (session.sync, session.async_channel):
            if channel is not None:
                try:
                    channel.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def _sync(self, session: HislipSession) -> None:
        while True:
            kind, control, parameter, payload = read_hislip(session.sync)
            self.messages.append(kind)
            if kind in (DATA, DATA_END):
                session.incoming += payload
                if len(session.incoming) > MAX_MESSAGE:
                    raise LinkClosed
                if kind == DATA_END:
                    message, session.incoming = bytes(session.incoming), bytearray()
                    with session.lock:
                        if b"?" in message:  # a query: the reply it gets carries its message id
                            session.owed.append(parameter)
                        session.bridge.send(message)
            elif kind == DEVICE_CLEAR_COMPLETE:
                with session.lock:
                    old, session.bridge = session.bridge, Bridge(self.target, self.reply_end)
                    session.generation += 1
                    session.owed.clear()
                    session.incoming.clear()
                    old.close()
                    session.sync.sendall(hislip(DEVICE_CLEAR_ACKNOWLEDGE, control & 1))
            elif kind == TRIGGER:
                continue
            else:
                session.sync.sendall(hislip(3, 1, 0, b"unrecognized message type"))  # Error, non-fatal

    def _async(self, session: HislipSession) -> None:
        channel = session.async_channel
        assert channel is not None
        while True:
            kind, control, parameter, payload = read_hislip(channel)
            self.messages.append(kind)
            if kind == ASYNC_MAX_MSG_SIZE and len(payload) == 8:
                (wanted,) = struct.unpack("!Q", payload)
                channel.sendall(hislip(ASYNC_MAX_MSG_SIZE_RESPONSE, 0, 0, struct.pack("!Q", min(wanted, MAX_MESSAGE))))
            elif kind == ASYNC_DEVICE_CLEAR:
                channel.sendall(hislip(ASYNC_DEVICE_CLEAR_ACKNOWLEDGE, 0))  # feature bitmap: no overlap
            elif kind == ASYNC_STATUS_QUERY:
                channel.sendall(hislip(ASYNC_STATUS_RESPONSE, 0))
            elif kind == ASYNC_LOCK_INFO:
                channel.sendall(hislip(ASYNC_LOCK_INFO_RESPONSE, 0, 0))
            elif kind == ASYNC_LOCK:
                channel.sendall(hislip(ASYNC_LOCK_RESPONSE, 1))
            elif kind == ASYNC_REMOTE_LOCAL:
                channel.sendall(hislip(ASYNC_REMOTE_LOCAL_RESPONSE))
            else:
                channel.sendall(hislip(3, 1, 0, b"unrecognized message type"))

    def _replies(self, session: HislipSession) -> None:
        """Pass each whole reply from the simulator to the client, under the id of the query it answers."""
        while True:
            with session.lock:
                bridge, generation = session.bridge, session.generation
            try:
                got = bridge.take(MAX_MESSAGE, None, None)
            except (LinkClosed, OSError):
                if bridge is session.bridge and generation == session.generation:
                    self._end(session)  # the simulator went away, not a clear renewing the bridge
                    return
                continue
            if got is None:
                continue
            with session.lock:
                if generation != session.generation:
                    continue  # read before a clear: dropped with everything else owed
                message_id = session.owed.popleft() if session.owed else 0xFFFF_FFFF
                try:
                    session.sync.sendall(hislip(DATA_END, 0, message_id, got[0]))
                except OSError:
                    return
