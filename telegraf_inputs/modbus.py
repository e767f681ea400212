"""A small Modbus codec: read requests and replies, over a serial line (RTU) or TCP (MBAP header).

Only what the families read with: function 03 (holding registers) and 04
(input registers), and the exception replies.  Every reply is checked whole:
station or unit id, function, byte count, CRC (RTU) or transaction id,
protocol id and length (TCP).  No Modbus library: the one the older logger
used changed its API three times in two years (pymodbus 3.7, 3.8, 3.10), and
these few frames are simpler to own than to pin.
"""

from __future__ import annotations

import socket
import time

#: exception codes, as the Modbus application protocol names them
EXCEPTIONS = {
    1: "illegal function",
    2: "illegal data address",
    3: "illegal data value",
    4: "server device failure",
    5: "acknowledge",
    6: "server device busy",
    8: "memory parity error",
    10: "gateway path unavailable",
    11: "gateway target device failed to respond",
}
MAX_REGISTERS = 125  # the most one read may ask for
TCP_HEADER = 7  # transaction id, protocol id, length, unit id
MAX_TCP_LENGTH = 254  # unit id + the longest PDU (253 bytes)


class ModbusError(Exception):
    """A reply that is an exception or not a valid reply; the message says which."""


def crc16(data: bytes) -> int:
    """MODBUS RTU CRC-16 (polynomial 0xA001 reflected, initial 0xFFFF)."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def with_crc(frame: bytes) -> bytes:
    """Append the CRC, low byte first, as MODBUS RTU sends it."""
    return frame + crc16(frame).to_bytes(2, "little")


def read_pdu(function: int, start: int, count: int) -> bytes:
    """The PDU of a register read: function 03 or 04, ``count`` registers from ``start``."""
    return bytes([function]) + start.to_bytes(2, "big") + count.to_bytes(2, "big")


def parse_read_pdu(pdu: bytes, function: int, count: int, where: str) -> list[int]:
    """The registers of a reply PDU to a read of ``count``; ModbusError if it is an exception or malformed."""
    if len(pdu) >= 2 and pdu[0] == function | 0x80:
        meaning = EXCEPTIONS.get(pdu[1], "unknown exception code")
        raise ModbusError(f"MODBUS exception {pdu[1]}: {meaning}")
    if len(pdu) != 2 + 2 * count or pdu[0] != function or pdu[1] != 2 * count:
        raise ModbusError(f"malformed reply {where} to a read of {count} register(s)")
    data = pdu[2:]
    return [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]


# -- RTU ------------------------------------------------------------------------------------------


def rtu_read_request(station: int, start: int, count: int, function: int = 0x03) -> bytes:
    return with_crc(bytes([station]) + read_pdu(function, start, count))


def parse_rtu_reply(reply: bytes, station: int, count: int, function: int = 0x03) -> list[int]:
    """Check a complete RTU reply (or exception) and return the registers."""
    if len(reply) < 5:
        raise ModbusError(f"malformed reply {reply.hex(' ')}")
    if crc16(reply[:-2]) != int.from_bytes(reply[-2:], "little"):
        raise ModbusError(f"CRC error in reply {reply.hex(' ')}")
    if reply[0] != station:
        raise ModbusError(f"reply from station {reply[0]}, expected {station}: {reply.hex(' ')}")
    return parse_read_pdu(reply[1:-2], function, count, reply.hex(" "))


# -- TCP ------------------------------------------------------------------------------------------


def tcp_frame(transaction: int, unit: int, pdu: bytes) -> bytes:
    """An MBAP header (protocol 0, the length of unit id + PDU) and the PDU."""
    return transaction.to_bytes(2, "big") + b"\x00\x00" + (len(pdu) + 1).to_bytes(2, "big") + bytes([unit]) + pdu


class ModbusTcp:
    """One Modbus TCP connection; each read is one request and its checked reply, bounded in size and time."""

    def __init__(self, host: str, port: int, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self.transaction = 0
        self.sock: socket.socket | None = socket.create_connection((host, port), timeout=timeout_s)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def read_registers(self, unit: int, start: int, count: int, function: int = 0x04) -> list[int]:
        """``count`` registers from ``start``; ModbusError for an exception or a bad reply, OSError if the
        connection fails (it is closed then: a late reply must not be taken for the next request's)."""
        if self.sock is None:
            raise ConnectionError("the connection is closed")
        self.transaction = (self.transaction + 1) & 0xFFFF
        try:
            self.sock.sendall(tcp_frame(self.transaction, unit, read_pdu(function, start, count)))
            deadline = time.monotonic() + self.timeout_s
            header = self._receive(TCP_HEADER, deadline)
            transaction, protocol = int.from_bytes(header[0:2], "big"), int.from_bytes(header[2:4], "big")
            length, got_unit = int.from_bytes(header[4:6], "big"), header[6]
            if protocol != 0 or not 2 <= length <= MAX_TCP_LENGTH:
                raise ModbusError(f"not a Modbus TCP reply: header {header.hex(' ')}")
            pdu = self._receive(length - 1, deadline)
        except (ModbusError, OSError):
            self.close()
            raise
        if transaction != self.transaction:
            self.close()  # out of step: another request's reply
            raise ModbusError(f"reply to transaction {transaction}, expected {self.transaction}")
        if got_unit != unit:
            raise ModbusError(f"reply from unit {got_unit}, expected {unit}")
        return parse_read_pdu(pdu, function, count, (header + pdu).hex(" "))

    def _receive(self, size: int, deadline: float) -> bytes:
        assert self.sock is not None
        data = b""
        while len(data) < size:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no complete reply within the timeout of {self.timeout_s:g} s ({len(data)} of "
                                   f"{size} bytes came)")  # fmt: skip
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(size - len(data))
            except TimeoutError:
                continue
            if not chunk:
                raise ConnectionError("the server closed the connection")
            data += chunk
        return data

    def close(self) -> None:
        sock, self.sock = self.sock, None
        if sock is not None:
            try:
                sock.close()
            except OSError:
                pass
