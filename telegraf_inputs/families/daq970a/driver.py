"""Keysight DAQ970A / DAQ973A data acquisition system over VISA (SCPI).

What is sent is data: ``FUNCTIONS`` maps each channel ``Type`` to its SCPI
function and to the settings it accepts; ``channel_commands`` turns one
channel's config into the commands that configure it.

Traffic: on connect ``*IDN?`` (checked against ``VISAIDN``), ``*CLS``, each
device's ``CmdOnInit``, then one compound message per channel -- its
configuration commands followed by ``SYST:ERR?`` -- so every error the
instrument reports is tied to the channel that caused it; a channel the
instrument refuses is reported and left out of the scan.  Then the reading
format (channel numbers on) and an immediate single trigger.  Each gather is
one round trip: ``READ?``, preceded in the same message by ``ROUT:SCAN`` only
when the connection's scan list has to change (devices sharing an address).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ... import visa
from ...base import DeviceError, DeviceSpec, Driver, Reading, Session, set_up
from ...config import ChannelConfig, ConfigError, Declaration, DeviceConfig, Node
from ...keys import Custom, Integer, Number, Text, Values
from ...logs import excerpt
from ...scpi import read_error_queue, split_units
from ...visa import RESOURCE_FORMS, Instrument, VisaDevice, visa_fields, visa_keys
from .protocol import (
    ERROR_QUEUE_SIZE,
    OVERLOAD,
    channel_list,
    scpi_number,
)

log = logging.getLogger("telegraf_inputs")

SPECIAL_VALUES = ("AUTO", "MIN", "MAX", "DEF")


@dataclass(frozen=True)
class Function:
    """One measurement function: its SCPI names and the settings it accepts."""

    conf: str  # after "CONF:", e.g. "VOLT:DC" or "TEMP"
    sense: str  # prefix of its sense commands, e.g. "VOLT:DC" (NPLC, APER, ZERO:AUTO)
    ranged: bool = True  # accepts Range / Resolution
    nplc: bool = False
    aperture: bool = False
    autozero: bool = False
    transducer: str | None = None  # for TEMP: TC, RTD, FRTD, THER
    transducer_type: str | None = None  # a fixed thermocouple type (TEMPT -> T)
    type_param: str | None = None  # the DeviceSpecificParams key choosing the sensor type
    type_choices: tuple[str, ...] = ()


def _temperature(transducer: str, **kw: Any) -> Function:
    return Function("TEMP", "TEMP", ranged=False, nplc=True, aperture=True, autozero=True, transducer=transducer, **kw)


FUNCTIONS: dict[str, Function] = {
    "DCV": Function("VOLT:DC", "VOLT:DC", nplc=True, aperture=True, autozero=True),
    "ACV": Function("VOLT:AC", "VOLT:AC"),
    "DCI": Function("CURR:DC", "CURR:DC", nplc=True, aperture=True, autozero=True),
    "ACI": Function("CURR:AC", "CURR:AC"),
    "RES": Function("RES", "RES", nplc=True, aperture=True, autozero=True),
    "FRES": Function("FRES", "FRES", nplc=True, aperture=True),
    "FREQ": Function("FREQ", "FREQ", aperture=True),
    "PER": Function("PER", "PER", aperture=True),
    **{f"TEMP{tc}": _temperature("TC", transducer_type=tc) for tc in "BEJKNRST"},
    "RTD": _temperature("RTD", type_param="RTDType", type_choices=("85", "91")),
    "FRTD": _temperature("FRTD", type_param="RTDType", type_choices=("85", "91")),
    "THER": _temperature("THER", type_param="ThermistorType", type_choices=("2252", "5000", "10000")),
}


@dataclass(frozen=True)
class DaqChannel:
    """A channel of a DAQ device, checked against what its function accepts."""

    config: ChannelConfig
    number: int  # DeviceChannel: slot * 100 + channel
    type: str
    range: str | None = None
    resolution: str | None = None
    nplc: float | None = None
    aperture: float | None = None
    autozero: str | None = None
    unit: str | None = None
    sensor_type: str | None = None


@dataclass(frozen=True)
class DaqDevice(VisaDevice):
    """A DAQ970A/973A device entry."""

    channels: tuple[DaqChannel, ...] = ()


def channel_commands(ch: DaqChannel) -> list[str]:
    """The SCPI commands that configure one channel, in the order they must go.

    CONFigure first: it resets integration time and autozero for the channel,
    so NPLC / APERture / ZERO:AUTO / UNIT follow it.
    """
    fn = FUNCTIONS[ch.type]
    at = f"(@{ch.number})"
    if fn.transducer is not None:
        kind = fn.transducer_type or ch.sensor_type
        commands = [f"CONF:TEMP {fn.transducer},{kind},{at}"]
    else:
        args = []
        if ch.range is not None or ch.resolution is not None:
            args.append(ch.range or "AUTO")
            if ch.resolution is not None:
                args.append(ch.resolution)
        commands = [f"CONF:{fn.conf} {','.join(args + [at])}"]
    if ch.nplc is not None:
        commands.append(f"{fn.sense}:NPLC {scpi_number(ch.nplc)},{at}")
    if ch.aperture is not None:
        commands.append(f"{fn.sense}:APER {scpi_number(ch.aperture)},{at}")
    if ch.autozero is not None:
        commands.append(f"{fn.sense}:ZERO:AUTO {ch.autozero},{at}")
    if fn.transducer is not None:
        commands.append(f"UNIT:TEMP {ch.unit or 'C'},{at}")
    return commands


def _range_value(node: Node, key: str) -> str:
    if isinstance(node.value[key], str):
        return str(node.text(key, choices=SPECIAL_VALUES))
    return scpi_number(node.number(key, exclusive_minimum=0))


def _sensor_type(node: Node, key: str) -> str:
    raw = node.value[key]
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return scpi_number(raw)
    return str(node.text(key))


def _autozero(node: Node, key: str) -> str:
    if isinstance(node.value[key], bool):
        return "ON" if node.value[key] else "OFF"
    return str(node.text(key, choices=["ON", "OFF", "ONCE"]))


RANGE_SCHEMA = {"anyOf": [{"type": "number", "exclusiveMinimum": 0}, {"enum": list(SPECIAL_VALUES)}]}
RTD_TYPES, THERMISTOR_TYPES = ("85", "91"), ("2252", "5000", "10000")

DECLARATION = Declaration(
    measurement="daq970a",
    device=(
        *visa_keys("VISA resource, e.g. TCPIP0::host::5025::SOCKET or TCPIP0::host::inst0::INSTR",
                   "SCPI sent after connecting: one string or a list",
                   "VISA timeout, must exceed the scan time", 10000),
        Number("NPLC", "integration time (power line cycles) of every DCV channel that sets none (May 2022 files)",
               exclusive_minimum=0),
        Number("AveragingTime", "aperture (s) of DCV channels that set neither NPLC nor Aperture",
               exclusive_minimum=0, maximum=1),
    ),
    channel=(
        Integer("DeviceChannel", "slot * 100 + channel, e.g. 101", required=True, minimum=101, maximum=399),
        Text("Type", "the measurement function: " + ", ".join(FUNCTIONS), required=True, choices=tuple(FUNCTIONS)),
    ),
    device_params=(
        Number("NPLC", "integration time (power line cycles) of every DCV channel that sets none (June 2022 files)",
               exclusive_minimum=0),
    ),
    channel_params=(
        Custom("Range", "a number, or AUTO, MIN, MAX, DEF", reader=_range_value, json_schema=RANGE_SCHEMA),
        Custom("Resolution", "a number, or AUTO, MIN, MAX, DEF", reader=_range_value, json_schema=RANGE_SCHEMA),
        Number("NPLC", "integration time in power line cycles", exclusive_minimum=0),
        Number("Aperture", "integration time in seconds", exclusive_minimum=0, maximum=1),
        Custom("AutoZero", "true, false, or ON, OFF, ONCE", reader=_autozero,
               json_schema={"anyOf": [{"type": "boolean"}, {"enum": ["ON", "OFF", "ONCE"]}]}),
        Text("Unit", "temperature unit", choices=("C", "F", "K")),
        Custom("RTDType", "RTD alpha: 85 or 91 (default 85)", reader=_sensor_type,
               json_schema={"enum": [85, 91, *RTD_TYPES]}),
        Custom("ThermistorType", "thermistor: 2252, 5000 or 10000 ohm (default 10000)", reader=_sensor_type,
               json_schema={"enum": [2252, 5000, 10000, *THERMISTOR_TYPES]}),
    ),
)  # fmt: skip


def _parse_channel(ch: ChannelConfig, averaging_time: float | None, device_nplc: float | None) -> DaqChannel:
    node = ch.node
    number: int = ch.values["DeviceChannel"]
    if not 1 <= number % 100 <= 99:
        raise node.error(f"{number} is not a channel number (slot * 100 + channel, e.g. 101)", "DeviceChannel")
    kind: str = ch.values["Type"]
    fn = FUNCTIONS[kind]
    params = ch.params

    def refuse(key: str, why: str) -> None:
        if params[key] is not None:
            raise params.node.error(f"{key} is not available for Type {kind!r}: {why}", key)

    if not fn.ranged:
        refuse("Range", "a temperature channel has no range")
        refuse("Resolution", "a temperature channel has no range")
    if not fn.nplc:
        refuse("NPLC", "its integration time is not set in power line cycles")
    if not fn.aperture:
        refuse("Aperture", "it has no aperture setting")
    if not fn.autozero:
        refuse("AutoZero", "it has no autozero setting")
    if fn.transducer is None:
        refuse("Unit", "only temperature channels take a unit")
    if fn.type_param != "RTDType":
        refuse("RTDType", "only RTD and FRTD channels take an RTD type")
    if fn.type_param != "ThermistorType":
        refuse("ThermistorType", "only THER channels take a thermistor type")
    nplc, aperture = params["NPLC"], params["Aperture"]
    if nplc is not None and aperture is not None:
        raise params.node.error("give NPLC or Aperture, not both (each sets the integration time)", "Aperture")
    if kind == "DCV" and nplc is None and aperture is None:  # the channel's own setting wins
        nplc, aperture = device_nplc, averaging_time  # the older logger's device-wide settings (2022)
    sensor_type = None
    if fn.type_param is not None:
        sensor_type = params[fn.type_param] or {"RTDType": "85", "ThermistorType": "10000"}[fn.type_param]
        if sensor_type not in fn.type_choices:
            raise params.node.error(
                f"{sensor_type!r} is not allowed; use one of: {', '.join(fn.type_choices)}", fn.type_param
            )
    return DaqChannel(
        config=ch,
        number=number,
        type=kind,
        range=params["Range"],
        resolution=params["Resolution"],
        nplc=nplc,
        aperture=aperture,
        autozero=params["AutoZero"],
        unit=params["Unit"],
        sensor_type=sensor_type,
    )


class DaqSession(Session):
    """One open VISA connection, configured for the devices that share it."""

    def __init__(self, instrument: Instrument, devices: Sequence[DaqDevice]) -> None:
        self.instrument = instrument
        self.devices = list(devices)
        self.scan_list: dict[str, list[DaqChannel]] = {}
        self.current_scan: str | None = None

    # -- traffic -------------------------------------------------------------
    def _query(self, message: str, what: str) -> str:
        try:
            return self.instrument.query(message).strip()
        except Exception as exc:  # pyvisa raises VisaIOError, OSError, ... for the same failures
            raise DeviceError(f"{what}: no valid reply to {message!r}: {exc}") from exc

    def drain_errors(self, first: str | None = None) -> list[str]:
        """Read the instrument's error queue until it reports no error."""
        return read_error_queue(lambda: self._query("SYST:ERR?", "reading the error queue"), first,
                                limit=ERROR_QUEUE_SIZE + 5, bound=None)  # fmt: skip

    def configure(self) -> None:
        # *CLS rides with the first query: a lone write followed by a query
        # costs a TCP delayed-ACK round (~40 ms) on the instrument's socket.
        idn = self._query("*CLS;*IDN?", "identifying the instrument")
        for device in self.devices:
            if device.visa_idn is not None and idn != device.visa_idn:
                log.warning(
                    "device %s: *IDN? answered %r, VISAIDN expects %r", device.label, excerpt(idn), device.visa_idn
                )
        if "DAQ97" not in idn.upper():
            log.warning(
                "device(s) %s: the *IDN? reply does not look like a DAQ970A/DAQ973A: %r",
                ", ".join(d.label for d in self.devices),
                excerpt(idn),
            )
        for device in self.devices:
            for command in device.cmd_on_init:
                # the replies to the command's own queries (*RST;*OPC? waits for the reset) come first
                *replies, first_error = split_units(self._query(f"{command};:SYST:ERR?", "sending CmdOnInit"))
                if replies:
                    log.debug("device %s: CmdOnInit %r answered %r", device.label, command, ";".join(replies))
                errors = self.drain_errors(first_error)
                for error in errors:
                    log.error("device %s: CmdOnInit %r: instrument error %s", device.label, command, error)
        for device in self.devices:
            accepted = []
            for ch in device.channels:
                commands = channel_commands(ch)
                first = self._query(";:".join(commands) + ";:SYST:ERR?", f"configuring channel {ch.number}")
                errors = self.drain_errors(first)
                if errors:
                    log.error(
                        "device %s channel %r (%s, DeviceChannel %d): the instrument refused %r: %s; "
                        "channel left out of the scan",
                        device.label,
                        ch.config.key,
                        ch.type,
                        ch.number,
                        ";".join(commands),
                        "; ".join(errors),
                    )
                    continue
                accepted.append(ch)
            self.scan_list[device.label] = accepted
        setup = [
            "FORM:READ:CHAN ON",
            "FORM:READ:TIME OFF",
            "FORM:READ:UNIT OFF",
            "FORM:READ:ALAR OFF",
            "TRIG:SOUR IMM",
            "TRIG:COUN 1",
        ]
        errors = self.drain_errors(self._query(";:".join(setup) + ";:SYST:ERR?", "setting the reading format"))
        if errors:
            raise DeviceError(f"the instrument refused the scan setup {';'.join(setup)!r}: {'; '.join(errors)}")

    def read(self, device: DeviceSpec) -> list[Reading]:
        assert isinstance(device, DaqDevice)
        channels = self.scan_list.get(device.label, [])
        if not channels:
            raise DeviceError("no channel of this device was accepted by the instrument (see the errors above)")
        scan = channel_list([ch.number for ch in channels])
        message = "READ?" if scan == self.current_scan else f"ROUT:SCAN {scan};:READ?"
        self.current_scan = None  # unknown until the reply proves the scan ran
        sent = time.time_ns()
        try:
            reply = self.instrument.query(message)
        except Exception as exc:
            raise DeviceError(self._explain_failed_read(message, exc)) from exc
        received = time.time_ns()
        readings = self._parse(reply, channels, (sent + received) // 2)
        self.current_scan = scan
        return readings

    def _explain_failed_read(self, message: str, exc: Exception) -> str:
        text = f"no reply to {message!r}: {exc}"
        try:
            errors = self.drain_errors()
        except DeviceError:
            return text + " (the connection is not answering; it will be reopened)"
        return text + (f"; instrument error queue: {'; '.join(errors)}" if errors else "")

    @staticmethod
    def _parse(reply: str, channels: Sequence[DaqChannel], time_ns: int) -> list[Reading]:
        parts = [p.strip() for p in reply.strip().split(",")]
        if len(parts) != 2 * len(channels):
            raise DeviceError(
                f"READ? returned {len(parts)} items, expected {2 * len(channels)} "
                f"(value,channel for {len(channels)} channels): {reply[:200]!r}"
            )
        try:
            values = [float(v) for v in parts[0::2]]
            numbers = [int(float(c)) for c in parts[1::2]]
        except ValueError:
            raise DeviceError(f"READ? returned a reply that is not value,channel pairs: {reply[:200]!r}") from None
        expected = [ch.number for ch in channels]
        if numbers != expected:
            raise DeviceError(f"READ? returned channels {numbers}, the scan list is {expected}")
        readings = []
        for ch, value in zip(channels, values, strict=True):
            problem = None
            if math.isnan(value) or math.isinf(value):
                problem = f"the instrument returned {value}"
            elif abs(value) >= OVERLOAD:
                problem = f"overload or open input ({value:+.2E})"
            readings.append(Reading(ch.config, value, time_ns, problem))
        return readings

    def close(self) -> None:
        try:
            self.instrument.close()
        except Exception as exc:  # closing a dead connection may fail; nothing to do about it
            log.debug("closing the VISA session: %s", exc)


def open_visa(device: DaqDevice) -> Instrument:
    """Open the device's resource through pyvisa, whatever its form (the INSTR resources, other VISA libraries)."""
    return visa.open_visa(device.address, device.visa_library, device.timeout_ms, forms=RESOURCE_FORMS)


def open_instrument(device: DaqDevice) -> Instrument:
    """The raw socket for ``TCPIP::host::port::SOCKET`` with pyvisa-py (@py); VISA for everything else."""
    return visa.open_instrument(device.address, device.visa_library, device.timeout_ms, forms=RESOURCE_FORMS)


def device_level_nplc(values: Values) -> float | None:
    """The older logger's device-wide NPLC: top-level (May 2022) or in DeviceSpecificParams (June 2022)."""
    top, params = values["NPLC"], values["DeviceSpecificParams"]["NPLC"]
    if top is not None and params is not None:
        raise values.node.error("give NPLC once: at the top of the device or in DeviceSpecificParams", "NPLC")
    nplc = top if top is not None else params
    if nplc is not None and values["AveragingTime"] is not None:
        raise values.node.error("give NPLC or AveragingTime, not both (each sets the integration time)", "NPLC")
    return nplc


class Daq970aDriver(Driver):
    """Keysight DAQ970A / DAQ973A."""

    declaration = DECLARATION

    connect = staticmethod(open_instrument)

    def device_of(self, config: DeviceConfig, node: Node) -> DaqDevice:
        values = config.values
        device_nplc = device_level_nplc(values)
        channels = tuple(_parse_channel(ch, values["AveragingTime"], device_nplc) for ch in config.channels)
        seen: dict[int, str] = {}
        for ch in channels:
            if ch.number in seen:
                raise ch.config.node.error(
                    f"DeviceChannel {ch.number} is already used by channel {seen[ch.number]!r}", "DeviceChannel"
                )
            seen[ch.number] = ch.config.key
        fields = visa_fields(values, config.name, node)
        deadline = values["Deadline"]
        return DaqDevice(
            config=config,
            deadline_s=float(deadline) if deadline is not None else 2 * fields["timeout_ms"] / 1000 + 1,
            **fields,
            channels=channels,
        )

    def check_all(self, devices: Sequence[DeviceSpec]) -> list[ConfigError]:
        """Devices sharing one instrument must not configure the same channel."""
        owner: dict[tuple[str, int], DaqDevice] = {}
        problems = []
        for device in devices:
            assert isinstance(device, DaqDevice)
            for ch in device.channels:
                key = (device.connection, ch.number)
                if key in owner and owner[key] is not device:
                    problems.append(
                        ch.config.node.error(
                            f"DeviceChannel {ch.number} of {device.address!r} is also configured by device "
                            f"{owner[key].label}; one instrument channel can have one configuration",
                            "DeviceChannel",
                        )
                    )
                owner.setdefault(key, device)
        return problems

    def open(self, devices: Sequence[DeviceSpec]) -> Session:
        daq_devices = [d for d in devices if isinstance(d, DaqDevice)]
        return set_up(DaqSession(self.opener(daq_devices[0]), daq_devices))


DRIVER = Daq970aDriver()
