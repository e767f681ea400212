"""Declared configuration keys: one declaration drives the start-up checks and the JSON Schema.

A family declares its device keys, channel keys and their ``DeviceSpecificParams``
as tuples of ``Key`` objects (``Text``, ``Number``, ``Integer``, ``Flag``,
``Section``, ``Custom``).  ``Keys.read`` checks a node against them with the
``Node`` getters of ``config`` (so every message names file and JSON path) and
returns the values with defaults applied; ``Keys.schema`` writes the same
declaration as JSON Schema for editors.  What a schema cannot say (one key
excludes another, a number must be slot * 100 + channel) stays in the
family's code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from .nodes import MISSING, Node

Schema = dict[str, Any]


def case_insensitive_pattern(options: Iterable[str], *, loose_spaces: bool = False) -> str:
    """A JSON Schema (ECMA-262) pattern matching any of ``options`` in any letter case.

    With ``loose_spaces``, runs of white space inside and around an option do not matter either
    (as for Model strings).
    """

    def char(c: str) -> str:
        if c.isalpha() and c.upper() != c.lower():
            return f"[{c.upper()}{c.lower()}]"
        if c.isspace() and loose_spaces:
            return "\\s+"
        return "\\" + c if c in SPECIALS else c

    def one(text: str) -> str:
        return "".join(char(c) for c in (" ".join(text.split()) if loose_spaces else text))

    edge = "\\s*" if loose_spaces else ""
    return f"^{edge}(?:" + "|".join(one(o) for o in options) + f"){edge}$"


SPECIALS = set(".^$*+?()[]{}|\\/")  # escaped in a pattern; others (-, space) may not be, in ECMA-262 unicode mode


@dataclass(frozen=True)
class Key:
    """One key of an object in the devices file."""

    name: str
    doc: str = ""
    default: Any = None  # the value when absent (None: no value)
    required: bool = False
    secret: bool = False  # never logged; a placeholder may stand in for it with --simulate

    def read(self, node: Node) -> Any:
        """The checked value of this key in ``node`` (an object), or its default."""
        raise NotImplementedError

    def fragment(self) -> Schema:
        """The JSON Schema of this key's value, without its description and default."""
        raise NotImplementedError

    @property
    def _default(self) -> Any:
        return MISSING if self.required else self.default

    def schema(self) -> Schema:
        out = self.fragment()
        if self.doc:
            out["description"] = self.doc
        if self.default is not None and not self.required:
            out["default"] = self.default
        return out


@dataclass(frozen=True)
class Text(Key):
    """A string; with ``choices``, one of them in any letter case (the canonical one is returned)."""

    choices: tuple[str, ...] | None = None
    non_empty: bool = False

    def read(self, node: Node) -> Any:
        value = node.text(self.name, self._default, choices=self.choices)
        if self.non_empty and isinstance(value, str) and not value.strip():
            raise node.error("must not be empty", self.name)
        return value

    def fragment(self) -> Schema:
        if self.choices is not None:
            return {
                "anyOf": [
                    {"enum": list(self.choices)},
                    {"type": "string", "pattern": case_insensitive_pattern(self.choices)},
                ]
            }
        out: Schema = {"type": "string"}
        if self.non_empty:
            out["pattern"] = "\\S"
        return out


@dataclass(frozen=True)
class Number(Key):
    """A finite number, optionally bounded."""

    minimum: float | None = None
    exclusive_minimum: float | None = None
    maximum: float | None = None
    choices: tuple[float, ...] | None = None

    def read(self, node: Node) -> Any:
        value = node.number(
            self.name,
            self._default,
            minimum=self.minimum,
            exclusive_minimum=self.exclusive_minimum,
            maximum=self.maximum,
        )
        if self.choices is not None and value is not None and value not in self.choices:
            raise node.error(f"{value!r} is not allowed; use one of: {', '.join(map(str, self.choices))}", self.name)
        return value

    def fragment(self) -> Schema:
        if self.choices is not None:
            return {"enum": list(self.choices)}
        return _bounds({"type": "number"}, self.minimum, self.exclusive_minimum, self.maximum)


@dataclass(frozen=True)
class Integer(Key):
    """A whole number; a string of digits is accepted, as older files have them."""

    minimum: int | None = None
    maximum: int | None = None

    def read(self, node: Node) -> Any:
        return node.integer(self.name, self._default, minimum=self.minimum, maximum=self.maximum)

    def fragment(self) -> Schema:
        return {
            "anyOf": [
                _bounds({"type": "integer"}, self.minimum, None, self.maximum),
                {"type": "string", "pattern": "^\\s*[0-9]+\\s*$"},
            ]
        }


@dataclass(frozen=True)
class Flag(Key):
    """true or false."""

    def read(self, node: Node) -> Any:
        return node.boolean(self.name, self._default)

    def fragment(self) -> Schema:
        return {"type": "boolean"}


@dataclass(frozen=True)
class Custom(Key):
    """A value with its own reader; its schema is declared beside the reader."""

    reader: Callable[[Node, str], Any] | None = None
    json_schema: Mapping[str, Any] = field(default_factory=dict)

    def read(self, node: Node) -> Any:
        if not node.has(self.name) or node.value[self.name] is None:
            if self.required:
                raise node.error(f"required key {self.name!r} is missing")
            return self.default
        assert self.reader is not None
        return self.reader(node, self.name)

    def fragment(self) -> Schema:
        return dict(self.json_schema)


@dataclass(frozen=True)
class Section(Key):
    """An object with declared members of its own (SerialConnectionParams, DeviceSpecificParams)."""

    keys: Keys | None = None

    def read(self, node: Node) -> Any:
        if self.required and not node.has(self.name):
            raise node.error(f"required key {self.name!r} is missing")
        section = node.object(self.name, {})
        return (self.keys or Keys()).read(section)

    def fragment(self) -> Schema:
        return (self.keys or Keys()).schema()


class Values(dict[str, Any]):
    """The checked values of an object's declared keys, and the node they came from."""

    node: Node

    def __init__(self, node: Node, values: Mapping[str, Any]) -> None:
        super().__init__(values)
        self.node = node


class Keys:
    """The declared members of one kind of object; a later key of the same name replaces an earlier one."""

    def __init__(self, *keys: Key) -> None:
        self._keys: dict[str, Key] = {}
        for key in keys:
            self._keys[key.name] = key

    def __iter__(self) -> Iterator[Key]:
        return iter(self._keys.values())

    def __getitem__(self, name: str) -> Key:
        return self._keys[name]

    def names(self) -> list[str]:
        return list(self._keys)

    def with_keys(self, *keys: Key) -> Keys:
        """These keys plus ``keys`` (which replace keys of the same name)."""
        return Keys(*self._keys.values(), *keys)

    def secret_names(self) -> set[str]:
        """Names of secret keys, at any depth."""
        out = set()
        for key in self:
            if key.secret:
                out.add(key.name)
            if isinstance(key, Section) and key.keys is not None:
                out |= key.keys.secret_names()
        return out

    def read(self, node: Node) -> Values:
        """Check ``node`` (an object): no unknown key, each declared one valid; return the values."""
        node.expect_object()
        node.check_keys(self._keys)
        for name, key in self._keys.items():
            if key.required and (not node.has(name) or node.value[name] is None):
                raise node.error(f"required key {name!r} is missing" + (f" ({key.doc})" if key.doc else ""))
        return Values(node, {name: key.read(node) for name, key in self._keys.items()})

    def schema(self) -> Schema:
        """The declaration as a JSON Schema object (keys starting with '_' are comments)."""
        return {
            "type": "object",
            "required": [k.name for k in self if k.required],
            "propertyNames": {"anyOf": [{"pattern": "^_"}, {"enum": self.names()}]},
            "properties": {k.name: k.schema() for k in self},
        }


def _bounds(schema: Schema, minimum: float | None, exclusive_minimum: float | None, maximum: float | None) -> Schema:
    if minimum is not None:
        schema["minimum"] = minimum
    if exclusive_minimum is not None:
        schema["exclusiveMinimum"] = exclusive_minimum
    if maximum is not None:
        schema["maximum"] = maximum
    return schema
