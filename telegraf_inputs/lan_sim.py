"""VXI-11 and HiSLIP in front of a simulator's TCP socket, as a LAN gateway puts them in front of an instrument.

The older logger's devices files, and most labs', name LAN instruments as
``TCPIP0::<host>::inst0::INSTR`` (VXI-11: ONC RPC, found through the portmapper
on port 111) or ``TCPIP0::<host>::hislip0::INSTR`` (HiSLIP, port 4880).
pyvisa-py reads them with clients of its own.  A gateway here speaks the
server side of either protocol and passes each message on to a simulator's
TCP text socket, and each reply back:

- a message is whole when its last piece comes (VXI-11's END flag, HiSLIP's
  ``DataEnd``); a reply is whole at the simulator's reply terminator;
- a device clear (VXI-11 ``device_clear``, HiSLIP's async/sync clear pair)
  drops everything owed: the connection to the simulator is opened anew, so a
  late reply goes to a socket that is gone, as an instrument's output queue
  is emptied by the clear;
- the simulator closing its socket (a dropped connection, the instrument
  switched off) closes the client's link too, and ``disconnect()`` drops every
  link (a cable pulled).

Faults are the simulator's own (late, silent, cut short, garbled, dropped):
they reach the client through whichever protocol it speaks.  Sizes are bounded
on both sides: an RPC record or HiSLIP message past ``MAX_MESSAGE`` ends the link.

Facts from the specifications (VXI-11 rev. 1.0, RFC 1057 for RPC and the
portmapper, IVI-6.1 for HiSLIP); pyvisa-py's clients are what the tests hold
them to.
"""

from __future__ import annotations

import itertools
import re
import socket
import struct
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from .simulators import close_server

if TYPE_CHECKING:
    from .hislip_sim import HislipGateway

MAX_MESSAGE = 1 << 20  # bytes in one RPC record or HiSLIP message, either way

# -- ONC RPC (RFC 1057) --------------------------------------------------------------------------------
PORTMAPPER_PROG, PORTMAPPER_VERS, PMAPPROC_GETPORT = 100000, 2, 3
CORE_PROG, CORE_VERS = 0x0607AF, 1
IPPROTO_TCP = 6
CALL, REPLY, MSG_ACCEPTED = 0, 1, 0
SUCCESS, PROG_UNAVAIL, PROG_MISMATCH, PROC_UNAVAIL = 0, 1, 2, 3
LAST_FRAGMENT = 0x8000_0000

# VXI-11 core procedures and what is used of their constants
CREATE_LINK, DEVICE_WRITE, DEVICE_READ, DEVICE_READSTB = 10, 11, 12, 13
DEVICE_TRIGGER, DEVICE_CLEAR, DEVICE_REMOTE, DEVICE_LOCAL, DEVICE_LOCK, DEVICE_UNLOCK = 14, 15, 16, 17, 18, 19
DESTROY_LINK = 23
NO_ERROR, INVALID_LINK, IO_TIMEOUT = 0, 4, 15
OP_FLAG_END, OP_FLAG_TERMCHAR_SET = 8, 128
RX_REQCNT, RX_CHR, RX_END = 1, 2, 4

PORTMAPPER_PORT = 111


class LinkClosed(Exception):
    """The client, or the simulator behind the gateway, closed the connection."""


def recv_exact(sock: socket.socket, size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        chunk = sock.recv(min(65536, size - len(data)))
        if not chunk:
            raise LinkClosed
        data += chunk
    return bytes(data)


class Xdr:
    """Reads XDR (RFC 1014) items off one record, refusing to read past its end."""

    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def uint(self) -> int:
        if self.at + 4 > len(self.data):
            raise LinkClosed
        (value,) = struct.unpack_from("!I", self.data, self.at)
        self.at += 4
        return int(value)

    def int(self) -> int:
        value = self.uint()
        return value - (1 << 32) if value & 0x8000_0000 else value

    def opaque(self) -> bytes:
        size = self.uint()
        if self.at + size > len(self.data):
            raise LinkClosed
        value = self.data[self.at : self.at + size]
        self.at += (size + 3) // 4 * 4
        return value


def xdr(*items: int | bytes) -> bytes:
    """Integers as 4-byte unsigned (negative ones as two's complement), bytes as variable-length opaque."""
    out = bytearray()
    for item in items:
        if isinstance(item, bytes):
            out += struct.pack("!I", len(item)) + item + b"\0" * (-len(item) % 4)
        else:
            out += struct.pack("!I", item & 0xFFFF_FFFF)
    return bytes(out)


def read_record(sock: socket.socket) -> bytes:
    """One RPC record over TCP (record marking: fragments, each after a 4-byte length, the last one flagged)."""
    record = bytearray()
    while True:
        (mark,) = struct.unpack("!I", recv_exact(sock, 4))
        size = mark & ~LAST_FRAGMENT
        if len(record) + size > MAX_MESSAGE:
            raise LinkClosed
        record += recv_exact(sock, size)
        if mark & LAST_FRAGMENT:
            return bytes(record)


def send_record(sock: socket.socket, record: bytes) -> None:
    sock.sendall(struct.pack("!I", LAST_FRAGMENT | len(record)) + record)


RpcHandler = Callable[[int, Xdr], bytes | None]  # (procedure, its arguments) -> results; None: no such procedure


def serve_rpc(sock: socket.socket, prog: int, vers: int, handle: RpcHandler) -> None:
    """Answer RPC calls for one program on one connection until it closes."""
    while True:
        call = Xdr(read_record(sock))
        xid, kind, _rpcvers, called_prog, called_vers, proc = (call.uint() for _ in range(6))
        call.uint(), call.opaque()  # credentials (AUTH_NULL from pyvisa-py; any is accepted)
        call.uint(), call.opaque()  # verifier
        if kind != CALL:
            raise LinkClosed
        head = xdr(xid, REPLY, MSG_ACCEPTED, 0, b"")  # accepted, with a null verifier
        if called_prog != prog:
            send_record(sock, head + xdr(PROG_UNAVAIL))
        elif called_vers != vers:
            send_record(sock, head + xdr(PROG_MISMATCH, vers, vers))
        elif (results := handle(proc, call)) is None:
            send_record(sock, head + xdr(PROC_UNAVAIL))
        else:
            send_record(sock, head + xdr(SUCCESS) + results)


# -- the connection to the simulator ---------------------------------------------------------------------------
class Bridge:
    """One connection to the simulator's text socket: messages out, whole replies in (bounded)."""

    def __init__(self, target: tuple[str, int], reply_end: bytes) -> None:
        self.target, self.reply_end = target, reply_end
        self.buffer = bytearray()  # read from the simulator, not yet passed on
        self.outgoing = b""  # a VXI-11 message's pieces before its END
        self.sock = self._connect()

    def _connect(self) -> socket.socket:
        sock = socket.create_connection(self.target, timeout=5)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def send(self, message: bytes) -> None:
        try:
            self.sock.sendall(message)
        except OSError as exc:
            raise LinkClosed from exc

    def renew(self) -> None:
        """Drop whatever is owed (a device clear): the old connection, and a late reply with it, is gone."""
        self.close()
        self.buffer.clear()
        self.outgoing = b""
        self.sock = self._connect()

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()

    def take(self, limit: int, end: bytes | None, deadline: float | None) -> tuple[bytes, int] | None:
        """Up to ``limit`` bytes of a reply and why they end (RX_END/RX_CHR/RX_REQCNT); None at the deadline.

        ``end`` is the client's termination character when it set one; the reply terminator always ends.
        """
        while True:
            ends = [at + len(mark) for mark in (self.reply_end, end) if mark and (at := self.buffer.find(mark)) >= 0]
            if ends and min(ends) <= limit:
                reply = self.buffer[: min(ends)]
                reason = RX_END if reply.endswith(self.reply_end) else 0
                reason |= RX_CHR if end and reply.endswith(end) else 0
                return self._cut(len(reply), reason)
            if len(self.buffer) >= limit:
                return self._cut(limit, RX_REQCNT)
            wait = None if deadline is None else deadline - time.monotonic()
            if wait is not None and wait <= 0:
                return None
            self.sock.settimeout(wait)
            try:
                chunk = self.sock.recv(65536)
            except TimeoutError:
                return None
            except OSError as exc:
                raise LinkClosed from exc
            if not chunk:
                raise LinkClosed
            self.buffer += chunk

    def _cut(self, size: int, reason: int) -> tuple[bytes, int]:
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data, reason


class Gateway:
    """What both gateways share: a listening socket, its clients, one thread per connection."""

    def __init__(self, target: tuple[str, int], reply_end: bytes, host: str, port: int) -> None:
        self.target, self.reply_end = target, reply_end
        self.server = socket.create_server((host, port))
        self.host, self.port = host, self.server.getsockname()[1]
        self.clients: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._stopped = threading.Event()

    def start(self) -> Gateway:
        threading.Thread(target=self._accept, args=(self.server,), daemon=True).start()
        return self

    def _accept(self, server: socket.socket) -> None:
        while not self._stopped.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                return
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self.clients.add(conn)
            threading.Thread(target=self._serving, args=(server, conn), daemon=True).start()

    def _serving(self, server: socket.socket, conn: socket.socket) -> None:
        try:
            self.serve(server, conn)
        except (LinkClosed, OSError):
            pass
        finally:
            with self._lock:
                self.clients.discard(conn)
            self.ended(conn)
            conn.close()

    @property
    def address(self) -> str:
        """The VISA resource that opens this gateway."""
        raise NotImplementedError

    def serve(self, server: socket.socket, conn: socket.socket) -> None:
        raise NotImplementedError

    def ended(self, conn: socket.socket) -> None:
        """A connection ended: release what it held."""

    def disconnect(self) -> None:
        """Drop every client connection (a cable pulled, the instrument rebooting)."""
        with self._lock:
            clients = list(self.clients)
        for conn in clients:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def stop(self) -> None:
        self._stopped.set()
        close_server(self.server)
        self.disconnect()


def free_loopback_host(ports: tuple[int, ...]) -> str:
    """A 127.0.0.N (N from 2) where every one of ``ports`` is free: a standard port for each simulator."""
    for n in range(2, 255):
        host = f"127.0.0.{n}"
        probes = []
        try:
            for port in ports:
                probes.append(socket.create_server((host, port)))
        except OSError:
            continue
        finally:
            for probe in probes:
                probe.close()
        return host
    raise OSError(f"no loopback address with ports {ports} free")


# -- VXI-11 ---------------------------------------------------------------------------------------------------
class Vxi11Gateway(Gateway):
    """A VXI-11 server (core channel; the portmapper too when ``portmapper`` is set, on port 111).

    ``address`` is the resource to open: ``TCPIP0::host::inst0::INSTR`` with the portmapper,
    ``TCPIP0::host,port::inst0::INSTR`` without it (pyvisa-py's form that skips the portmapper).
    """

    max_recv_size = 64 * 1024  # what create_link tells the client to read at most per device_read

    def __init__(
        self, target: tuple[str, int], reply_end: bytes, host: str = "127.0.0.1", portmapper: bool = False
    ) -> None:
        super().__init__(target, reply_end, host, 0)
        self.portmapper: socket.socket | None = None
        if portmapper:
            self.portmapper = socket.create_server((host, PORTMAPPER_PORT))
        self.links: dict[int, Bridge] = {}
        self._ids = itertools.count(1)
        self.calls: list[int] = []  # every core procedure called, in order (tests read it)

    @property
    def address(self) -> str:
        if self.portmapper is not None:
            return f"TCPIP0::{self.host}::inst0::INSTR"
        return f"TCPIP0::{self.host},{self.port}::inst0::INSTR"

    def start(self) -> Gateway:
        super().start()
        if self.portmapper is not None:
            threading.Thread(target=self._accept, args=(self.portmapper,), daemon=True).start()
        return self

    def stop(self) -> None:
        if self.portmapper is not None:
            close_server(self.portmapper)
        super().stop()

    def serve(self, server: socket.socket, conn: socket.socket) -> None:
        if server is self.portmapper:
            serve_rpc(conn, PORTMAPPER_PROG, PORTMAPPER_VERS, self._portmap)
            return
        mine: set[int] = set()
        try:
            serve_rpc(conn, CORE_PROG, CORE_VERS, lambda proc, args: self._core(proc, args, mine))
        finally:
            for lid in mine:
                bridge = self.links.pop(lid, None)
                if bridge is not None:
                    bridge.close()

    def _portmap(self, proc: int, args: Xdr) -> bytes | None:
        if proc == 0:  # NULL
            return b""
        if proc != PMAPPROC_GETPORT:
            return None
        prog, vers, prot = args.uint(), args.uint(), args.uint()
        return xdr(self.port if (prog, vers, prot) == (CORE_PROG, CORE_VERS, IPPROTO_TCP) else 0)

    def _core(self, proc: int, args: Xdr, mine: set[int]) -> bytes | None:
        self.calls.append(proc)
        if proc == CREATE_LINK:
            args.int(), args.uint(), args.uint(), args.opaque()  # client id, lock, lock timeout, device name
            lid = next(self._ids)
            self.links[lid] = Bridge(self.target, self.reply_end)
            mine.add(lid)
            return xdr(NO_ERROR, lid, 0, self.max_recv_size)  # no abort channel is offered (port 0)
        if proc not in (DEVICE_WRITE, DEVICE_READ, DEVICE_READSTB, DEVICE_TRIGGER, DEVICE_CLEAR, DEVICE_REMOTE,
                        DEVICE_LOCAL, DEVICE_LOCK, DEVICE_UNLOCK, DESTROY_LINK):  # fmt: skip
            return None
        lid = args.int()
        bridge = self.links.get(lid) if lid in mine else None
        if bridge is None:
            return xdr(INVALID_LINK) + (xdr(0) if proc == DEVICE_WRITE or proc == DEVICE_READSTB else b"")
        if proc == DEVICE_WRITE:
            args.uint(), args.uint()  # io and lock timeouts: a write is passed on at once
            flags, data = args.int(), args.opaque()
            bridge.outgoing += data
            if flags & OP_FLAG_END or len(bridge.outgoing) > MAX_MESSAGE:
                bridge.send(bridge.outgoing)
                bridge.outgoing = b""
            return xdr(NO_ERROR, len(data))
        if proc == DEVICE_READ:
            size, io_timeout, _lock = args.uint(), args.uint(), args.uint()
            flags, term = args.int(), args.int()
            end = bytes([term & 0xFF]) if flags & OP_FLAG_TERMCHAR_SET else None
            got = bridge.take(max(1, min(size, self.max_recv_size)), end, time.monotonic() + io_timeout / 1000)
            if got is None:
                return xdr(IO_TIMEOUT, 0, b"")
            return xdr(NO_ERROR, got[1], got[0])
        if proc == DEVICE_READSTB:
            return xdr(NO_ERROR, 0)
        if proc == DEVICE_CLEAR:
            bridge.renew()
        elif proc == DESTROY_LINK:
            mine.discard(lid)
            self.links.pop(lid, None)
            bridge.close()
        return xdr(NO_ERROR)


# -- what a simulator adds to serve both ----------------------------------------------------------------------
_LAN_INSTR = re.compile(r"\s*TCPIP\d*::(\[[^\]]*\]|[^:]+)(?:::([^:]+))?::INSTR\s*", re.I)


def lan_protocol(address: str) -> str | None:
    """``"hislip"`` or ``"vxi11"`` for a LAN ``INSTR`` resource (``inst0``, ``gpib0,5``, none: VXI-11), else None."""
    match = _LAN_INSTR.fullmatch(address)
    if match is None:
        return None
    return "hislip" if (match.group(2) or "").lower().startswith("hislip") else "vxi11"


G = TypeVar("G", bound=Gateway)


def _hislip_gateway() -> type[HislipGateway]:
    from .hislip_sim import HislipGateway

    return HislipGateway


class LanServed:
    """A text simulator that can also be reached over VXI-11 and HiSLIP (gateways stopped with it).

    ``standard_ports``: the portmapper on 111 / HiSLIP on 4880, on a loopback address of their own
    (127.0.0.N), so the resource is written as the older logger's files write it; otherwise any free
    port on 127.0.0.1, written into the resource (what ``--simulate`` uses: no privileged port).
    """

    port: int
    reply_end: bytes
    host = "127.0.0.1"
    _gateways: list[Gateway] | None = None

    def _started(self, gateway: G) -> G:
        if self._gateways is None:
            self._gateways = []
        self._gateways.append(gateway)
        gateway.start()
        return gateway

    def serve_vxi11(self, standard_ports: bool = False) -> Vxi11Gateway:
        host = free_loopback_host((PORTMAPPER_PORT,)) if standard_ports else "127.0.0.1"
        return self._started(Vxi11Gateway((self.host, self.port), self.reply_end, host, portmapper=standard_ports))

    def serve_hislip(self, standard_ports: bool = False) -> HislipGateway:
        from .hislip_sim import HISLIP_PORT, HislipGateway  # HiSLIP builds on this module's Gateway and Bridge

        host = free_loopback_host((HISLIP_PORT,)) if standard_ports else "127.0.0.1"
        return self._started(HislipGateway((self.host, self.port), self.reply_end, host, standard_port=standard_ports))

    def address_like(self, configured: str) -> str:
        """This simulator's resource over the transport ``configured`` names (VXI-11, HiSLIP or the raw socket)."""
        protocol = lan_protocol(configured)
        if protocol is None:
            return f"TCPIP0::{self.host}::{self.port}::SOCKET"
        kind = Vxi11Gateway if protocol == "vxi11" else _hislip_gateway()
        served = next((g for g in self._gateways or () if isinstance(g, kind)), None)  # one per simulated instrument
        return (served or (self.serve_vxi11() if protocol == "vxi11" else self.serve_hislip())).address

    def stop_gateways(self) -> None:
        for gateway in self._gateways or ():
            gateway.stop()
        self._gateways = None
