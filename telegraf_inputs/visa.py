"""Message-based instruments (SCPI and the like) over VISA, every reply bounded in size and time.

``open_instrument`` gives one object with ``write``, ``read``, ``query`` and
``close`` for any VISA resource: the raw TCP socket (``TCPIP0::host::5025::SOCKET``)
directly, without VISA, when the pyvisa-py backend is chosen; everything else
(``INSTR`` over LAN, USB, GPIB, ``ASRL`` serial ports) through pyvisa.
"""

from __future__ import annotations

import logging
import re
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any, Protocol

from .base import DeviceError, DeviceSpec
from .keys import Custom, Key, Number, Text, Values
from .logs import describe
from .nodes import Node
from .transports import DRAIN_TIMEOUTS, MAX_REPLY, LineSocket, canonical_resource, socket_address

log = logging.getLogger("telegraf_inputs")

#: VISA resource forms messages can be exchanged with
RESOURCE_FORMS = (
    "TCPIP0::<host>::5025::SOCKET",
    "TCPIP0::<host>::inst0::INSTR",
    "TCPIP0::<host>::hislip0::INSTR",
    "USB0::<vendor>::<product>::<serial>::INSTR",
    "ASRL<port>::INSTR",
    "GPIB0::<address>::INSTR",
)
RESOURCE_PATTERN = re.compile(r"\s*(TCPIP|USB|ASRL|GPIB|VXI|PXI|VICP)[^:]*(::.+)?::(INSTR|SOCKET)\s*", re.I)


#: a serial line for an ASRL resource: baud rate, data bits, parity (N, E, O, M, S), stop bits
SerialLine = tuple[int, int, str, float]


class Instrument(Protocol):
    """What is used of a message-based instrument."""

    def write(self, message: str) -> Any: ...
    def read(self) -> str: ...
    def query(self, message: str) -> str: ...
    def close(self) -> None: ...


def forget_session(instrument: object, session_id: object) -> None:
    """Drop a closed session from the VISA library's tables.

    PyVISA-py 0.8 keeps every session it ever opened in ``sessions`` (and
    PyVISA in two per-session tables), closed ones included: about 2 KiB per
    reconnect, for as long as the process runs.  The benchmark soak
    showed it as RSS growing with each instrument reboot or garbled reply.
    """
    library = getattr(instrument, "visalib", None)
    if session_id is None or library is None:
        return
    for table in ("sessions", "_ignore_warning_in_session", "_last_status_in_session"):
        mapping = getattr(library, table, None)
        if isinstance(mapping, dict):
            mapping.pop(session_id, None)


_managers: dict[str, Any] = {}
_managers_lock = threading.Lock()


def resource_manager(library: str) -> Any:
    """One ResourceManager per VISA library for the whole process.

    Closing a manager closes every resource it opened, so sessions must not own it.
    """
    import pyvisa

    with _managers_lock:
        if library not in _managers:
            _managers[library] = pyvisa.ResourceManager(library)
        return _managers[library]


def visa_timeout() -> object:
    """pyvisa's status code for a timeout."""
    from pyvisa import constants

    return constants.StatusCode.error_timeout


class BoundedVisa:
    """A pyvisa message-based resource whose replies are read to at most ``MAX_REPLY`` bytes."""

    def __init__(self, resource: Any, read_termination: str = "\n") -> None:
        self.resource = resource
        self.visalib = resource.visalib
        self.session = resource.session
        self.end = read_termination.encode("ascii")
        self.lost: str | None = None  # why the link is taken as gone (a failure other than a timeout)

    def _usable(self) -> None:
        if self.lost is not None:
            raise DeviceError(f"the connection was lost ({self.lost}); it is reopened")

    def _lose(self, exc: Exception) -> None:
        """A failure that is not a timeout (the link dropped, the instrument rebooted): nothing more is sent on it.

        pyvisa-py's VXI-11 client waits its RPC timeout (Timeout + 1 s) for every call on a link whose other
        end has gone, destroy_link on close included (4 + 1 s): without this, one drop holds the device for
        about three calls' worth of waiting.
        """
        self.lost = describe(exc)

    def write(self, message: str) -> Any:
        self._usable()
        try:
            return self.resource.write(message)
        except Exception as exc:
            self._lose(exc)
            raise

    def read(self) -> str:
        self._usable()
        try:
            data = self.resource.read_bytes(MAX_REPLY, break_on_termchar=True)
        except Exception as exc:
            if getattr(exc, "error_code", None) == visa_timeout():
                self.clear()
            else:
                self._lose(exc)
            raise
        if not data.endswith(self.end):
            raise DeviceError(f"a reply longer than {MAX_REPLY} bytes without its end")
        return str(data[: -len(self.end)].decode("ascii", "replace")).rstrip("\r\n")

    def query(self, message: str) -> str:
        self.write(message)
        return self.read()

    def clear(self) -> None:
        """After a reply that did not come in time: make sure it is never read as the answer to the next question.

        A device clear empties the instrument's output queue (IEEE 488.2: VXI-11's device_clear, HiSLIP's and
        USBTMC's clear, GPIB's SDC).  A serial port has none: it is drained until a Timeout passes with
        nothing new in its buffer.  DeviceError if neither can be done: the connection is then reopened.
        """
        try:
            if self.resource.resource_name.upper().startswith("ASRL"):
                self._drain_serial()
            else:
                self.resource.clear()
        except DeviceError:
            raise
        except Exception as exc:
            raise DeviceError(f"no reply in time, and the device clear that drops a late one failed "
                              f"({describe(exc)}); the connection is reopened") from exc  # fmt: skip

    def _drain_serial(self) -> None:
        from pyvisa import constants

        timeout_s = (self.resource.timeout or 1000) / 1000
        give_up = time.monotonic() + DRAIN_TIMEOUTS * timeout_s
        while True:
            time.sleep(timeout_s)  # a late reply comes in, whole, meanwhile
            waiting = self.resource.bytes_in_buffer
            self.resource.flush(constants.BufferOperation.discard_read_buffer)
            if not waiting:
                return
            if time.monotonic() > give_up:
                raise DeviceError(f"the line did not fall silent within {DRAIN_TIMEOUTS} x Timeout after a reply "
                                  "that did not come in time; the connection is reopened")  # fmt: skip

    def close(self) -> None:
        session = self.session
        if self.lost is not None:
            abandon_sockets(self.visalib, session)
        try:
            self.resource.close()
        except Exception:
            if self.lost is None:
                raise  # a lost link's close fails on the sockets closed above: nothing more to do
        finally:
            forget_session(self, session)


def abandon_sockets(library: Any, session: object) -> None:
    """Close a lost pyvisa-py LAN session's sockets, so closing it says no goodbye that would wait for an answer
    (VXI-11's destroy_link, 5 s on a dead link); other libraries and sessions are left to their own close."""
    sessions = getattr(library, "sessions", None)
    interface = getattr(sessions.get(session), "interface", None) if isinstance(sessions, dict) else None
    for name in ("sock", "_sync", "_async"):  # pyvisa-py 0.7-0.8: the VXI-11 RPC client; HiSLIP's two channels
        sock = getattr(interface, name, None)
        if isinstance(sock, socket.socket):
            sock.close()


def _serial_settings(resource: Any, line: SerialLine) -> None:
    from pyvisa import constants

    baud, size, parity, stop = line
    resource.baud_rate = baud
    resource.data_bits = size
    resource.parity = {
        "N": constants.Parity.none,
        "E": constants.Parity.even,
        "O": constants.Parity.odd,
        "M": constants.Parity.mark,
        "S": constants.Parity.space,
    }[parity]
    resource.stop_bits = {1: constants.StopBits.one, 1.5: constants.StopBits.one_and_a_half}.get(
        stop, constants.StopBits.two
    )


def open_visa(
    address: str,
    library: str,
    timeout_ms: int,
    *,
    read_termination: str = "\n",
    write_termination: str = "\n",
    line: SerialLine | None = None,
    forms: tuple[str, ...] = (),
) -> BoundedVisa:
    """Open a VISA resource with the given terminations (and serial line, for ASRL); replies bounded in size."""
    try:
        rm = resource_manager(library)
        resource = rm.open_resource(address, timeout=timeout_ms)
    except Exception as exc:  # pyvisa reports absent instruments with many exception types
        raise DeviceError(f"cannot open {address!r} (VISA library {library}): {describe(exc)}") from exc
    if not hasattr(resource, "read_bytes"):
        resource.close()
        raise DeviceError(
            f"{address!r} is not an instrument VISA can exchange messages with; use e.g. " + ", ".join(forms)
        )
    try:
        resource.read_termination = read_termination
        resource.write_termination = write_termination
        if line is not None and address.strip().upper().startswith("ASRL"):
            _serial_settings(resource, line)
    except Exception as exc:
        resource.close()
        raise DeviceError(f"cannot set up {address!r}: {describe(exc)}") from exc
    return BoundedVisa(resource, read_termination)


def open_socket(
    address: str, timeout_ms: int, *, read_termination: str = "\n", write_termination: str = "\n"
) -> LineSocket:
    """Open a ``::SOCKET`` resource directly: every reply bounded in size and time."""
    host_port = socket_address(address)
    assert host_port is not None
    try:
        return LineSocket(
            *host_port,
            timeout_s=timeout_ms / 1000,
            read_termination=read_termination,
            write_termination=write_termination,
        )
    except OSError as exc:
        raise DeviceError(f"cannot connect to {address!r}: {exc.strerror or describe(exc)}") from exc


def open_instrument(
    address: str,
    library: str,
    timeout_ms: int,
    *,
    read_termination: str = "\n",
    write_termination: str = "\n",
    line: SerialLine | None = None,
    forms: tuple[str, ...] = (),
) -> Instrument:
    """The raw socket for ``TCPIP::host::port::SOCKET`` with pyvisa-py (@py); VISA for everything else."""
    if library == "@py" and socket_address(address) is not None:
        return open_socket(address, timeout_ms, read_termination=read_termination, write_termination=write_termination)
    return open_visa(
        address,
        library,
        timeout_ms,
        read_termination=read_termination,
        write_termination=write_termination,
        line=line,
        forms=forms,
    )


def _commands(node: Node, key: str) -> tuple[str, ...]:
    value = node.value[key]
    if isinstance(value, list):
        items = node.child(key)
        for index, item in enumerate(value):
            if not isinstance(item, str):
                raise items.error("expected a string (one command)", index)
        return tuple(value)
    text = node.text(key)
    return (text,) if text.strip() else ()


def cmd_on_init_key(doc: str) -> Key:
    """``CmdOnInit``: commands sent after connecting, one string or a list of them."""
    schema = {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}
    return Custom("CmdOnInit", doc, (), reader=_commands, json_schema=schema)


#: below this, a Timeout is in seconds: the older logger's files since late 2023 (its library multiplies by
#: 1000, e.g. 20); from it on, in milliseconds, as in its 2022 files (60000) and this project's (5000)
TIMEOUT_SECONDS_BELOW = 100


def timeout_in_ms(value: float, device: str) -> int:
    """The VISA timeout in ms from a ``Timeout`` of either era; what was understood is logged at -v."""
    if value < TIMEOUT_SECONDS_BELOW:
        log.debug("device %r: Timeout %g read as %g s (below %d: seconds)", device, value, value, TIMEOUT_SECONDS_BELOW)
        return max(1, round(value * 1000))
    log.debug("device %r: Timeout %g read as %g ms (%g s)", device, value, value, value / 1000)
    return round(value)


def timeout_key(doc: str, default_ms: int) -> Key:
    """``Timeout`` as the older logger's VISA devices give it: seconds below 100, milliseconds from 100."""
    return Number("Timeout", f"{doc}: below 100 in seconds (the older logger since late 2023), from 100 in "
                  "milliseconds (its 2022 files and this project's)", default_ms, exclusive_minimum=0,
                  maximum=3_600_000)  # fmt: skip


@dataclass(frozen=True)
class VisaDevice(DeviceSpec):
    """A device read through VISA (or its raw socket): what every such family's entry gives."""

    address: str = ""
    visa_library: str = "@py"
    visa_idn: str | None = None
    cmd_on_init: tuple[str, ...] = ()
    timeout_ms: int = 10000


def visa_keys(
    address: str,
    init: str,
    timeout: str,
    timeout_ms: int,
    library: str = "pyvisa backend: @py (pyvisa-py) or @ivi (NI/Keysight VISA)",
    idn: str = "the expected *IDN? reply; a mismatch is a warning",
) -> tuple[Key, ...]:
    """The keys a VisaDevice is read from (``visa_fields``), each with the family's doc line."""
    return (
        Text("Address", address, required=True),
        Text("VisaLibrary", library, "@py"),
        Text("VISAIDN", idn),
        cmd_on_init_key(init),
        timeout_key(timeout, timeout_ms),
    )


def visa_fields(values: Values, name: str, node: Node, hint: str = "") -> dict[str, Any]:
    """The VisaDevice fields of a checked entry (``Address``, ``VisaLibrary``, ``VISAIDN``, ``CmdOnInit``,
    ``Timeout``) and its connection: two spellings of one instrument (TCPIP0:: and TCPIP::) share one."""
    address, library = values["Address"].strip(), values["VisaLibrary"]
    if not RESOURCE_PATTERN.fullmatch(address):
        raise node.error(f"{address!r} is not a VISA instrument resource; "
                         f"{hint or 'use e.g. ' + ', '.join(RESOURCE_FORMS)}", "Address")  # fmt: skip
    return {
        "address": address,
        "visa_library": library,
        "visa_idn": values["VISAIDN"],
        "cmd_on_init": values["CmdOnInit"],
        "timeout_ms": timeout_in_ms(values["Timeout"], name),
        "connection": f"{library}|{canonical_resource(address)}",
    }
