"""Thorlabs KPA101 beam position aligners: APT binary messages over the K-Cube's USB serial port.

The port is found by ``SerialNumber`` among the USB serial ports pyserial
lists (on Windows its FTDI serial ends in "A"; both are matched), looked up
again at every reconnect since a replugged cube may get another name; an
explicit ``Address`` wins.  A gather is one request for the readings; the reply
is read by its header's length, checked (source and destination, message id,
length, sub-id), and serves every channel.  A status update the cube sends on
its own before the reply is skipped.
"""

from __future__ import annotations

import errno
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from ...base import DeviceError, DeviceSpec, Driver, Picked, Reading, Session, sharing
from ...config import ConfigError, Declaration, DeviceConfig, Node
from ...keys import Integer, Number, Text
from ...logs import describe
from ...serial_lines import PORT_ERRORS, NoReply, Port, Resync, attempt, open_serial
from ...transports import serial_port_key
from .protocol import (
    GET_PARAMS,
    HEADER,
    FrameError,
    Readings,
    parse_header,
    parse_readings,
    request_readings,
)

log = logging.getLogger("telegraf_inputs")
TYPES = ("XDiff", "YDiff", "Sum", "XPos", "YPos", "XPosPDP90A", "YPosPDP90A")
LINE = (115200, 8, "N", 1.0)
PDP90A_MM_PER_RATIO = 5.0  # PDP90A: position (mm) = 5 x difference / sum
MAX_SKIPPED = 4  # unsolicited messages skipped while waiting for the reply


@dataclass(frozen=True)
class KpaDevice(DeviceSpec):
    serial_number: int | None = None
    address: str | None = None
    timeout_s: float = 5.0
    channels: tuple[Picked, ...] = ()


DECLARATION = Declaration(
    measurement="beam_position",
    device=(
        Integer("SerialNumber", "the cube's 8-digit serial number (on its label, e.g. 69252254): its port is found "
                "by it", minimum=0, maximum=99_999_999),
        Text("Address", "the serial port, when it is to be used instead of the lookup by SerialNumber "
             "(/dev/ttyUSB0, COM5, /dev/serial/by-id/...)"),
        Number("Timeout", "seconds to wait for the reply", 5.0, exclusive_minimum=0, maximum=600),
        Number("CacheInterval", "accepted for the older logger's files; one request per gather serves every channel "
               "here", minimum=0),
    ),
    channel=(
        Text("Type", "XDiff, YDiff, Sum, XPos, YPos (V), XPosPDP90A, YPosPDP90A (mm, with a PDP90A detector)",
             required=True, choices=TYPES),
    ),
)  # fmt: skip


def find_port(serial_number: int, ports: Iterable[Any]) -> str:
    """The device path of the USB serial port whose serial number is ``serial_number`` (or that and "A")."""
    wanted = {str(serial_number), f"{serial_number}A"}
    seen = []
    for port in ports:
        number = (getattr(port, "serial_number", None) or "").strip()
        if number in wanted:
            return str(port.device)
        if number:
            seen.append(f"{port.device} ({number})")
    found = ", ".join(seen) if seen else "none with a serial number"
    raise DeviceError(f"no USB serial port has serial number {serial_number}; found: {found}. Is the cube plugged "
                      "in and on? (On Linux, ftdi_sio must know its USB id 0403:faf0.)")  # fmt: skip


def list_ports() -> list[Any]:
    from serial.tools import list_ports as lister

    return list(lister.comports())


class KpaSession(Resync, Session):
    """The cube's port; drained after a failed or cut-short reply (a late one would pass for the next)."""

    def __init__(self, port: Port, where: str, key: str) -> None:
        self.port = port
        self.where = where
        self.track(key)

    def readings(self, device: KpaDevice) -> Readings:
        try:
            return self._readings(device)
        except (FrameError, NoReply):
            self.in_step = False
            raise

    def _readings(self, device: KpaDevice) -> Readings:
        self.settle(device.timeout_s, self.where)
        self.port.reset_input_buffer()
        self.port.write(request_readings())
        for _ in range(MAX_SKIPPED + 1):
            raw = self.port.read(HEADER)
            if not raw:
                raise NoReply(f"no reply from {self.where} within Timeout {device.timeout_s:g} s")
            if len(raw) < HEADER:
                raise FrameError(f"a message cut short: {raw.hex(' ')}")
            header = parse_header(raw)
            data = self.port.read(header.length) if header.length else b""
            if len(data) < header.length:
                raise FrameError(f"a message cut short: {header.length} data bytes announced, {len(data)} came")
            if header.message_id == GET_PARAMS:
                return parse_readings(data)
            log.debug("device %s: skipped APT message %#06x", device.label, header.message_id)
        raise FrameError(f"no reply to the readings request among {MAX_SKIPPED + 1} messages")

    def read(self, device: DeviceSpec) -> list[Reading]:
        assert isinstance(device, KpaDevice)
        try:
            readings, when = attempt(partial(self.readings, device), FrameError)
        except PORT_ERRORS as exc:
            raise DeviceError(f"{self.where} failed ({describe(exc)}); unplugged? Looked up again at the next gather"
                              ) from exc  # fmt: skip
        if isinstance(readings, FrameError):
            return [Reading(ch.config, None, when, problem=str(readings), failed=True) for ch in device.channels]
        volts = readings.volts()
        out = []
        for ch in device.channels:
            if ch.type.endswith("PDP90A"):
                if volts["Sum"] <= 0:
                    out.append(
                        Reading(ch.config, None, when, problem="no light on the detector (sum 0 V): no position")
                    )
                    continue
                diff = volts["XDiff" if ch.type.startswith("X") else "YDiff"]
                out.append(Reading(ch.config, PDP90A_MM_PER_RATIO * diff / volts["Sum"], when))
            else:
                out.append(Reading(ch.config, volts[ch.type], when))
        return out

    def close(self) -> None:
        self.close_port()


def open_port(device: KpaDevice, ports: Callable[[], Iterable[Any]] = list_ports) -> tuple[Port, str]:
    """The cube's port opened for APT (115200 8N1, RTS/CTS, RTS asserted), and where it is."""
    if device.address is not None:
        path = device.address
    else:
        assert device.serial_number is not None
        path = find_port(device.serial_number, ports())
    try:
        port = open_serial(path, LINE, device.timeout_s, rtscts=True)
        time.sleep(0.05)  # the APT manual's start-up: wait, purge, wait, assert RTS
        port.reset_input_buffer()
        time.sleep(0.05)
        try:
            setattr(port, "rts", True)  # noqa: B010 (pyserial's property, not in the Port protocol)
        except OSError as exc:
            if exc.errno not in (errno.ENOTTY, errno.EINVAL):  # a line without modem lines (a pty) has no RTS
                raise
    except PORT_ERRORS as exc:
        raise DeviceError(f"cannot open {path}: {describe(exc)}") from exc
    return port, path


class Kpa101Driver(Driver):
    """Thorlabs KPA101."""

    declaration = DECLARATION

    def __init__(self, ports: Callable[[], Iterable[Any]] = list_ports) -> None:
        self.ports = ports

    def device_of(self, config: DeviceConfig, node: Node) -> KpaDevice:
        values = config.values
        serial_number, address = values["SerialNumber"], values["Address"]
        if serial_number is None and (address is None or not address.strip()):
            raise node.error("give the cube's SerialNumber (or its serial port as Address)", "SerialNumber")
        timeout_s = float(values["Timeout"])
        deadline = values["Deadline"]
        return KpaDevice(
            config=config,
            connection=serial_port_key(address) if address else f"kpa101|{serial_number}",
            deadline_s=float(deadline) if deadline is not None else timeout_s + 1,
            serial_number=serial_number,
            address=address.strip() if address else None,
            timeout_s=timeout_s,
            channels=tuple(Picked(ch, ch.values["Type"]) for ch in config.channels),
        )

    def check_all(self, devices: Sequence[DeviceSpec]) -> list[ConfigError]:
        return [device.config.node.error(f"the same cube as device {other.label}; one entry per cube", "SerialNumber")
                for device, other in sharing(devices)]  # fmt: skip

    def plan(self, device: DeviceSpec) -> str | None:
        assert isinstance(device, KpaDevice)
        where = device.address or f"the USB serial port with serial number {device.serial_number}"
        return f"{where}: one APT readings request per gather"

    def open(self, devices: Sequence[DeviceSpec]) -> Session:
        device = devices[0]
        assert isinstance(device, KpaDevice)
        port, path = open_port(device, self.ports)
        return KpaSession(port, path, device.connection)


DRIVER = Kpa101Driver()
