"""Any SCPI or ASCII instrument, read by configuration: a Query per channel and how to parse its reply.

Traffic: on connect ``*IDN?`` only when ``VISAIDN`` is given (not every ASCII
instrument knows it), then each ``CmdOnInit`` command -- its reply read when it
holds a query -- each followed by the ``ErrorQuery`` (if one is set) until the
queue is empty, so an error is tied to the command that caused it.  Each gather
sends every distinct ``Query`` of the device once: one by one, or joined with
``;`` into messages of up to ``MAX_JOINED`` characters when ``JoinQueries`` is
on.  A reply that does not hold a channel's value is an error for that channel
only; the others still go out.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from ... import visa
from ...base import DeviceError, DeviceSpec, Driver, Reading, Session, set_up, sharing
from ...config import ChannelConfig, ConfigError, Declaration, DeviceConfig, Node
from ...keys import Custom, Flag, Integer, Number, Text
from ...logs import describe, excerpt
from ...scpi import ERROR_REPLY, read_error_queue, split_units
from ...serial_lines import Line, describe_line, line_of, serial_section
from ...transports import ReplyError
from ...visa import RESOURCE_FORMS, Instrument, VisaDevice, visa_fields, visa_keys
from .protocol import FALSE_REPLIES, FIELD_TYPES, MAX_JOINED, TRUE_REPLIES, ParseError, Parsing, extract

log = logging.getLogger("telegraf_inputs")


@dataclass(frozen=True)
class ScpiChannel:
    config: ChannelConfig
    query: str
    parsing: Parsing


@dataclass(frozen=True)
class ScpiDevice(VisaDevice):
    """A device read by configuration."""

    line: Line | None = None  # for ASRL resources
    read_termination: str = "\n"
    write_termination: str = "\n"
    query_delay_s: float = 0.0
    error_query: str | None = None
    join_queries: bool = False
    channels: tuple[ScpiChannel, ...] = ()

    def queries(self) -> list[str]:
        """The distinct queries, in channel order."""
        return list(dict.fromkeys(ch.query for ch in self.channels))

    def messages(self) -> list[list[str]]:
        """The queries as sent: each alone, or joined into messages of at most MAX_JOINED characters."""
        if not self.join_queries:
            return [[q] for q in self.queries()]
        batches: list[list[str]] = []
        for query in self.queries():
            if batches and len(";".join([*batches[-1], query])) <= MAX_JOINED:
                batches[-1].append(query)
            else:
                batches.append([query])
        return batches


# --------------------------------------------------------------------------- configuration readers

_ESCAPES = {"\\r": "\r", "\\n": "\n", "\\t": "\t"}


def _termination(node: Node, key: str) -> str:
    text: str = node.text(key)
    for written, char in _ESCAPES.items():  # "\\r\\n" written in YAML or a shell means CR LF as well
        text = text.replace(written, char)
    if not 1 <= len(text) <= 4 or not text.isascii():
        raise node.error('expected 1 to 4 ASCII characters, e.g. "\\n" or "\\r\\n"', key)
    return text


def _regex(node: Node, key: str) -> re.Pattern[str]:
    text: str = node.text(key)
    if len(text) > 1000:
        raise node.error("a Regex of more than 1000 characters", key)
    try:
        pattern = re.compile(text)
    except re.error as exc:
        raise node.error(f"not a valid regular expression: {exc}", key) from None
    if pattern.groups < 1:
        raise node.error('the Regex needs a group, ( ), around the value, e.g. "T=([-+0-9.Ee]+)"', key)
    return pattern


def _replies(node: Node, key: str) -> tuple[str, ...]:
    value = node.value[key]
    items = value if isinstance(value, list) else [value]
    if not items or any(not isinstance(item, str) or not item.strip() for item in items):
        raise node.error("expected a reply string or a list of them (not empty)", key)
    return tuple(item.strip() for item in items)


def _error_query(node: Node, key: str) -> str | None:
    text: str = node.text(key)
    return text.strip() or None


REPLIES_SCHEMA = {
    "anyOf": [
        {"type": "string", "minLength": 1},
        {"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1}},
    ]
}

DECLARATION = Declaration(
    measurement="scpi",
    device=(
        *visa_keys("VISA resource: TCPIP0::host::port::SOCKET, TCPIP0::host::inst0::INSTR, ASRL/dev/ttyUSB0::INSTR, "
                   "ASRLCOM3::INSTR, USB0::...::INSTR, GPIB0::n::INSTR",
                   "sent after connecting, one string or a list; a command holding a query has its reply read",
                   "how long to wait for each reply", 5000,
                   idn="the expected *IDN? reply; a mismatch is a warning (no *IDN? is sent without it)"),
        serial_section("the serial line of an ASRL resource, as set on the instrument"),
    ),
    device_params=(
        Custom("ReadTermination", "what ends each reply", "\n", reader=_termination,
               json_schema={"type": "string", "minLength": 1, "maxLength": 4}),
        Custom("WriteTermination", "what ends each message sent", "\n", reader=_termination,
               json_schema={"type": "string", "minLength": 1, "maxLength": 4}),
        Number("QueryDelay", "seconds to wait between sending a query and reading its reply", 0.0, minimum=0,
               maximum=60),
        Custom("ErrorQuery", "the query reading the instrument's error queue (e.g. SYST:ERR?); asked after each "
               "CmdOnInit command and after a query gets no reply. None by default", reader=_error_query,
               json_schema={"type": "string"}),
        Flag("JoinQueries", "send the channels' queries joined with ';' in one message (only if the instrument "
             "accepts that)", False),
    ),
    channel=(
        Text("Query", "sent as is; its reply holds the value", required=True, non_empty=True),
        Custom("Regex", "a regular expression; its first group is the value", reader=_regex,
               json_schema={"type": "string", "minLength": 1}),
        Integer("Index", "the value is this item (from 0) of the reply split at Separator", minimum=0, maximum=9999),
        Text("Separator", "what separates the items of the reply, for Index (a space is one too)", ","),
        Text("FieldType", "the field's type: " + ", ".join(FIELD_TYPES), "float", choices=FIELD_TYPES),
        Custom("TrueReply", "boolean: the reply string(s) meaning true (default " + ", ".join(TRUE_REPLIES) + ")",
               reader=_replies, json_schema=REPLIES_SCHEMA),
        Custom("FalseReply", "boolean: the reply string(s) meaning false (default " + ", ".join(FALSE_REPLIES) + ")",
               reader=_replies, json_schema=REPLIES_SCHEMA),
    ),
)  # fmt: skip


def _parse_channel(ch: ChannelConfig) -> ScpiChannel:
    node, values = ch.node, ch.values
    if values["Type"] is not None:
        raise node.error("a SCPI channel has no Type: its Query says what is read", "Type")
    regex, index, kind = values["Regex"], values["Index"], values["FieldType"]
    if regex is not None and index is not None:
        raise node.error("give Regex or Index, not both (each says where the value is)", "Index")
    if values["Separator"] == "":
        raise node.error("the Separator must not be empty", "Separator")
    if node.has("Separator") and index is None:
        raise node.error("Separator is used with Index only; give the Index of the item", "Separator")
    if kind != "boolean":
        for key in ("TrueReply", "FalseReply"):
            if values[key] is not None:
                raise node.error(f'{key} is for FieldType "boolean" only', key)
    if kind != "float" and (ch.multiplier != 1.0 or ch.converter is not None):
        key = "Multiplier" if ch.multiplier != 1.0 else "Converter"
        raise node.error(f'{key} needs a number: use FieldType "float" (an {kind} field stays as read)', key)
    true, false = values["TrueReply"] or TRUE_REPLIES, values["FalseReply"] or FALSE_REPLIES
    both = {t.upper() for t in true} & {f.upper() for f in false}
    if both:
        raise node.error(f"{', '.join(sorted(both))} is both a TrueReply and a FalseReply", "FalseReply")
    parsing = Parsing(regex, index, values["Separator"], kind, true, false)
    return ScpiChannel(ch, values["Query"].strip(), parsing)


# --------------------------------------------------------------------------- the session


class NoReply(Exception):
    """Nothing came within the timeout; the conversation is still in step."""


def expects_reply(command: str) -> bool:
    """True if a message holds a query (``*RST;*OPC?``): its reply must be read."""
    return any("?" in unit for unit in split_units(command))


class ScpiSession(Session):
    """One open connection, for the devices that share it."""

    def __init__(self, instrument: Instrument, devices: Sequence[ScpiDevice]) -> None:
        self.instrument = instrument
        self.devices = list(devices)

    # -- traffic -------------------------------------------------------------
    def exchange(self, device: ScpiDevice, message: str) -> str:
        """Send ``message``, wait QueryDelay, read the reply: NoReply if none came, DeviceError if out of step."""
        try:
            self.instrument.write(message)
            if device.query_delay_s:
                time.sleep(device.query_delay_s)
            return self.instrument.read()
        except ReplyError as exc:  # the raw socket: nothing came (reopened for the next), or too much or a part
            if getattr(self.instrument, "closed", False):
                raise DeviceError(f"reply to {message!r}: {exc}") from exc
            raise NoReply(str(exc)) from exc
        except DeviceError:
            raise
        except Exception as exc:  # pyvisa: VisaIOError; after a timeout, BoundedVisa's device clear kept it in step
            if getattr(exc, "error_code", None) == visa.visa_timeout():
                raise NoReply(f"no reply within the timeout of {device.timeout_ms / 1000:g} s") from exc
            raise DeviceError(f"{message!r}: {describe(exc)}; the connection is reopened") from exc

    def send(self, message: str) -> None:
        try:
            self.instrument.write(message)
        except Exception as exc:
            raise DeviceError(f"sending {message!r}: {describe(exc)}") from exc

    def error_queue(self, device: ScpiDevice) -> list[str]:
        """The instrument's queued errors (ErrorQuery until it reports none); [] without an ErrorQuery."""
        query = device.error_query
        if query is None:
            return []
        errors: list[str] = []
        try:
            read_error_queue(lambda: self.exchange(device, query), into=errors)
        except NoReply as exc:
            errors.append(f"({query} got no reply: {exc})")
        return errors

    def configure(self) -> None:
        for device in self.devices:
            if device.visa_idn is not None:
                try:
                    idn = self.exchange(device, "*IDN?")
                except NoReply as exc:
                    raise DeviceError(f"no reply to *IDN? ({exc}); VISAIDN is set, so the instrument must answer it"
                                      ) from exc  # fmt: skip
                if idn.strip() != device.visa_idn.strip():
                    log.warning("device %s: *IDN? answered %r, VISAIDN expects %r", device.label, excerpt(idn),
                                device.visa_idn)  # fmt: skip
            for command in device.cmd_on_init:
                if expects_reply(command):
                    try:
                        reply = self.exchange(device, command)
                        log.debug("device %s: CmdOnInit %r answered %r", device.label, command, excerpt(reply))
                    except NoReply as exc:
                        log.error("device %s: CmdOnInit %r got no reply: %s", device.label, command, exc)
                else:
                    self.send(command)
                for error in self.error_queue(device):
                    log.error("device %s: CmdOnInit %r: instrument error %s", device.label, command, error)

    def read(self, device: DeviceSpec) -> list[Reading]:
        assert isinstance(device, ScpiDevice)
        replies: dict[str, tuple[str | None, str | None, int]] = {}  # query -> (reply, problem, time)
        for batch in device.messages():
            message = ";".join(batch)
            start = time.time_ns()
            try:
                reply = self.exchange(device, message)
            except NoReply as exc:
                errors = self.error_queue(device)
                why = f"no reply to {message!r} ({exc})" + (f"; instrument error queue: {'; '.join(errors)}"
                                                            if errors else "")  # fmt: skip
                for query in batch:
                    replies[query] = (None, why, (start + time.time_ns()) // 2)
                continue
            when = (start + time.time_ns()) // 2
            units = split_units(reply) if len(batch) > 1 else [reply]
            if len(units) != len(batch):
                why = (f"the reply to {len(batch)} joined queries has {len(units)} part(s): {excerpt(reply, 200)!r}; "
                       "if the instrument does not take queries joined with ';', set JoinQueries to false")  # fmt: skip
                for query in batch:
                    replies[query] = (None, why, when)
                continue
            for query, unit in zip(batch, units, strict=True):
                replies[query] = (unit.strip(), None, when)
        return [self._reading(ch, *replies[ch.query]) for ch in device.channels]

    @staticmethod
    def _reading(ch: ScpiChannel, reply: str | None, problem: str | None, when: int) -> Reading:
        if problem is not None or reply is None:
            return Reading(ch.config, None, when, problem=problem or "no reply", failed=True)
        if ERROR_REPLY.fullmatch(reply):
            return Reading(ch.config, None, when, problem=f"{ch.query!r} answered with an error: {reply}", failed=True)
        try:
            value = extract(reply, ch.parsing)
        except ParseError as exc:
            return Reading(ch.config, None, when, problem=f"{ch.query!r}: {exc}", failed=True)
        return Reading(ch.config, value, when)

    def close(self) -> None:
        try:
            self.instrument.close()
        except Exception as exc:  # closing a dead connection may fail; nothing to do about it
            log.debug("closing the connection: %s", describe(exc))


def open_instrument(device: ScpiDevice) -> Instrument:
    """The raw socket for ``::SOCKET`` resources with pyvisa-py; VISA for the rest (ASRL with its serial line)."""
    return visa.open_instrument(
        device.address,
        device.visa_library,
        device.timeout_ms,
        read_termination=device.read_termination,
        write_termination=device.write_termination,
        line=device.line,
        forms=RESOURCE_FORMS,
    )


class ScpiDriver(Driver):
    """Any SCPI or ASCII instrument, by configuration."""

    declaration = DECLARATION

    connect = staticmethod(open_instrument)

    def device_of(self, config: DeviceConfig, node: Node) -> ScpiDevice:
        values, params = config.values, config.params
        fields = visa_fields(values, config.name, node)
        serial = fields["address"].upper().startswith("ASRL")
        given = node.value.get("SerialConnectionParams") or {}
        if not serial and any(not str(k).startswith("_") for k in given):
            raise node.error("SerialConnectionParams is for serial (ASRL...) resources only", "SerialConnectionParams")
        channels = tuple(_parse_channel(ch) for ch in config.channels)
        device = ScpiDevice(
            config=config,
            deadline_s=0.0,
            **fields,
            line=line_of(values["SerialConnectionParams"]) if serial else None,
            read_termination=params["ReadTermination"],
            write_termination=params["WriteTermination"],
            query_delay_s=float(params["QueryDelay"]),
            error_query=params["ErrorQuery"],
            join_queries=params["JoinQueries"],
            channels=channels,
        )
        deadline = values["Deadline"]
        if deadline is None:  # every round trip may take the timeout, and an error-queue read after it
            trips = len(device.messages()) * (2 if device.error_query else 1)
            waits = 2 if serial else 1  # a serial line is drained for a Timeout after a reply that did not come
            deadline = trips * (waits * device.timeout_ms / 1000 + device.query_delay_s) + 1
        return replace(device, deadline_s=float(deadline))

    def check_all(self, devices: Sequence[DeviceSpec]) -> list[ConfigError]:
        """Devices on one connection need one setting of it: terminations, timeout and serial line."""
        problems = []
        for device, other in sharing([d for d in devices if isinstance(d, ScpiDevice)]):
            if _link(device) != _link(other):
                problems.append(
                    device.config.node.error(
                        f"shares {other.address!r} with device {other.label} but not its ReadTermination, "
                        "WriteTermination, Timeout and SerialConnectionParams; one connection has one setting",
                        "Address",
                    )
                )
        return problems

    def plan(self, device: DeviceSpec) -> str | None:
        assert isinstance(device, ScpiDevice)
        messages = device.messages()
        line = f", serial {describe_line(device.line)}" if device.line is not None else ""
        return (f"{len(device.channels)} channel(s), {len(device.queries())} distinct queries in {len(messages)} "
                f"round trip(s) per gather{line}: " + " | ".join(";".join(m) for m in messages))  # fmt: skip

    def open(self, devices: Sequence[DeviceSpec]) -> Session:
        scpi_devices = [d for d in devices if isinstance(d, ScpiDevice)]
        return set_up(ScpiSession(self.opener(scpi_devices[0]), scpi_devices))


def _link(device: ScpiDevice) -> tuple[Any, ...]:
    return (device.read_termination, device.write_termination, device.timeout_ms, device.line)


DRIVER = ScpiDriver()
