"""``telegraf-lab discover``: find the instruments, and write their devices-file entries.

Without ``--probe`` nothing is sent to any instrument. The command lists:

- the serial ports: path, stable ``/dev/serial/by-id/`` name, USB vendor and product ID, serial
  number, manufacturer, description;
- the USB VISA resources the backend finds (never a LAN search: that would broadcast);
- for each port, the families it probably is, from the USB IDs the families declare.

``--probe TARGET ...`` asks each candidate family its identification question. A target is a serial
port, a ``socket://`` URL, ``host:port`` or ``http://host``. The question is read-only, asked at the
family's usual line settings, and must be answered within a short deadline. A family declares its
question as ``PROBES`` in its folder's ``probe.py``; a family with no safe read-only question has none.
Nothing is written to a port that was not named, and no setting of an instrument is changed.

What answered becomes an entry for a devices file: the Model, the stable port name, the line
settings that worked, and the family's usual channels.
"""

from __future__ import annotations

import os
import re
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import registry
from .logs import describe, excerpt, log

MAX_REPLY = 4096
DEADLINE_S = 1.0  # for one question's whole reply

#: an entry's fields (Model, Channels, keys of its own) from a reply; None: not this family
Identify = Callable[[bytes], dict[str, Any] | None]


@dataclass(frozen=True)
class Probe:
    """One family's read-only identification question on one kind of link."""

    transport: str  # "serial", "tcp" or "http"
    request: bytes  # b"": only listen (an instrument that streams)
    identify: Identify
    read_to: bytes | None = b"\n"  # a reply ends with this (``count`` times); None: ``length`` bytes
    count: int = 1
    length: int = 0
    line: tuple[int, int, str, float] = (9600, 8, "N", 1)  # serial: baud rate, data bits, parity, stop bits
    port: int | None = None  # tcp: the instrument's usual port, where the target names only a host
    path: str = "/"  # http: what is asked
    usb: tuple[tuple[int, int], ...] = ()  # USB vendor and product IDs the family's adapters have
    place: Callable[[str], dict[str, Any]] | None = None  # the entry's address keys for a target (tcp, http)
    serials: str = ""  # a regex of the USB serial numbers the family's adapters report (the KPA101's 69xxxxxx)


def socket_resource(target: str) -> dict[str, Any]:
    """``host:port`` as a VISA raw-socket resource, for the SCPI families."""
    host, port = tcp_parts(target)
    return {"Address": f"TCPIP0::{host}::{port}::SOCKET"}


def probes() -> list[tuple[registry.Family, Probe]]:
    """Every installed family's probes (``probe.py``: ``PROBES``), in the order they are asked.

    First those that only listen, then the text questions (each a whole line: an instrument that does not
    know it drops it at its line end), binary ones last: their bytes, to a text instrument, would stay in
    its input as the start of the next question.
    """
    found = [(family, probe) for family, module in registry.modules("probe") for probe in getattr(module, "PROBES", ())]

    def order(item: tuple[registry.Family, Probe]) -> int:
        request = item[1].request
        if not request:
            return 0
        if request.isascii() and request.decode().rstrip().isprintable():
            return 1 if request.endswith(b"\n") else 2  # LF-ended lines first: a CR-ended one lingers in LF parsers
        return 3

    return sorted(found, key=order)


# -- listing, nothing sent ------------------------------------------------------------------------
def stable_names() -> dict[str, str]:
    """Real port path -> its ``/dev/serial/by-id/`` name (Linux)."""
    folder = "/dev/serial/by-id"
    names: dict[str, str] = {}
    if os.path.isdir(folder):
        for name in sorted(os.listdir(folder)):
            link = os.path.join(folder, name)
            names[os.path.realpath(link)] = link
    return names


def serial_ports() -> list[dict[str, Any]]:
    """The serial ports of this machine, with what the families guess each is."""
    from serial.tools import list_ports

    stable = stable_names()
    guesses: dict[tuple[int, int], list[str]] = {}
    for family, probe in probes():
        for usb in probe.usb:
            names = guesses.setdefault(usb, [])
            if family.name not in names:
                names.append(family.name)
    serial_patterns = [(family.name, probe.serials) for family, probe in probes() if probe.serials]
    out = []
    for port in sorted(list_ports.comports(), key=lambda p: p.device):
        ids = (port.vid, port.pid) if port.vid is not None and port.pid is not None else None
        out.append({
            "port": port.device,
            "stable": stable.get(os.path.realpath(port.device), ""),
            "usb": f"{port.vid:04x}:{port.pid:04x}" if ids else "",
            "serial_number": port.serial_number or "",
            "manufacturer": port.manufacturer or "",
            "description": port.description or "",
            "probably": [*(guesses.get(ids, []) if ids else []),
                         *(f for f, pattern in serial_patterns if re.fullmatch(pattern, port.serial_number or "")
                           and f not in guesses.get(ids or (-1, -1), []))],
        })  # fmt: skip
    return out


def usb_resources() -> list[str]:
    """The USB (USBTMC) instruments pyvisa-py's USB session lists.

    Only that session is asked: pyvisa's ``list_resources`` asks every session, and the LAN ones
    broadcast (VXI-11's portmapper, mDNS for HiSLIP) to the whole network.
    """
    try:
        from pyvisa_py.usb import USBInstrSession

        return sorted(USBInstrSession.list_resources())
    except Exception as exc:  # noqa: BLE001 (no pyusb, no libusb, no permission: say so, list the rest)
        log.debug("no USB VISA listing: %s", describe(exc))
        return []


# -- probing ----------------------------------------------------------------------------------------
@dataclass
class Found:
    """A target that answered a family's question: the entry to put in a devices file."""

    family: str
    target: str
    entry: dict[str, Any] = field(default_factory=dict)


def tcp_parts(target: str) -> tuple[str, int]:
    host, _, port = target.rpartition(":")
    return host.strip("[]"), int(port)


def kind_of(target: str) -> str:
    if target.startswith(("http://", "https://")):
        return "http"
    if re.fullmatch(r"(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d+", target) and not target.startswith("/"):
        return "tcp"
    return "serial"


def _read(read: Callable[[], bytes], probe: Probe) -> bytes:
    reply = b""
    end = time.monotonic() + DEADLINE_S
    while time.monotonic() < end and len(reply) < MAX_REPLY:
        reply += read()
        if probe.read_to is not None and reply.count(probe.read_to) >= probe.count:
            break
        if probe.read_to is None and len(reply) >= probe.length:
            break
    return reply[:MAX_REPLY]


def ask(target: str, probe: Probe) -> bytes:
    """The reply to ``probe``'s question at ``target`` (b"" if none came); OSError if the target cannot be opened."""
    kind = kind_of(target)
    if kind == "http":
        import urllib.request

        url = target.rstrip("/") + probe.path
        with urllib.request.urlopen(url, timeout=DEADLINE_S) as reply:  # noqa: S310 (a URL the user named)
            return bytes(reply.read(MAX_REPLY))
    if kind == "tcp":
        host, _, port_text = target.rpartition(":")
        with socket.create_connection((host.strip("[]"), int(port_text)), timeout=DEADLINE_S) as sock:
            sock.settimeout(0.1)
            sock.sendall(probe.request)

            def chunk() -> bytes:
                try:
                    return sock.recv(MAX_REPLY)
                except TimeoutError:
                    return b""

            return _read(chunk, probe)
    import serial

    baud, size, parity, stop = probe.line
    line = serial.serial_for_url(target, baudrate=baud, bytesize=size, parity=parity, stopbits=stop, timeout=0.05)
    try:
        line.reset_input_buffer()
        if probe.request:
            line.write(probe.request)
        return _read(lambda: line.read(MAX_REPLY), probe)
    finally:
        line.close()


def usb_ids(target: str) -> tuple[int, int] | None:
    """The USB vendor and product ID of a serial port, where it has them."""
    try:
        from serial.tools import list_ports

        real = os.path.realpath(target)
        for port in list_ports.comports():
            if os.path.realpath(port.device) == real and port.vid is not None and port.pid is not None:
                return int(port.vid), int(port.pid)
    except Exception:  # noqa: BLE001 (no listing: no USB IDs)
        pass
    return None


def probe_targets(targets: Sequence[str], families: Sequence[str] = ()) -> tuple[list[Found], list[str]]:
    """What answered at each target (the first family that knew the reply), and what did not (with why).

    ``families`` limits the questions to those families'.  A port whose USB IDs a family declares hears that
    family's questions first: a binary one (APT's) must not come after text that would put it out of step.
    """
    stable = stable_names()
    found: list[Found] = []
    silent: list[str] = []
    # families asking the same question at the same settings share one asking (SRS's *IDN?, say)
    questions: dict[tuple[Any, ...], list[tuple[registry.Family, Probe]]] = {}
    for family, probe in probes():
        if families and family.name not in families:
            continue
        key = (probe.transport, probe.request, probe.line, probe.read_to, probe.count, probe.length, probe.path)
        questions.setdefault(key, []).append((family, probe))
    for target in targets:
        kind = kind_of(target)
        tried = 0
        answer = None
        reasons = []
        ids = usb_ids(target) if kind == "serial" else None
        ordered = sorted(questions.values(), key=lambda asked: 0 if ids and ids in asked[0][1].usb else 1)
        for asked in ordered:
            first = asked[0][1]
            if first.transport != kind:
                continue
            tried += 1
            try:
                reply = ask(target, first)
            except OSError as exc:
                reasons.append(f"{', '.join(f.name for f, _ in asked)}: {describe(exc)}")
                if kind != "serial":
                    break  # the host or port is not there: no other question would get through
                continue
            log.debug("%s: asked %r, got %r", target, first.request, excerpt(repr(reply), 120))
            for family, probe in asked:
                fields = probe.identify(reply) if reply else None
                if fields is not None:
                    answer = Found(family.name, target, _entry(family, probe, target, stable, fields))
                    break
            if answer is not None:
                break
        if answer is not None:
            found.append(answer)
        else:
            why = "; ".join(reasons[:3]) or ("no family's question was answered" if tried else f"no {kind} probes")
            silent.append(f"{target}: {why}")
    return found, silent


def _entry(family: registry.Family, probe: Probe, target: str, stable: dict[str, str], fields: dict[str, Any]
           ) -> dict[str, Any]:  # fmt: skip
    entry: dict[str, Any] = {"Device": fields.pop("Device", f"{family.name} at {os.path.basename(target)}")}
    model = fields.pop("Model")
    entry["Model"] = model
    if probe.transport == "serial":
        entry["Address"] = stable.get(os.path.realpath(target), target) if target.startswith("/") else target
        baud, size, parity, stop = probe.line
        entry["SerialConnectionParams"] = {"baudrate": baud, "bytesize": size, "parity": parity,
                                           "stopbits": int(stop) if float(stop).is_integer() else stop}  # fmt: skip
    else:
        entry.update(probe.place(target) if probe.place else {"Address": target})
    entry["Timeout"] = fields.pop("Timeout", 1)
    entry.update(fields)
    return {k: v for k, v in entry.items() if v is not None}  # a family may leave a key out (None)
