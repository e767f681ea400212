"""Thorlabs PM100 power meters over VISA (USBTMC), or a SCPI socket for testing and LAN bridges.

On connect: ``*IDN?`` (checked against ``VISAIDN``), ``CmdOnInit``, then
``SENS:POW:UNIT W`` as the older logger set it, and the error queue read and
reported.  Each gather asks each distinct query of the channels once.  A
reply that is not what its query asks for (a number, W/DBM, 0/1) is an error
for that channel; a power of 9.91E+37 (no measurement: no sensor, over range)
is a warning, never a value.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from ... import visa
from ...base import Asked, DeviceError, DeviceSpec, Driver, Reading, Session, requests_of, set_up
from ...config import ConfigError, Declaration, DeviceConfig, Node
from ...keys import Text
from ...logs import describe, excerpt
from ...scpi import read_error_queue
from ...transports import ReplyError as SocketReplyError
from ...visa import RESOURCE_FORMS, Instrument, VisaDevice, visa_fields, visa_keys
from .protocol import NO_DATA, SET_WATTS, VOCABULARY, ReplyError, parse, sensor_identity

log = logging.getLogger("telegraf_inputs")


@dataclass(frozen=True)
class MeterDevice(VisaDevice):
    channels: tuple[Asked, ...] = ()


DECLARATION = Declaration(
    measurement="power",
    device=(
        *visa_keys("VISA resource, e.g. USB0::0x1313::0x8078::P0035093::INSTR",
                   "SCPI sent after connecting (before SENS:POW:UNIT W): one string or a list", "VISA timeout", 10000,
                   library="pyvisa backend: @py (pyvisa-py, with pyusb) or @ivi (NI-VISA)"),
    ),
    channel=(
        Text("Type", VOCABULARY.doc(), required=True, choices=VOCABULARY.types()),
    ),
)  # fmt: skip


class MeterSession(Session):
    def __init__(self, instrument: Instrument, devices: Sequence[MeterDevice]) -> None:
        self.instrument = instrument
        self.devices = list(devices)

    def _query(self, message: str) -> str:
        try:
            return self.instrument.query(message).strip()
        except SocketReplyError as exc:
            raise DeviceError(f"{message!r}: {exc}") from exc
        except Exception as exc:  # pyvisa's VisaIOError and friends
            raise DeviceError(f"{message!r}: {describe(exc)}") from exc

    def errors(self) -> list[str]:
        return read_error_queue(lambda: self._query("SYST:ERR?"))

    def configure(self) -> None:
        idn = self._query("*IDN?")
        for device in self.devices:
            if device.visa_idn is not None and idn != device.visa_idn.strip():
                log.warning("device %s: *IDN? answered %r, VISAIDN expects %r", device.label, excerpt(idn),
                            device.visa_idn)  # fmt: skip
            for command in device.cmd_on_init:
                self.instrument.write(command)
                for error in self.errors():
                    log.error("device %s: CmdOnInit %r: instrument error %s", device.label, command, error)
        self.instrument.write(SET_WATTS)
        errors = self.errors()
        if errors:
            raise DeviceError(f"the meter refused {SET_WATTS!r}: {'; '.join(errors)}")

    def read(self, device: DeviceSpec) -> list[Reading]:
        assert isinstance(device, MeterDevice)
        replies: dict[str, tuple[str, int]] = {}
        for query in requests_of(device.channels):
            start = time.time_ns()
            replies[query] = (self._query(query), (start + time.time_ns()) // 2)
        readings = []
        for ch in device.channels:
            reply, when = replies[ch.request]
            try:
                value = parse(reply, ch.request, ch.field_type)
            except ReplyError as exc:
                readings.append(Reading(ch.config, None, when, problem=str(exc), failed=True))
                continue
            if isinstance(value, float) and abs(value) >= NO_DATA:
                readings.append(Reading(ch.config, value, when, problem=f"no measurement ({value:.2E}): no sensor, "
                                        "or over range"))  # fmt: skip
                continue
            if ch.field_type == "sensor":  # the head's serial number and calibration go beside its name
                _, serial, calibration = sensor_identity(reply, ch.request)
                readings.append(Reading(ch.config, value, when, extra={"serial": serial, "calibration": calibration}))
                continue
            readings.append(Reading(ch.config, value, when))
        return readings

    def close(self) -> None:
        try:
            self.instrument.close()
        except Exception as exc:  # closing a dead connection may fail
            log.debug("closing the VISA session: %s", describe(exc))


def open_instrument(device: MeterDevice) -> Instrument:
    return visa.open_instrument(device.address, device.visa_library, device.timeout_ms, forms=RESOURCE_FORMS)


class Pm100Driver(Driver):
    """Thorlabs PM100."""

    declaration = DECLARATION

    connect = staticmethod(open_instrument)

    def device_of(self, config: DeviceConfig, node: Node) -> MeterDevice:
        values = config.values
        fields = visa_fields(values, config.name, node, hint='the PM100D in its USBTMC ("PM100D" driver) mode is '
                             "USB0::0x1313::0x8078::<serial>::INSTR")  # fmt: skip
        kinds = [(ch, VOCABULARY.kinds[ch.values["Type"]]) for ch in config.channels]
        channels = tuple(Asked(ch, kind.request or "", kind.type, kind.field) for ch, kind in kinds)
        deadline = values["Deadline"]
        queries = len({ch.request for ch in channels})
        return MeterDevice(
            config=config,
            deadline_s=float(deadline) if deadline is not None else queries * fields["timeout_ms"] / 1000 + 1,
            **fields,
            channels=channels,
        )

    def check_all(self, devices: Sequence[DeviceSpec]) -> list[ConfigError]:
        return []

    def plan(self, device: DeviceSpec) -> str | None:
        assert isinstance(device, MeterDevice)
        return ", ".join(requests_of(device.channels)) + " per gather"

    def open(self, devices: Sequence[DeviceSpec]) -> Session:
        meters = [d for d in devices if isinstance(d, MeterDevice)]
        return set_up(MeterSession(self.opener(meters[0]), meters))


DRIVER = Pm100Driver()
