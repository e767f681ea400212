"""Cryomech CPA helium compressors over Modbus TCP: one register read per gather, every channel from it.

The older logger sent one request per channel; here a gather is one read of
input registers 1-55 (1-53 on a 2.x panel), whatever the channels.  Each line
holds the fields the older logger wrote and no more.  The unit the panel reports
(its scale registers) is compared by meaning with the channel's ``unit`` tag: a
convertible one is converted to the tag's (psi to bar, F to C), another
dimension is a warning, not a value.  ``UnitFields: true`` adds the panel's unit
as ``<field-key>_unit``.  A scale code the panel does not define is an error,
never a value in an unknown unit.  The operating
state, warnings and alarms are words with one named boolean field per state or
bit, as the chiller's alarms are.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ...base import DeviceError, DeviceSpec, Driver, Reading, Session
from ...config import ChannelConfig, ConfigError, Declaration, DeviceConfig, Node
from ...keys import Custom, Flag, Integer, Number, Text
from ...lineprotocol import FieldValue
from ...logs import describe
from ...modbus import ModbusError, ModbusTcp
from ...units import UnitError, convert, unit_tag
from .protocol import COUNT, FIRST, FLAG_BITS, QUANTITIES, STATES, FlagError, Panel

WORDS = ("OperatingState", "Warnings", "Alarms")
TYPES = (*QUANTITIES, *WORDS)
DEFAULT_PORT = 502
STATE_FIELDS = tuple(re.sub(r"\W+", "_", name) for name in STATES.values())


@dataclass(frozen=True)
class CpaChannel:
    config: ChannelConfig
    type: str
    unit: str | None = None  # the channel's unit tag, where pint knows it: the value is written in it


@dataclass(frozen=True)
class CpaDevice(DeviceSpec):
    host: str = ""
    port: int = DEFAULT_PORT
    unit: int = 1
    timeout_s: float = 1.0
    panel: str = "3"
    unit_fields: bool = False
    channels: tuple[CpaChannel, ...] = ()


def _panel(node: Node, key: str) -> str:
    value = node.value[key]
    text = str(value).strip() if isinstance(value, (int, str)) and not isinstance(value, bool) else ""
    if text.split(".")[0] not in COUNT:
        raise node.error(f"the panel version is 2 or 3 (CPA 2.x or 3.x), found {value!r}", key)
    return text.split(".")[0]


DECLARATION = Declaration(
    measurement="compressor",
    device=(
        Text("Address", "the panel's host name or IP address, optionally with :port (502)", required=True,
             non_empty=True),
        Number("Timeout", "seconds to wait for the reply", 1.0, exclusive_minimum=0, maximum=600),
        Integer("ModbusDeviceID", "the Modbus unit id set on the panel (1 in Cryomech's examples)", 1, minimum=0,
                maximum=255),
        Flag("KeepTryingToConnect", "accepted for the older logger's files: a failed connection is always tried "
             "again at the next gather"),
    ),
    device_params=(
        Custom("PanelVersion", "2 (CPA 2.x panel: 32-bit floats) or 3 (CPA 3.x panel: integers x 10)", "3",
               reader=_panel, json_schema={"enum": [2, 3, "2", "3", "2.x", "3.x"]}),
        Flag("UnitFields", "also write the panel's unit of each temperature, pressure, current and hours as "
             "<field-key>_unit (a string field the older logger never wrote)", False),
    ),
    channel=(
        Text("Type", "what to read: " + ", ".join(TYPES), required=True, choices=TYPES),
    ),
)  # fmt: skip


def split_address(address: str, node: Node) -> tuple[str, int]:
    """host, or host:port, or [v6]:port."""
    match = re.fullmatch(r"\s*(\[[0-9A-Fa-f:.]+\]|[^\s:\[\]]+)(?::(\d{1,5}))?\s*", address)
    if match is None:
        raise node.error(f"{address!r} is not a host name or IP address (optionally :port)", "Address")
    port = int(match.group(2) or DEFAULT_PORT)
    if not 1 <= port <= 65535:
        raise node.error(f"port {port} is outside 1..65535", "Address")
    return match.group(1).strip("[]"), port


class CpaSession(Session):
    def __init__(self, client: ModbusTcp) -> None:
        self.client = client

    def read(self, device: DeviceSpec) -> list[Reading]:
        assert isinstance(device, CpaDevice)
        import time

        start = time.time_ns()
        try:
            registers = self.client.read_registers(device.unit, FIRST, COUNT[device.panel], function=0x04)
        except ModbusError as exc:
            raise DeviceError(f"{device.host}:{device.port} unit {device.unit}: {exc}") from exc
        except OSError as exc:
            raise DeviceError(f"{device.host}:{device.port}: {describe(exc)}; reconnecting at the next gather"
                              ) from exc  # fmt: skip
        when = (start + time.time_ns()) // 2
        panel = Panel(registers, device.panel)
        return [_reading(ch, panel, when, device.unit_fields) for ch in device.channels]

    def close(self) -> None:
        self.client.close()


def _flags(word: int) -> dict[str, FieldValue]:
    flags: dict[str, FieldValue] = {name: bool(word & (1 << bit)) for bit, name in enumerate(FLAG_BITS)}
    flags["active"] = ",".join(name for name, on in flags.items() if on)
    return flags


# the panel's units as pint reads them: its "F" and "C" would be farad and coulomb
MEANING = {"F": "degF", "C": "degC"}


def _reading(ch: CpaChannel, panel: Panel, when: int, unit_fields: bool) -> Reading:
    if ch.type == "OperatingState":
        state = panel.state
        extra: dict[str, FieldValue] = {"name": STATES.get(state, f"unknown state {state}"), "running": panel.running}
        return Reading(ch.config, state, when, extra=extra)
    if ch.type in ("Warnings", "Alarms"):
        try:
            word = panel.flags(warnings=ch.type == "Warnings")
        except FlagError as exc:
            return Reading(ch.config, None, when, problem=f"the panel's {ch.type.lower()} word: {exc}", failed=True)
        flags = _flags(word)
        return Reading(ch.config, sum(1 for v in flags.values() if v is True), when, extra={"word": word, **flags})
    quantity = QUANTITIES[ch.type]
    value = panel.value(quantity)
    unit = {"temperature": panel.temperature_unit, "pressure": panel.pressure_unit, "current": "A",
            "hours": "h"}[quantity.kind]  # fmt: skip
    if unit is None:
        register = 30 if quantity.kind == "temperature" else 29
        problem = f"the panel's {quantity.kind} scale (register {register}) is {panel.reg(register) & 0xFF}, not a unit"
        return Reading(ch.config, None, when, problem=problem, failed=True)
    if ch.unit is not None:
        try:
            value = convert(value, MEANING.get(unit, unit), ch.unit, f"the panel's {quantity.kind}")
        except UnitError as exc:
            return Reading(ch.config, None, when, problem=str(exc))
    return Reading(ch.config, round(value, 6), when, extra={"unit": unit} if unit_fields else {})


class CpaDriver(Driver):
    """Cryomech CPA compressors."""

    declaration = DECLARATION

    @staticmethod
    def connect(device: CpaDevice) -> ModbusTcp:
        return ModbusTcp(device.host, device.port, device.timeout_s)

    def device_of(self, config: DeviceConfig, node: Node) -> CpaDevice:
        values = config.values
        host, port = split_address(values["Address"], node)
        timeout_s = float(values["Timeout"])
        deadline = values["Deadline"]
        return CpaDevice(
            config=config,
            connection=f"modbus|{host.lower()}|{port}",
            deadline_s=float(deadline) if deadline is not None else 2 * timeout_s + 1,
            host=host,
            port=port,
            unit=values["ModbusDeviceID"],
            timeout_s=timeout_s,
            panel=config.params["PanelVersion"],
            unit_fields=config.params["UnitFields"],
            channels=tuple(
                CpaChannel(ch, ch.values["Type"], unit_tag(config, ch) if ch.values["Type"] in QUANTITIES else None)
                for ch in config.channels
            ),
        )

    def check_all(self, devices: Sequence[DeviceSpec]) -> list[ConfigError]:
        """One compressor (host, port, unit) has one entry."""
        seen: dict[tuple[str, int], CpaDevice] = {}
        problems = []
        for device in devices:
            assert isinstance(device, CpaDevice)
            other = seen.setdefault((device.connection, device.unit), device)
            if other is not device:
                problems.append(device.config.node.error(
                    f"unit {device.unit} at {device.host}:{device.port} is already device {other.label}'s",
                    "ModbusDeviceID"))  # fmt: skip
        return problems

    def alarms(self, device: DeviceSpec) -> list[ChannelConfig]:
        assert isinstance(device, CpaDevice)
        return [ch.config for ch in device.channels if ch.type in ("Warnings", "Alarms")]

    def fields(self, device: DeviceSpec) -> list[tuple[ChannelConfig, tuple[str, ...]]]:
        assert isinstance(device, CpaDevice)
        out = []
        for ch in device.channels:
            key = ch.config.field_key
            extras: tuple[str, ...] = ("unit",) if device.unit_fields else ()
            if ch.type == "OperatingState":
                extras = ("name", "running")
            elif ch.type in ("Warnings", "Alarms"):
                extras = ("word", *FLAG_BITS, "active")
            out.append((ch.config, (key, *(f"{key}_{x}" for x in extras))))
        return out

    def plan(self, device: DeviceSpec) -> str | None:
        assert isinstance(device, CpaDevice)
        return (f"{device.host}:{device.port} unit {device.unit}: input registers {FIRST}-"
                f"{FIRST + COUNT[device.panel] - 1} in one read per gather (CPA {device.panel}.x panel)")  # fmt: skip

    def open(self, devices: Sequence[DeviceSpec]) -> Session:
        device = devices[0]
        assert isinstance(device, CpaDevice)
        try:
            return CpaSession(self.opener(device))
        except OSError as exc:
            raise DeviceError(f"cannot connect to {device.host}:{device.port}: {describe(exc)}") from exc


DRIVER = CpaDriver()
