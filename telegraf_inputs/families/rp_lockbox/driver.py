"""Red Pitaya lock boxes (rp-lockbox) through their SCPI server.

Each gather asks every distinct query of the device's channels once, each
reply read to its CR LF within ``Timeout`` and at most 256 KiB.  A query the
server rejects gets no reply (the server answers nothing then): that channel
is an error after ``Timeout``, and the others go on.  A PID is named by the
older logger's ``PID`` key (input digit first) or by ``PIDInput`` and
``PIDOutput``; see protocol.py for the lock box's own, reversed, naming.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass

from ...base import Asked, DeviceError, DeviceSpec, Driver, Reading, Session, requests_of
from ...config import ChannelConfig, ConfigError, Declaration, DeviceConfig, Node
from ...keys import Custom, Integer, Keys, Number, Section, Text
from ...lineprotocol import FieldValue
from ...logs import describe, excerpt
from ...transports import LineSocket, ReplyError
from .protocol import DEFAULT_PORT, END, VOCABULARY, parse_boolean, pid_query, readme_name


@dataclass(frozen=True)
class LockDevice(DeviceSpec):
    host: str = ""
    port: int = DEFAULT_PORT
    timeout_s: float = 1.0
    channels: tuple[Asked, ...] = ()


def _pid(node: Node, key: str) -> tuple[int, int]:
    value = node.value[key]
    text = str(value).strip() if isinstance(value, (int, str)) and not isinstance(value, bool) else ""
    if not re.fullmatch(r"[12][12]", text):
        raise node.error(f'PID is two digits, input then output, each 1 or 2 (e.g. "12": input 1 to output 2), '
                         f"found {value!r}", key)  # fmt: skip
    return int(text[0]), int(text[1])


DECLARATION = Declaration(
    measurement="lockbox",
    device=(
        Text("Address", "the Red Pitaya's host name or IP address", required=True, non_empty=True),
        Number("Timeout", "seconds to wait for each reply", 1.0, exclusive_minimum=0, maximum=600),
        Section("SCPIConnectionParams", "the SCPI server", keys=Keys(
            Integer("Port", "the SCPI server's TCP port", DEFAULT_PORT, minimum=1, maximum=65535),
        )),
    ),
    channel=(
        Text("Type", VOCABULARY.doc(), required=True, choices=VOCABULARY.types()),
        Integer("DeviceChannel", "the fast analog input or output, 1 or 2 (FastAnalogIn, FastAnalogOut)",
                minimum=1, maximum=2),
        Custom("PID", 'the PID as the older logger named it: input digit, then output digit ("12" = input 1 to '
               "output 2, which the lock box's own web page calls PID21)", reader=_pid,
               json_schema={"anyOf": [{"type": "string", "pattern": "^\\s*[12][12]\\s*$"},
                                      {"enum": [11, 12, 21, 22]}]}),
        Integer("PIDInput", "the PID's input, 1 or 2 (with PIDOutput, instead of PID)", minimum=1, maximum=2),
        Integer("PIDOutput", "the PID's output, 1 or 2 (with PIDInput, instead of PID)", minimum=1, maximum=2),
    ),
)  # fmt: skip


def _parse_channel(ch: ChannelConfig) -> Asked:
    values, node = ch.values, ch.node
    kind = values["Type"]
    row = VOCABULARY.kinds[kind]
    template, field_type = row.request or "", row.field
    if "{n}" in template:
        if values["DeviceChannel"] is None:
            raise node.error(f'Type "{kind}" needs DeviceChannel, 1 or 2', "DeviceChannel")
        for key in ("PID", "PIDInput", "PIDOutput"):
            if values[key] is not None:
                raise node.error(f'{key} is for the PID Types, not "{kind}"', key)
        return Asked(ch, template.format(n=values["DeviceChannel"]), field_type=field_type)
    if values["DeviceChannel"] is not None:
        raise node.error(f'DeviceChannel is for FastAnalogIn and FastAnalogOut, not "{kind}"', "DeviceChannel")
    pair = (values["PIDInput"], values["PIDOutput"])
    if values["PID"] is not None:
        if pair != (None, None) and pair != values["PID"]:
            i, o = values["PID"]
            raise node.error(f'PID "{i}{o}" means input {i}, output {o}; PIDInput/PIDOutput say input {pair[0]}, '
                             f"output {pair[1]}: give one of them", "PID")  # fmt: skip
        pair = values["PID"]
    if None in pair:
        raise node.error(f'Type "{kind}" needs the PID: "PID": "12" (input 1, output 2), or PIDInput and PIDOutput',
                         "PID")  # fmt: skip
    return Asked(ch, pid_query(template, *pair), field_type=field_type)


class LockSession(Session):
    def __init__(self, sock: LineSocket, host: str, port: int) -> None:
        self.sock = sock
        self.where = f"{host}:{port}"

    def read(self, device: DeviceSpec) -> list[Reading]:
        assert isinstance(device, LockDevice)
        results: dict[str, tuple[str | None, str | None, int]] = {}
        for query in requests_of(device.channels):
            start = time.time_ns()
            try:
                reply: str | None = self.sock.query(query)
                problem = None
            except ReplyError as exc:
                if self.sock.closed:  # a cut or endless reply: out of step, the connection is dropped
                    raise DeviceError(f"{self.where}: reply to {query!r}: {exc}") from exc
                reply, problem = (
                    None,
                    f"no reply to {query!r} ({exc}); the server answers nothing to a query it rejects",
                )
            except OSError as exc:
                raise DeviceError(f"{self.where}: {describe(exc)}; reconnecting at the next gather") from exc
            results[query] = (reply, problem, (start + time.time_ns()) // 2)
        return [_reading(ch, *results[ch.request]) for ch in device.channels]

    def close(self) -> None:
        self.sock.close()


def _reading(ch: Asked, reply: str | None, problem: str | None, when: int) -> Reading:
    if problem is not None or reply is None:
        return Reading(ch.config, None, when, problem=problem, failed=True)
    value: FieldValue | None
    if ch.field_type == "boolean":
        value = parse_boolean(reply)
        if value is None:
            problem = f"{ch.request!r} answered {excerpt(reply, 80)!r}, not ON or OFF"
            return Reading(ch.config, None, when, problem=problem, failed=True)
        return Reading(ch.config, value, when)
    try:
        number = float(reply)
    except ValueError:
        return Reading(ch.config, None, when, problem=f"{ch.request!r} answered {excerpt(reply, 80)!r}, not a number",
                       failed=True)  # fmt: skip
    if not math.isfinite(number):
        return Reading(ch.config, None, when, problem=f"{ch.request!r} answered {reply!r}", failed=True)
    return Reading(ch.config, number, when)


class LockboxDriver(Driver):
    """rp-lockbox."""

    declaration = DECLARATION

    @staticmethod
    def connect(device: LockDevice) -> LineSocket:
        return LineSocket(device.host, device.port, device.timeout_s, read_termination=END, write_termination=END)

    def device_of(self, config: DeviceConfig, node: Node) -> LockDevice:
        values = config.values
        host = values["Address"].strip()
        port = values["SCPIConnectionParams"]["Port"]
        channels = tuple(_parse_channel(ch) for ch in config.channels)
        timeout_s = float(values["Timeout"])
        deadline = values["Deadline"]
        queries = len({ch.request for ch in channels})
        return LockDevice(
            config=config,
            connection=f"lockbox|{host.lower()}|{port}",
            deadline_s=float(deadline) if deadline is not None else queries * timeout_s + 1,
            host=host,
            port=port,
            timeout_s=timeout_s,
            channels=channels,
        )

    def plan(self, device: DeviceSpec) -> str | None:
        assert isinstance(device, LockDevice)
        names = []
        for ch in device.channels:
            match = re.match(r"PID:IN(\d):OUT(\d)", ch.request)
            if match:
                names.append(f"{ch.config.key}: input {match[1]} -> output {match[2]} "
                             f"(the lock box's {readme_name(int(match[1]), int(match[2]))})")  # fmt: skip
        return ", ".join(requests_of(device.channels)) + " per gather" + (f"; {'; '.join(names)}" if names else "")

    def check_all(self, devices: Sequence[DeviceSpec]) -> list[ConfigError]:
        return []

    def open(self, devices: Sequence[DeviceSpec]) -> Session:
        device = devices[0]
        assert isinstance(device, LockDevice)
        try:
            return LockSession(self.opener(device), device.host, device.port)
        except OSError as exc:
            raise DeviceError(f"cannot connect to {device.host}:{device.port}: {describe(exc)}") from exc


DRIVER = LockboxDriver()
