"""Devices files into typed device and channel objects.

The file is the older logger's format: a list of device objects.  Every problem
found is a ``ConfigError`` naming the file, the JSON path (``[1].Channels.103.Type``)
and what is allowed there.

The keys every model shares (name, model, tags, channels, multiplier, converter,
...) are declared here; a family adds its own in a ``Declaration``.  From that
one declaration come the checks at start-up (``parse_device``) and the JSON
Schema shipped for editors (``schema.py``).  Entries of other models are left
alone beyond their ``Device`` and ``Model`` strings: one file may describe a
whole lab.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .keys import Custom, Flag, Key, Keys, Number, Section, Text, Values
from .nodes import ConfigError, Node, expand_environment, read_file, type_name

__all__ = ["ConfigError", "Node", "expand_environment", "read_file"]


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
    values: Values = field(repr=False, compare=False, default_factory=lambda: Values(Node({}, "", ""), {}))

    @property
    def params(self) -> Values:
        """The channel's checked DeviceSpecificParams."""
        params: Values = self.values["DeviceSpecificParams"]
        return params


@dataclass(frozen=True)
class DeviceConfig:
    """One device entry, with the keys every model shares."""

    name: str
    model: str
    measurement: str
    tags: Mapping[str, str]
    channels: tuple[ChannelConfig, ...]
    node: Node = field(repr=False, compare=False)
    values: Values = field(repr=False, compare=False, default_factory=lambda: Values(Node({}, "", ""), {}))
    #: how messages name the device: its quoted name, and its entry's index where the name repeats
    label: str = field(default="", repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.label:
            object.__setattr__(self, "label", repr(self.name))

    @property
    def host(self) -> str | None:
        """The machine that reads this device (``Host``), or None: every one does."""
        host: str | None = self.values.get("Host")
        return host

    @property
    def params(self) -> Values:
        """The device's checked DeviceSpecificParams."""
        params: Values = self.values["DeviceSpecificParams"]
        return params


# -- readers of the shared keys ------------------------------------------------------------------
def _tags(node: Node, key: str) -> dict[str, str]:
    tags_node = node.object(key, {})
    tags: dict[str, str] = {}
    for name, value_node in tags_node.items():
        if name.startswith("_"):
            continue  # a comment, as everywhere else in the file
        value = value_node.value
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise value_node.error(f"a tag value must be a string or number, found {type_name(value)}")
        text = str(value)
        value_node.check_name(name, "tag key")
        value_node.check_name(text, "tag value")
        tags[name] = text
    return tags


def _converter(node: Node, key: str) -> Polynomial:
    conv = node.object(key)
    conv.check_keys({"Type", "Coefficients"})
    conv.text("Type", choices=["polynomial"])
    coeffs = conv.object("Coefficients")
    by_power: dict[int, float] = {}
    for power_text, coeff_node in coeffs.items():
        if power_text.startswith("_"):
            continue
        if not (power_text.isascii() and power_text.isdigit()) or len(power_text) > 2:
            raise coeff_node.error(f"coefficient keys are exponents 0, 1, 2, ...; found {power_text!r}")
        by_power[int(power_text)] = coeffs.number(power_text)
    if not by_power:
        raise coeffs.error('no coefficients; give at least {"0": c0, "1": c1}')
    if max(by_power) > 20:
        raise coeffs.error(f"exponent {max(by_power)} is above the maximum 20")
    return Polynomial(tuple(by_power.get(k, 0.0) for k in range(max(by_power) + 1)))


@dataclass(frozen=True)
class Limits:
    """A channel's ``Alarm``: the values it should stay between (for the generated checks; reading ignores it)."""

    above: float | None = None  # crit when the value is above this
    below: float | None = None  # crit when the value is below this


def _alarm(node: Node, key: str) -> Limits:
    limits = node.object(key)
    limits.check_keys({"above", "below"})
    above = limits.number("above") if "above" in limits.value else None
    below = limits.number("below") if "below" in limits.value else None
    if above is None and below is None:
        raise limits.error('give "above", "below" or both, e.g. {"above": 25.0, "below": 15.0}')
    if above is not None and below is not None and below >= above:
        raise limits.error(f"'below' ({below:g}) must be under 'above' ({above:g})")
    return Limits(above, below)


ALARM_SCHEMA = {
    "type": "object",
    "properties": {"above": {"type": "number"}, "below": {"type": "number"}},
    "additionalProperties": False,
    "minProperties": 1,
}


def _field_key(node: Node, key: str) -> str:
    value: str = node.text(key)
    node.check_name(value, "field key", key)
    return value


def _measurement(node: Node, key: str) -> str:
    value: str = node.text(key)
    node.check_name(value, "measurement", key, ", ")
    if value.startswith("#"):
        raise node.error("measurement must not start with '#' (that marks a comment line)", key)
    return value


def _name(node: Node, key: str) -> str:
    value: str = node.text(key)
    if not value.strip():
        raise node.error("the device name must not be empty", key)
    node.check_name(value, "device name", key)
    return value


TAGS_SCHEMA = {"$ref": "#/$defs/tags"}
NAME_SCHEMA = {"type": "string", "minLength": 1}


def measurement(default: str) -> Key:
    """The ``measurement`` key with a family's default."""
    return Custom("measurement", "the measurement every line of this device goes to", default, reader=_measurement,
                  json_schema=NAME_SCHEMA)  # fmt: skip


#: the channel keys every model shares
CHANNEL_KEYS = Keys(
    Text("Type", "what the channel reads"),
    Number("Multiplier", "the value is multiplied by this (before the Converter)", 1.0),
    Custom(
        "Converter",
        "a polynomial applied after the Multiplier",
        reader=_converter,
        json_schema={"$ref": "#/$defs/converter"},
    ),  # fmt: skip
    Custom("field-key", "the field name of the value", "value", reader=_field_key, json_schema=NAME_SCHEMA),
    Custom("tags", "tags of this channel's line (they override the device's)", reader=_tags, json_schema=TAGS_SCHEMA),
    Custom(
        "Alarm",
        "limits for `telegraf-lab template`'s checks: crit above `above` or below `below`; reading ignores them",
        reader=_alarm,
        json_schema=ALARM_SCHEMA,
    ),
    Section("DeviceSpecificParams", "settings of this model's channels"),
)

#: the device keys every model shares
DEVICE_KEYS = Keys(
    Custom(
        "Device",
        "the device's name; every line gets the tag device=<name>",
        required=True,
        reader=_name,
        json_schema=NAME_SCHEMA,
    ),  # fmt: skip
    Text("Model", "which instrument this is; picks the family that reads it", required=True),
    Text("Address", "where the instrument is"),
    Number("Timeout", "how long to wait for a reply", exclusive_minimum=0),
    Number(
        "Deadline", "seconds a gather waits for this device; the default follows from Timeout", exclusive_minimum=0
    ),  # fmt: skip
    Custom("tags", "tags added to every line of this device", reader=_tags, json_schema=TAGS_SCHEMA),
    Custom(
        "Host",
        "the machine that reads this device (run --host NAME or --host auto); without it, every host does",
        reader=lambda node, key: node.text(key).strip(),
        json_schema=NAME_SCHEMA,
    ),
    measurement("value"),
    Section("DeviceSpecificParams", "settings of this model"),
    Flag(
        "ParallelReadout", "accepted for compatibility with the older logger; connections are always read in parallel"
    ),
)


class ChannelsKey(Key):
    """``Channels``: channel id -> a channel object of the family's channel keys (parsed by ``parse_device``)."""

    __slots__ = ("keys",)

    def __init__(self, name: str, doc: str, *, keys: Keys) -> None:
        super().__init__(name, doc, required=True)
        self.keys = keys

    def read(self, node: Node) -> Node:
        return node.object(self.name)

    def fragment(self) -> dict[str, Any]:
        return {"type": "object", "minProperties": 1, "additionalProperties": self.keys.schema()}


class Declaration:
    """A family's configuration keys, added to (or replacing) the shared ones."""

    def __init__(
        self,
        measurement: str,
        *,
        device: tuple[Key, ...] = (),
        device_params: tuple[Key, ...] = (),
        channel: tuple[Key, ...] = (),
        channel_params: tuple[Key, ...] = (),
    ) -> None:
        self.measurement = measurement  # the default measurement
        self.device = device
        self.device_params = device_params
        self.channel = channel
        self.channel_params = channel_params
        self._channel_keys: Keys | None = None
        self._device_keys: Keys | None = None

    def channel_keys(self) -> Keys:
        """The keys of this family's channels: the shared ones and its own."""
        if self._channel_keys is None:
            params = Section("DeviceSpecificParams", "settings of this channel", keys=Keys(*self.channel_params))
            self._channel_keys = CHANNEL_KEYS.with_keys(*self.channel, params)
        return self._channel_keys

    def device_keys(self) -> Keys:
        """The keys of this family's device entries: the shared ones and its own."""
        if self._device_keys is None:
            self._device_keys = DEVICE_KEYS.with_keys(
                measurement(self.measurement),
                *self.device,
                Section("DeviceSpecificParams", "settings of this device", keys=Keys(*self.device_params)),
                ChannelsKey("Channels", "what to read: channel id -> channel settings", keys=self.channel_keys()),
            )
        return self._device_keys


def parse_channel(key: str, node: Node, keys: Keys) -> ChannelConfig:
    """Check one channel against ``keys``; its shared settings, typed."""
    values = keys.read(node)
    return ChannelConfig(
        key=key,
        type=values["Type"],
        multiplier=float(values["Multiplier"]),
        converter=values["Converter"],
        field_key=values["field-key"],
        tags=values["tags"] or {},
        node=node,
        values=values,
    )


def parse_device(node: Node, declaration: Declaration) -> DeviceConfig:
    """Check one device entry and its channels against the family's declaration."""
    values = declaration.device_keys().read(node)
    channel_keys = declaration.channel_keys()
    channels_node: Node = values["Channels"]
    channels = tuple(parse_channel(k, c, channel_keys) for k, c in channels_node.items() if not k.startswith("_"))
    if not channels:
        raise channels_node.error("no channels; a device needs at least one")
    device = DeviceConfig(
        name=values["Device"],
        model=values["Model"],
        measurement=values["measurement"],
        tags=values["tags"] or {},
        channels=channels,
        node=node,
        values=values,
    )
    return device


# -- the file -----------------------------------------------------------------------------------
class Entry:
    """One device entry of a file: its node, name and Model."""

    __slots__ = ("node", "name", "model")

    def __init__(self, node: Node, name: str, model: str) -> None:
        self.node = node
        self.name = name
        self.model = model


def entries(file: str | os.PathLike[str]) -> tuple[list[Entry], list[ConfigError]]:
    """The file's device entries, and the problems of entries that are not a named device."""
    root = read_file(file)
    if not isinstance(root.value, list):
        raise root.error(f"expected a list of device objects, found {type_name(root.value)}")
    found, problems = [], []
    for index in range(len(root.value)):
        try:
            node = root.child(index).expect_object()
            found.append(Entry(node, node.text("Device"), node.text("Model")))
        except ConfigError as exc:
            problems.append(exc)
    return found, problems


def load_entries(
    chosen: Sequence[tuple[Entry, Callable[[Node], Any]]],
    *,
    environ: Mapping[str, str] | None = None,
    stand_in: Callable[[str, Node], str | None] | None = None,
) -> tuple[list[Any], list[ConfigError]]:
    """Parse each chosen entry with its parser; every problem of every entry, not only the first.

    ``${NAME}`` is expanded in the chosen entries only (a DAQ needs no PurpleAir key).  Entries
    may share a name, as the older logger's files of 2022 do (one instrument, two entries, two
    sets of settings): they are read as two devices writing the same ``device`` tag.
    """
    env = os.environ if environ is None else environ
    parsed, problems = [], []
    for entry, parse in chosen:
        try:
            node = Node(expand_environment(entry.node, env, stand_in), entry.node.path, entry.node.file)
            parsed.append(parse(node))
        except ConfigError as exc:
            problems.append(exc)
    return parsed, problems


def label_repeated(devices: Sequence[DeviceConfig]) -> None:
    """Where a name repeats, each of its devices is named by its entry's index too (``'DAQ' at [1]``)."""
    counts = Counter(d.name for d in devices)
    for device in devices:
        if counts[device.name] > 1:
            object.__setattr__(device, "label", f"{device.name!r} at {device.node.path}")


def series_problems(channels: Sequence[tuple[DeviceConfig, ChannelConfig, Sequence[str]]]) -> list[ConfigError]:
    """Channels that would write one series (measurement, tag set, field): one would overwrite the other.

    ``channels`` lists every channel of the file with the names of every field it writes (its
    field-key and the extra fields of a status word, say).  A channel's ``device`` tag counts as
    the tag it is, even where it overrides the device's name.
    """
    seen: dict[tuple[str, tuple[tuple[str, str], ...], str], tuple[DeviceConfig, ChannelConfig]] = {}
    problems = []
    for device, ch, names in channels:
        tags = tuple(sorted({"device": device.name, **device.tags, **ch.tags}.items()))
        for name in names:
            other = seen.setdefault((device.measurement, tags, name), (device, ch))
            if other[0] is device and other[1] is ch:  # identity: two entries may be written alike
                continue
            where = "" if other[0] is device else f" of device {other[0].label}"
            problems.append(
                ch.node.error(
                    f"writes the same field {name!r} with the same tags as channel {other[1].key!r}{where}, so "
                    'one would overwrite the other; give it a distinct tag (e.g. "sensor") or field-key'
                )
            )
            break
    return problems
