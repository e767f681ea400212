"""Load devices.json into typed device and channel objects.

The file is the older logger's format: a JSON list of device objects.  Every
problem found stops start-up with one ``ConfigError`` naming the file, the JSON
path (``[1].Channels.103.Type``) and what is allowed there.

Generic keys (name, model, tags, channels, multiplier, converter, ...) are
checked here for the devices an executable will read; model-specific keys are
checked by the driver, through the same ``Node`` helpers, so that every message
has the same shape.  Devices of other models are left alone beyond their
``Device`` and ``Model`` strings: one file may describe a whole lab.
"""

from __future__ import annotations

import difflib
import json
import math
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .lineprotocol import check_name


class ConfigError(Exception):
    """A problem in a devices.json file, located by file and JSON path."""

    def __init__(self, file: str, path: str, message: str) -> None:
        super().__init__(f"{file}: {path or '(top level)'}: {message}")
        self.file = file
        self.path = path
        self.message = message


class _Object(dict):
    """A JSON object that remembers keys that appeared twice."""

    duplicates: list[str]


def _object_pairs(pairs: list[tuple[str, Any]]) -> _Object:
    obj = _Object()
    obj.duplicates = []
    for key, value in pairs:
        if key in obj:
            obj.duplicates.append(key)
        obj[key] = value
    return obj


_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_\-]+$")


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    if _PLAIN_KEY.match(key):
        return f"{path}.{key}" if path else key
    return f"{path}[{json.dumps(key)}]"


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


_MISSING = object()


@dataclass(frozen=True)
class Node:
    """A value in the file together with its location, with typed getters."""

    value: Any
    path: str
    file: str

    def error(self, message: str, key: str | int | None = None) -> ConfigError:
        """Return a ConfigError located at this node (or at its member ``key``)."""
        return ConfigError(self.file, self.path if key is None else _join(self.path, key), message)

    def child(self, key: str | int) -> Node:
        """Return the member ``key`` (which must exist) as a Node."""
        return Node(self.value[key], _join(self.path, key), self.file)

    def check_name(self, text: str, what: str, key: str | int | None = None, specials: str = ",= ") -> None:
        """Raise (at this node, or its member ``key``) unless ``text`` is a name line protocol can carry."""
        try:
            check_name(text, what, specials)
        except ValueError as exc:
            raise self.error(str(exc), key) from None

    def has(self, key: str) -> bool:
        """True if this object has member ``key``."""
        return key in self.value

    # -- shape checks --------------------------------------------------------
    def expect_object(self) -> Node:
        """Raise unless this node is a JSON object without duplicate keys."""
        if not isinstance(self.value, dict):
            raise self.error(f"expected an object, found {_type_name(self.value)}")
        duplicates = getattr(self.value, "duplicates", [])
        if duplicates:
            raise self.error(f"key {duplicates[0]!r} appears more than once", duplicates[0])
        return self

    def check_keys(self, allowed: Iterable[str]) -> None:
        """Raise on a key that is not allowed; keys starting with '_' are comments."""
        allowed = sorted(set(allowed))
        for key in self.value:
            if key in allowed or key.startswith("_"):
                continue
            close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise self.error(f"unknown key {key!r}; {hint}allowed here: {', '.join(allowed)}", key)

    def items(self) -> list[tuple[str, Node]]:
        """The members of an object, as (key, Node) pairs in file order."""
        return [(key, self.child(key)) for key in self.value]

    # -- typed getters -------------------------------------------------------
    def _get(self, key: str, default: Any) -> Any:
        if key not in self.value or self.value[key] is None and default is not _MISSING:
            if default is _MISSING:
                raise self.error(f"required key {key!r} is missing")
            return default
        return self.value[key]

    def text(self, key: str, default: Any = _MISSING, *, choices: Iterable[str] | None = None) -> Any:
        """A string member; with ``choices``, one of them (case-insensitive, canonical case returned)."""
        value = self._get(key, default)
        if value is default and default is not _MISSING:
            return value
        if not isinstance(value, str):
            raise self.error(f"expected a string, found {_type_name(value)}", key)
        if choices is not None:
            options = list(choices)
            for option in options:
                if value.upper() == option.upper():
                    return option
            raise self.error(f"{value!r} is not allowed; use one of: {', '.join(options)}", key)
        return value

    def number(
        self,
        key: str,
        default: Any = _MISSING,
        *,
        minimum: float | None = None,
        exclusive_minimum: float | None = None,
        maximum: float | None = None,
    ) -> Any:
        """A finite number member (int or float), optionally bounded."""
        value = self._get(key, default)
        if value is default and default is not _MISSING:
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(f"expected a number, found {_type_name(value)}", key)
        if not math.isfinite(value):
            raise self.error("expected a finite number", key)
        if minimum is not None and value < minimum:
            raise self.error(f"{value} is below the minimum {minimum}", key)
        if exclusive_minimum is not None and value <= exclusive_minimum:
            raise self.error(f"{value} must be greater than {exclusive_minimum}", key)
        if maximum is not None and value > maximum:
            raise self.error(f"{value} is above the maximum {maximum}", key)
        return value

    def integer(
        self, key: str, default: Any = _MISSING, *, minimum: int | None = None, maximum: int | None = None
    ) -> Any:
        """An integer member; a string of digits is accepted (older files use them)."""
        value = self._get(key, default)
        if value is default and default is not _MISSING:
            return value
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(f"expected a whole number, found {_type_name(value)}", key)
        if minimum is not None and value < minimum or maximum is not None and value > maximum:
            raise self.error(f"{value} is outside the allowed range {minimum}..{maximum}", key)
        return value

    def boolean(self, key: str, default: Any = _MISSING) -> Any:
        """A boolean member."""
        value = self._get(key, default)
        if value is default and default is not _MISSING:
            return value
        if not isinstance(value, bool):
            raise self.error(f"expected true or false, found {_type_name(value)}", key)
        return value

    def object(self, key: str, default: Any = _MISSING) -> Node:
        """An object member, as a Node (``default`` is used when missing, e.g. {})."""
        if key not in self.value or self.value[key] is None:
            if default is _MISSING:
                raise self.error(f"required key {key!r} is missing")
            return Node(default, _join(self.path, key), self.file)
        return self.child(key).expect_object()


# -- environment variables ---------------------------------------------------
_ENV_REF = re.compile(r"\$\{([^}]*)\}")


def expand_environment(node: Node, environ: Mapping[str, str]) -> Any:
    """Return the JSON tree with ``${NAME}`` in every string replaced from ``environ``."""
    value = node.value
    if isinstance(value, str):

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                raise node.error(f"${{{name}}} is not a valid environment variable reference")
            if name not in environ:
                raise node.error(f"environment variable {name} is not set (referenced as ${{{name}}})")
            return environ[name]

        return _ENV_REF.sub(substitute, value)
    if isinstance(value, list):
        return [expand_environment(node.child(i), environ) for i in range(len(value))]
    if isinstance(value, dict):
        out = _object_pairs([(k, expand_environment(node.child(k), environ)) for k in value])
        out.duplicates = list(getattr(value, "duplicates", []))
        return out
    return value


# -- typed configuration -----------------------------------------------------
@dataclass(frozen=True)
class Polynomial:
    """value -> sum of coefficients[k] * value**k."""

    coefficients: tuple[float, ...]

    def __call__(self, x: float) -> float:
        result = 0.0
        for c in reversed(self.coefficients):  # Horner's scheme
            result = result * x + c
        return result


@dataclass(frozen=True)
class ChannelConfig:
    """One entry of a device's ``Channels`` object."""

    key: str
    type: str | None
    multiplier: float
    converter: Polynomial | None
    field_key: str
    tags: Mapping[str, str]
    node: Node = field(repr=False, compare=False)

    @property
    def params(self) -> Node:
        """The channel's DeviceSpecificParams, as a Node ({} when absent)."""
        return self.node.object("DeviceSpecificParams", {})


@dataclass(frozen=True)
class DeviceConfig:
    """One device entry, with the keys every model shares."""

    name: str
    model: str
    measurement: str
    tags: Mapping[str, str]
    channels: tuple[ChannelConfig, ...]
    node: Node = field(repr=False, compare=False)

    @property
    def params(self) -> Node:
        """The device's DeviceSpecificParams, as a Node ({} when absent)."""
        return self.node.object("DeviceSpecificParams", {})


DEVICE_KEYS = frozenset(
    {
        "Device",
        "Model",
        "Address",
        "Timeout",
        "Deadline",
        "tags",
        "measurement",
        "Channels",
        "DeviceSpecificParams",
        "ParallelReadout",
    }
)
CHANNEL_KEYS = frozenset({"Type", "Multiplier", "Converter", "field-key", "tags", "DeviceSpecificParams"})


def _tags(node: Node, key: str) -> dict[str, str]:
    tags_node = node.object(key, {})
    tags: dict[str, str] = {}
    for name, value_node in tags_node.items():
        value = value_node.value
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise value_node.error(f"a tag value must be a string or number, found {_type_name(value)}")
        text = str(value)
        value_node.check_name(name, "tag key")
        value_node.check_name(text, "tag value")
        tags[name] = text
    return tags


def _converter(node: Node) -> Polynomial | None:
    if not node.has("Converter") or node.value["Converter"] is None:
        return None
    conv = node.object("Converter")
    conv.check_keys({"Type", "Coefficients"})
    conv.text("Type", choices=["polynomial"])
    coeffs = conv.object("Coefficients")
    by_power: dict[int, float] = {}
    for power_text, coeff_node in coeffs.items():
        if not power_text.isdigit():
            raise coeff_node.error(f"coefficient keys are exponents 0, 1, 2, ...; found {power_text!r}")
        by_power[int(power_text)] = coeffs.number(power_text)
    if not by_power:
        raise coeffs.error('no coefficients; give at least {"0": c0, "1": c1}')
    if max(by_power) > 20:
        raise coeffs.error(f"exponent {max(by_power)} is above the maximum 20")
    return Polynomial(tuple(by_power.get(k, 0.0) for k in range(max(by_power) + 1)))


def parse_channel(key: str, node: Node, extra_keys: Iterable[str] = ()) -> ChannelConfig:
    """Parse the generic keys of one channel; ``extra_keys`` are the model's own."""
    node.expect_object()
    node.check_keys(CHANNEL_KEYS | set(extra_keys))
    field_key = node.text("field-key", "value")
    node.check_name(field_key, "field key", "field-key")
    node.object("DeviceSpecificParams", {})
    return ChannelConfig(
        key=key,
        type=node.text("Type", None),
        multiplier=float(node.number("Multiplier", 1.0)),
        converter=_converter(node),
        field_key=field_key,
        tags=_tags(node, "tags"),
        node=node,
    )


def parse_device(
    node: Node,
    *,
    default_measurement: str,
    extra_device_keys: Iterable[str] = (),
    extra_channel_keys: Iterable[str] = (),
) -> DeviceConfig:
    """Parse the generic keys of one device entry and its channels."""
    node.check_keys(DEVICE_KEYS | set(extra_device_keys))
    measurement = node.text("measurement", default_measurement)
    node.check_name(measurement, "measurement", "measurement", ", ")
    if measurement.startswith("#"):
        raise node.error("measurement must not start with '#' (that marks a comment line)", "measurement")
    node.object("DeviceSpecificParams", {})
    channels_node = node.object("Channels")
    channels = tuple(parse_channel(k, c, extra_channel_keys) for k, c in channels_node.items())
    if not channels:
        raise channels_node.error("no channels; a device needs at least one")
    fields_seen: dict[tuple[Any, ...], str] = {}
    device = DeviceConfig(
        name=node.text("Device"),
        model=node.text("Model"),
        measurement=measurement,
        tags=_tags(node, "tags"),
        channels=channels,
        node=node,
    )
    for ch in channels:
        series = (tuple(sorted({**device.tags, **ch.tags}.items())), ch.field_key)
        if series in fields_seen:
            raise ch.node.error(
                f"writes the same field {ch.field_key!r} with the same tags as channel "
                f"{fields_seen[series]!r}, so one would overwrite the other; give it a distinct "
                'tag (e.g. "sensor") or field-key'
            )
        fields_seen[series] = ch.key
    return device


def read_json(file: str | os.PathLike[str]) -> Node:
    """Read a JSON file into a Node, turning syntax errors into ConfigError."""
    name = str(file)
    try:
        text = Path(file).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(name, "", f"cannot read the file: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(name, "", f"not UTF-8 text: {exc}") from None
    try:
        value = json.loads(text, object_pairs_hook=_object_pairs)
    except json.JSONDecodeError as exc:
        raise ConfigError(name, "", f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    return Node(value, "", name)


def load(
    file: str | os.PathLike[str],
    select: Callable[[str], bool],
    parse: Callable[[Node], Any],
    *,
    environ: Mapping[str, str] | None = None,
) -> list[Any]:
    """Load the devices whose Model ``select`` accepts, each parsed by ``parse``.

    Every entry must be an object with string ``Device`` and ``Model``; only the
    selected ones are checked further.  Device names must be unique.
    """
    root = read_json(file)
    if not isinstance(root.value, list):
        raise root.error(f"expected a list of device objects, found {_type_name(root.value)}")
    env = os.environ if environ is None else environ
    parsed = []
    names: dict[str, str] = {}
    for index in range(len(root.value)):
        node = root.child(index).expect_object()
        node.text("Device")
        if not select(node.text("Model")):
            continue
        # ${NAME} is expanded in this executable's entries only: a DAQ needs no PurpleAir key
        node = Node(expand_environment(node, env), node.path, node.file)
        name = node.text("Device")
        if not name.strip():
            raise node.error("the device name must not be empty", "Device")
        node.check_name(name, "device name", "Device")
        if name in names:
            raise node.error(f"device name {name!r} is already used at {names[name]}", "Device")
        names[name] = node.path
        parsed.append(parse(node))
    return parsed
