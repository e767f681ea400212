"""Values read from a devices file, each with its location (file and JSON path).

``Node`` wraps a value with its location and has typed getters whose errors
name file, JSON path and what is allowed there: every configuration message
has that one shape.  ``expand_environment`` substitutes ``${NAME}``.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
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
    return f"{path}[{json.dumps(key, ensure_ascii=False)}]"


def type_name(value: Any) -> str:
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


MISSING: Any = object()  # "no default": the key is required


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
            raise self.error(f"expected an object, found {type_name(self.value)}")
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
            import difflib  # only when there is a problem to explain

            close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise self.error(f"unknown key {key!r}; {hint}allowed here: {', '.join(allowed)}", key)

    def items(self) -> list[tuple[str, Node]]:
        """The members of an object, as (key, Node) pairs in file order."""
        return [(key, self.child(key)) for key in self.value]

    # -- typed getters -------------------------------------------------------
    def _get(self, key: str, default: Any) -> Any:
        if key not in self.value or self.value[key] is None and default is not MISSING:
            if default is MISSING:
                raise self.error(f"required key {key!r} is missing")
            return default
        return self.value[key]

    def text(self, key: str, default: Any = MISSING, *, choices: Iterable[str] | None = None) -> Any:
        """A string member; with ``choices``, one of them (case-insensitive, canonical case returned)."""
        value = self._get(key, default)
        if value is default and default is not MISSING:
            return value
        if not isinstance(value, str):
            raise self.error(f"expected a string, found {type_name(value)}", key)
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
        default: Any = MISSING,
        *,
        minimum: float | None = None,
        exclusive_minimum: float | None = None,
        maximum: float | None = None,
    ) -> Any:
        """A finite number member (int or float), optionally bounded."""
        value = self._get(key, default)
        if value is default and default is not MISSING:
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(f"expected a number, found {type_name(value)}", key)
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
        self, key: str, default: Any = MISSING, *, minimum: int | None = None, maximum: int | None = None
    ) -> Any:
        """An integer member; a string of digits is accepted (older files use them)."""
        value = self._get(key, default)
        if value is default and default is not MISSING:
            return value
        if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit() and len(value) < 20:
            value = int(value)  # ASCII digits only: "10²" is no number
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(f"expected a whole number, found {type_name(value)}", key)
        if minimum is not None and value < minimum or maximum is not None and value > maximum:
            raise self.error(f"{value} is outside the allowed range {minimum}..{maximum}", key)
        return value

    def boolean(self, key: str, default: Any = MISSING) -> Any:
        """A boolean member."""
        value = self._get(key, default)
        if value is default and default is not MISSING:
            return value
        if not isinstance(value, bool):
            raise self.error(f"expected true or false, found {type_name(value)}", key)
        return value

    def object(self, key: str, default: Any = MISSING) -> Node:
        """An object member, as a Node (``default`` is used when missing, e.g. {})."""
        if key not in self.value or self.value[key] is None:
            if default is MISSING:
                raise self.error(f"required key {key!r} is missing")
            return Node(default, _join(self.path, key), self.file)
        return self.child(key).expect_object()


# -- environment variables ---------------------------------------------------
_ENV_REF = re.compile(r"\$\{([^}]*)\}")


def expand_environment(
    node: Node, environ: Mapping[str, str], stand_in: Callable[[str, Node], str | None] | None = None
) -> Any:
    """Return the JSON tree with ``${NAME}`` in every string replaced from ``environ``.

    An unset variable is an error, unless ``stand_in(NAME, node)`` gives a value to use instead.
    """
    value = node.value
    if isinstance(value, str):

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                raise node.error(f"${{{name}}} is not a valid environment variable reference")
            if name in environ:
                return environ[name]
            if stand_in is not None and (replacement := stand_in(name, node)) is not None:
                return replacement
            raise node.error(f"environment variable {name} is not set (referenced as ${{{name}}})")

        return _ENV_REF.sub(substitute, value)
    if isinstance(value, list):
        return [expand_environment(node.child(i), environ, stand_in) for i in range(len(value))]
    if isinstance(value, dict):
        out = _object_pairs([(k, expand_environment(node.child(k), environ, stand_in)) for k in value])
        out.duplicates = list(getattr(value, "duplicates", []))
        return out
    return value


YAML_SUFFIXES = (".yaml", ".yml")


def read_file(file: str | os.PathLike[str]) -> Node:
    """Read a devices file, JSON or (``.yaml``/``.yml``) YAML, into a Node; syntax errors become ConfigError."""
    name = str(file)
    try:
        text = Path(file).read_text(encoding="utf-8-sig")  # a BOM (Windows editors write one) is no error
    except OSError as exc:
        raise ConfigError(name, "", f"cannot read the file: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(name, "", f"not UTF-8 text: {exc}") from None
    if Path(name).suffix.lower() in YAML_SUFFIXES:
        return read_yaml(text, name)
    return read_json(text, name)


def read_yaml(text: str, name: str) -> Node:
    """A YAML devices file (the older logger's since mid-2025), read as its reader does: safe loading."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    try:
        value = YAML(typ="safe", pure=True).load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        what = " ".join(str(exc.problem or exc.context or "syntax error").split())
        raise ConfigError(name, "", f"invalid YAML{where}: {what}") from None
    except (YAMLError, ValueError) as exc:  # ValueError: an integer of more digits than Python converts
        raise ConfigError(name, "", f"invalid YAML: {' '.join(str(exc).split())[:300]}") from None
    except RecursionError:
        raise ConfigError(name, "", f"lists or objects nested deeper than {MAX_DEPTH} levels") from None
    return Node(check_tree(value, name, yaml_keys=True), "", name)


def read_json(text: str, name: str) -> Node:
    """A JSON devices file; duplicate keys are remembered, to be refused where they stand."""
    try:
        value = json.loads(text, object_pairs_hook=_object_pairs, parse_int=_parse_int)
    except json.JSONDecodeError as exc:
        raise ConfigError(name, "", f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise ConfigError(name, "", f"lists or objects nested deeper than {MAX_DEPTH} levels") from None
    return Node(check_tree(value, name), "", name)


MAX_DEPTH = 32  # a devices file needs 6 levels; deeper is a broken file, and recursion must stay bounded


def _parse_int(text: str) -> int | float:
    """A JSON integer; one of more digits than any setting has becomes a float (inf if huge), never a slow int."""
    return int(text) if len(text) <= 20 else float(text)


#: values a devices file may hold once YAML's aliases are expanded: 10,000 channels need about 100,000
MAX_VALUES = 1_000_000


def check_tree(value: Any, file: str, *, yaml_keys: bool = False) -> Any:
    """Check every value of a file, as its aliases expand: depth, size, text; return it with keys as text.

    Shared values (YAML aliases) are visited once, so a file of nested aliases costs what it holds, not what
    it expands to; expanded past MAX_VALUES values, or nested deeper than MAX_DEPTH, or holding itself, it is
    refused.  Text that is not Unicode (a lone surrogate, from a broken ``\\u`` escape) is refused where it
    stands.  With ``yaml_keys``, keys YAML reads as whole numbers (a channel ``101:``) become their decimal
    text; null and other keys that are not text are refused.
    """
    done: dict[int, tuple[Any, int, int]] = {}  # id -> (checked value, values expanded, height)
    open_ids: set[int] = set()
    stack: list[tuple[Any, str, bool]] = [(value, "", False)]
    while stack:
        item, path, children_done = stack.pop()
        if not isinstance(item, (dict, list)):
            if isinstance(item, str):
                _check_text(item, file, path)
            continue
        if id(item) in done:
            continue
        if not children_done:
            if id(item) in open_ids:
                raise ConfigError(file, path, "an alias refers to a value that holds it: it would never end")
            open_ids.add(id(item))
            stack.append((item, path, True))
            pairs = ((_path_key(k), c) for k, c in item.items()) if isinstance(item, dict) else enumerate(item)
            for key, child in pairs:
                if isinstance(child, (dict, list)) and id(child) in open_ids:
                    raise ConfigError(file, _join(path, key), "an alias refers to a value that holds it: it would "
                                      "never end")  # fmt: skip
                stack.append((child, _join(path, key), False))
            continue
        open_ids.discard(id(item))
        done[id(item)] = _checked(item, path, file, done, yaml_keys)
    checked, _, _ = done[id(value)] if isinstance(value, (dict, list)) else (value, 1, 0)
    return checked


def _checked(item: Any, path: str, file: str, done: dict[int, tuple[Any, int, int]], yaml_keys: bool) -> Any:
    """One list or object whose children are checked: its checked copy, values and height; ConfigError."""

    def of(child: Any) -> tuple[Any, int, int]:
        return done[id(child)] if isinstance(child, (dict, list)) else (child, 1, 0)

    count, height = 1, 0
    if isinstance(item, list):
        out: Any = []
        for child in item:
            value, n, h = of(child)
            out.append(value)
            count, height = count + n, max(height, h)
    else:
        out = item if not yaml_keys else _Object()
        if yaml_keys:
            out.duplicates = list(getattr(item, "duplicates", []))
        for key, child in item.items():
            text = _key_text(key, path, file) if yaml_keys else key
            _check_text(text, file, path)
            value, n, h = of(child)
            if yaml_keys:
                if text in out:
                    raise ConfigError(file, _join(path, text), f"the key {text!r} is given twice (as {key!r})")
                out[text] = value
            count, height = count + n, max(height, h)
    if count > MAX_VALUES:
        raise ConfigError(file, path, f"holds more than {MAX_VALUES:,} values once its aliases are expanded")
    if height + 1 > MAX_DEPTH:
        raise ConfigError(file, path, f"lists or objects nested deeper than {MAX_DEPTH} levels")
    return out, count, height + 1


def _path_key(key: Any) -> str:
    """A key as the JSON path names it (YAML's keys may be numbers, or null)."""
    return key if isinstance(key, str) else str(key)


def _key_text(key: Any, path: str, file: str) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, int) and not isinstance(key, bool):
        return str(key)  # YAML reads an unquoted 101: as a number; the older logger's reader used it as one
    what = "null (~ or nothing)" if key is None else f"{type_name(key)} {key!r}"
    raise ConfigError(file, path, f"a key that YAML reads as {what}: write the name, quoted if need be")


def _check_text(text: str, file: str, path: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        shown = text.encode("utf-8", "backslashreplace").decode("ascii", "replace")[:80]
        raise ConfigError(file, path, f"{shown!r} is not Unicode text (a lone surrogate: a broken \\u escape?)"
                          ) from None  # fmt: skip
