"""Serial lines as the devices file describes them, and opening them with pyserial.

``serial_section`` declares the older logger's ``SerialConnectionParams``
object (``baudrate``, ``bytesize``, ``parity``, ``stopbits``) with a family's
defaults; ``line_of`` turns its checked values into one tuple that devices
sharing a port compare; ``open_serial`` opens a port path or a pyserial URL
(``socket://``, ``rfc2217://``) with it.  ``read_to`` reads a reply to its real
end, never past a size limit or the port's timeout.
"""

from __future__ import annotations

from typing import Any, Protocol

from .keys import Custom, Integer, Key, Keys, Section, Text, Values
from .nodes import Node

#: baud rate, data bits, parity (N, E, O, M, S), stop bits
Line = tuple[int, int, str, float]
PARITIES = ("N", "E", "O", "M", "S")  # none, even, odd, mark, space


class Port(Protocol):
    """What is used of a pyserial port."""

    def write(self, data: bytes) -> int | None: ...
    def read(self, size: int = 1) -> bytes: ...
    def read_until(self, expected: bytes = ..., size: int | None = None) -> bytes: ...
    def reset_input_buffer(self) -> None: ...
    def close(self) -> None: ...


def _stopbits(node: Node, key: str) -> float:
    stopbits: float = node.number(key)
    if stopbits not in (1, 1.5, 2):
        raise node.error(f"stopbits must be 1, 1.5 or 2, found {stopbits!r}", key)
    return stopbits


def serial_section(
    doc: str = "the serial line, as set on the instrument",
    *,
    baudrate: int = 9600,
    bytesize: int = 8,
    parity: str = "N",
    stopbits: float = 1,
    baudrates: tuple[int, ...] | None = None,
) -> Section:
    """The ``SerialConnectionParams`` key with these defaults; ``baudrates``: the only rates the instrument has."""
    baud: Key
    if baudrates is None:
        baud = Integer("baudrate", "bits per second", baudrate, minimum=50, maximum=4_000_000)
    else:
        baud = Custom(
            "baudrate",
            "bits per second: " + ", ".join(map(str, baudrates)),
            baudrate,
            reader=lambda node, key: _one_of(node, key, baudrates),
            json_schema={"enum": list(baudrates)},
        )
    return Section(
        "SerialConnectionParams",
        doc,
        keys=Keys(
            baud,
            Integer("bytesize", "data bits", bytesize, minimum=5, maximum=8),
            Custom("stopbits", "1, 1.5 or 2", stopbits, reader=_stopbits, json_schema={"enum": [1, 1.5, 2]}),
            Text("parity", "N (none), E (even), O (odd), M (mark), S (space)", parity, choices=PARITIES),
        ),
    )


def _one_of(node: Node, key: str, allowed: tuple[int, ...]) -> int:
    value: int = node.integer(key)
    if value not in allowed:
        raise node.error(f"{value} is not a baud rate of this instrument; use one of {', '.join(map(str, allowed))}",
                         key)  # fmt: skip
    return value


def line_of(values: Values) -> Line:
    """The line of a checked ``SerialConnectionParams``."""
    return (values["baudrate"], values["bytesize"], values["parity"], values["stopbits"])


def describe_line(line: Line) -> str:
    """9600 8N1."""
    baud, size, parity, stop = line
    return f"{baud} {size}{parity}{stop:g}"


def open_serial(address: str, line: Line, timeout_s: float, **options: Any) -> Port:
    """Open a port path or a pyserial URL (socket://, rfc2217://) with ``line``; reads end after ``timeout_s``."""
    import serial

    baud, size, parity, stop = line
    port: Port = serial.serial_for_url(
        address, baudrate=baud, bytesize=size, parity=parity, stopbits=stop, timeout=timeout_s, **options
    )
    return port


def read_to(port: Port, end: bytes, limit: int) -> bytes:
    """Bytes up to and including ``end``; fewer if the port's timeout passes or ``limit`` bytes came first."""
    return port.read_until(end, limit)
