"""pydase services through their REST API: one GET per distinct attribute a gather.

A channel's ``pydaseServerStructure`` (``Attribute``, ``Subclass``,
``SubclassIndex``, as the older logger's files have it) becomes pydase's access
path.  A number (or boolean) is written as a float, as the older logger did; a
Quantity writes its magnitude.  Where the channel has a ``unit`` tag, the
Quantity's unit is compared with it by meaning (pydase sends ``volt`` for a tag's
``V``): a convertible unit is converted to the tag's, another dimension is an
error, never a value in another unit.
Anything else (a string, a list, an exception) is an error for that channel.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from ...base import DeviceError, DeviceSpec, Driver, Reading, Session
from ...config import ChannelConfig, ConfigError, Declaration, DeviceConfig, Node
from ...http_client import HttpClient, HttpError
from ...keys import Custom, Integer, Keys, Number, Section, Text
from ...logs import excerpt
from ...units import UnitError, convert, unit_tag
from .protocol import API, DEFAULT_PORT, IDENTIFIER, access_path, exception_text


@dataclass(frozen=True)
class PydaseChannel:
    config: ChannelConfig
    path: str
    unit: str | None  # the channel's unit tag: a Quantity's unit must equal it


@dataclass(frozen=True)
class PydaseDevice(DeviceSpec):
    base_url: str = ""
    timeout_s: float = 5.0
    channels: tuple[PydaseChannel, ...] = ()

    def paths(self) -> list[str]:
        return list(dict.fromkeys(ch.path for ch in self.channels))


def _name(node: Node, key: str) -> str:
    text: str = node.text(key).strip()
    if not IDENTIFIER.fullmatch(text):
        raise node.error(f"{text!r} is not an attribute name (letters, digits, _; dots between names)", key)
    return text


def _index(node: Node, key: str) -> int | str:
    value = node.value[key]
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise node.error("expected a list index (a whole number) or a dict key (a string)", key)
    return value


NAME_SCHEMA = {"type": "string", "pattern": "^\\s*[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*\\s*$"}

DECLARATION = Declaration(
    measurement="pydase",
    device=(
        Text("Address", "the service's host name or IP address (or http://host:port)", required=True,
             non_empty=True),
        Integer("Port", "the service's web port (pydase's web_port)", DEFAULT_PORT, minimum=1, maximum=65535),
        Number("Timeout", "seconds to wait for each reply", 5.0, exclusive_minimum=0, maximum=600),
    ),
    channel=(
        Text("Type", "pydaseAttribute", "pydaseAttribute", choices=("pydaseAttribute",)),
        Section("pydaseServerStructure", "where the attribute is in the service", required=True, keys=Keys(
            Custom("Attribute", "the attribute's name", required=True, reader=_name, json_schema=NAME_SCHEMA),
            Custom("Subclass", "the sub-service (an attribute of the service) holding it", reader=_name,
                   json_schema=NAME_SCHEMA),
            Custom("SubclassIndex", "the index (list) or key (dict) into the Subclass", reader=_index,
                   json_schema={"type": ["integer", "string"]}),
        )),
    ),
)  # fmt: skip


def base_url(address: str, port: int, node: Node) -> str:
    text = address.strip().rstrip("/")
    if re.match(r"https?://", text):
        if not re.fullmatch(r"https?://[^\s/?#]+", text):
            raise node.error(f"{address!r}: give the service's origin only (http://host:port)", "Address")
        return text
    if not re.fullmatch(r"[A-Za-z0-9.\-]+|\[[0-9A-Fa-f:.]+\]", text):
        raise node.error(f"{address!r} is not a host name or IP address", "Address")
    return f"http://{text}:{port}"


class PydaseSession(Session):
    def __init__(self) -> None:
        self.http = HttpClient()

    def read(self, device: DeviceSpec) -> list[Reading]:
        assert isinstance(device, PydaseDevice)
        results: dict[str, tuple[Any, str | None, int]] = {}
        for path in device.paths():
            url = f"{device.base_url}{API}?access_path={quote(path, safe='')}"
            start = time.time_ns()
            try:
                body = self.http.get_json(url, {}, device.timeout_s, f"{path!r}", detail=exception_text)
                problem = None
            except HttpError as exc:
                if exc.status is None:  # no HTTP reply at all: the service is down
                    raise DeviceError(str(exc)) from exc
                body, problem = None, str(exc)
            results[path] = (body, problem, (start + time.time_ns()) // 2)
        return [_reading(ch, *results[ch.path]) for ch in device.channels]

    def close(self) -> None:
        self.http.close()


def _reading(ch: PydaseChannel, body: Any, problem: str | None, when: int) -> Reading:
    def failed(text: str) -> Reading:
        return Reading(ch.config, None, when, problem=text, failed=True)

    if problem is not None:
        return failed(problem)
    if not isinstance(body, dict) or "type" not in body or "value" not in body:
        return failed(f"{ch.path!r}: not a serialized pydase value: {excerpt(str(body), 200)}")
    kind, value = body["type"], body["value"]
    if kind == "Quantity":
        if not isinstance(value, dict) or not isinstance(value.get("magnitude"), (int, float)):
            return failed(f"{ch.path!r}: a Quantity without a numeric magnitude: {excerpt(str(value), 200)}")
        value = value["magnitude"]
        if ch.unit is not None:
            try:
                value = convert(float(value), str(body["value"].get("unit", "")), ch.unit, repr(ch.path))
            except (UnitError, OverflowError) as exc:
                return failed(str(exc))
    elif kind not in ("float", "int", "bool"):
        return failed(f"{ch.path!r} is a {excerpt(str(kind), 40)}, not a number")
    if not isinstance(value, (int, float)):  # a boolean is one: written as 1.0 or 0.0, as the older logger did
        return failed(f"{ch.path!r}: value {excerpt(str(value), 80)!r} is not a number")
    try:
        number = float(value)
    except OverflowError:  # an int of hundreds of digits: no float holds it
        return failed(f"{ch.path!r}: value {excerpt(str(value), 40)!r} is too large for a float field")
    if not math.isfinite(number):
        return Reading(ch.config, number, when, problem=f"{ch.path!r} is {number}")
    return Reading(ch.config, number, when)


class PydaseDriver(Driver):
    """pydase services."""

    declaration = DECLARATION

    @staticmethod
    def connect(device: PydaseDevice) -> PydaseSession:
        return PydaseSession()

    def device_of(self, config: DeviceConfig, node: Node) -> PydaseDevice:
        values = config.values
        url = base_url(values["Address"], values["Port"], node)
        channels = []
        for ch in config.channels:
            where = ch.values["pydaseServerStructure"]
            if where["SubclassIndex"] is not None and where["Subclass"] is None:
                raise where.node.error("SubclassIndex needs the Subclass it indexes", "SubclassIndex")
            path = access_path(where["Attribute"], where["Subclass"], where["SubclassIndex"])
            channels.append(PydaseChannel(ch, path, unit_tag(config, ch)))
        timeout_s = float(values["Timeout"])
        deadline = values["Deadline"]
        return PydaseDevice(
            config=config,
            connection=f"pydase|{url.lower()}",
            deadline_s=float(deadline) if deadline is not None else len({c.path for c in channels}) * timeout_s + 1,
            base_url=url,
            timeout_s=timeout_s,
            channels=tuple(channels),
        )

    def check_all(self, devices: Sequence[DeviceSpec]) -> list[ConfigError]:
        return []

    def plan(self, device: DeviceSpec) -> str | None:
        assert isinstance(device, PydaseDevice)
        return f"{device.base_url}{API}: " + ", ".join(device.paths()) + " per gather"

    def open(self, devices: Sequence[DeviceSpec]) -> Session:
        device = devices[0]
        assert isinstance(device, PydaseDevice)
        return self.opener(device)


DRIVER = PydaseDriver()
