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
from typing import Any

from .logs import log, redactor
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


class Key:
    """One key of an object in the devices file.

    Plain classes, not dataclasses: a family declares dozens of keys, and these
    classes are built at every start-up (``--once`` by hand), where a dataclass
    costs half a millisecond each to create.
    """

    __slots__ = ("name", "doc", "default", "required", "secret")

    def __init__(
        self, name: str, doc: str = "", default: Any = None, *, required: bool = False, secret: bool = False
    ) -> None:
        self.name = name
        self.doc = doc
        self.default = default  # the value when absent (None: no value)
        self.required = required
        self.secret = secret  # never logged; a placeholder may stand in for it with --simulate

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"

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


class Text(Key):
    """A string; with ``choices``, one of them in any letter case (the canonical one is returned)."""

    __slots__ = ("choices", "non_empty")

    def __init__(
        self,
        name: str,
        doc: str = "",
        default: Any = None,
        *,
        choices: tuple[str, ...] | None = None,
        non_empty: bool = False,
        **flags: Any,
    ) -> None:
        super().__init__(name, doc, default, **flags)
        self.choices = choices
        self.non_empty = non_empty

    def read(self, node: Node) -> Any:
        value = node.text(self.name, self._default, choices=self.choices)
        if self.non_empty and isinstance(value, str) and not value.strip():
            raise node.error("must not be empty", self.name)
        if self.secret and isinstance(value, str):
            return self._secret(node, value)
        return value

    def _secret(self, node: Node, value: str) -> str:
        """A secret, registered to be redacted from every log line; its text never goes into a message."""
        redactor.add(value)
        stripped = value.strip()
        if stripped != value:  # an env file with CRLF line ends, a secret file ending in a newline
            log.warning(
                "%s: %s: white space (a line end?) around the value removed; the value is not shown",
                node.file,
                f"{node.path}.{self.name}" if node.path else self.name,
            )
        if any(not 32 < ord(c) < 127 for c in stripped):
            raise node.error(
                "contains a character that an HTTP header cannot carry (a control character, a space or "
                "non-ASCII); the value is not shown",
                self.name,
            )
        return stripped

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


class Number(Key):
    """A finite number, optionally bounded."""

    __slots__ = ("minimum", "exclusive_minimum", "maximum")

    def __init__(
        self,
        name: str,
        doc: str = "",
        default: Any = None,
        *,
        minimum: float | None = None,
        exclusive_minimum: float | None = None,
        maximum: float | None = None,
        **flags: Any,
    ) -> None:
        super().__init__(name, doc, default, **flags)
        self.minimum = minimum
        self.exclusive_minimum = exclusive_minimum
        self.maximum = maximum

    def read(self, node: Node) -> Any:
        return node.number(
            self.name,
            self._default,
            minimum=self.minimum,
            exclusive_minimum=self.exclusive_minimum,
            maximum=self.maximum,
        )

    def fragment(self) -> Schema:
        return _bounds({"type": "number"}, self.minimum, self.exclusive_minimum, self.maximum)


class Integer(Key):
    """A whole number; a string of digits is accepted, as older files have them."""

    __slots__ = ("minimum", "maximum")

    def __init__(
        self,
        name: str,
        doc: str = "",
        default: Any = None,
        *,
        minimum: int | None = None,
        maximum: int | None = None,
        **flags: Any,
    ) -> None:
        super().__init__(name, doc, default, **flags)
        self.minimum = minimum
        self.maximum = maximum

    def read(self, node: Node) -> Any:
        return node.integer(self.name, self._default, minimum=self.minimum, maximum=self.maximum)

    def fragment(self) -> Schema:
        return {
            "anyOf": [
                _bounds({"type": "integer"}, self.minimum, None, self.maximum),
                {"type": "string", "pattern": "^\\s*[0-9]+\\s*$"},
            ]
        }


class Flag(Key):
    """true or false."""

    __slots__ = ()

    def read(self, node: Node) -> Any:
        return node.boolean(self.name, self._default)

    def fragment(self) -> Schema:
        return {"type": "boolean"}


class Custom(Key):
    """A value with its own reader; its schema is declared beside the reader."""

    __slots__ = ("reader", "json_schema")

    def __init__(
        self,
        name: str,
        doc: str = "",
        default: Any = None,
        *,
        reader: Callable[[Node, str], Any],
        json_schema: Mapping[str, Any],
        **flags: Any,
    ) -> None:
        super().__init__(name, doc, default, **flags)
        self.reader = reader
        self.json_schema = json_schema

    def read(self, node: Node) -> Any:
        if not node.has(self.name) or node.value[self.name] is None:
            if self.required:
                raise node.error(f"required key {self.name!r} is missing")
            return self.default
        return self.reader(node, self.name)

    def fragment(self) -> Schema:
        return dict(self.json_schema)


class Section(Key):
    """An object with declared members of its own (SerialConnectionParams, DeviceSpecificParams)."""

    __slots__ = ("keys",)

    def __init__(self, name: str, doc: str = "", *, keys: Keys | None = None, **flags: Any) -> None:
        super().__init__(name, doc, **flags)
        self.keys = keys or Keys()

    def read(self, node: Node) -> Any:
        if self.required and not node.has(self.name):
            raise node.error(f"required key {self.name!r} is missing")
        return self.keys.read(node.object(self.name, {}))

    def fragment(self) -> Schema:
        return self.keys.schema()


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
            if isinstance(key, Section):
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
