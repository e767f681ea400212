"""A family's channel Types as one table, read by both ends of the line.

A row (``Kind``) is one ``Type`` a channel may have: the request that reads it (a template whose
``{slots}`` the channel fills), its doc line, and the name of the simulator's method that answers it.
The family's protocol module declares the table once; from it come

* the driver's ``Type`` choices and their doc (``Vocabulary.types``, ``Vocabulary.doc``);
* the request a channel sends (``Vocabulary.request``), a missing or needless slot being a config error;
* the simulator's dispatch (``Vocabulary.match``): a request it hears -> the row and the slots' values,
  answered by the simulator's method of the row's ``answer`` name.

So a Type is added in one place, and a test holds each simulator to answer every row.
"""

from __future__ import annotations

import functools
import re
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Slot:
    """A part of a request the channel fills: from its ``key``, as the instrument's ``pattern`` takes it."""

    key: str  # the channel's key (``Axis``), or a name the family fills itself
    pattern: str  # what the simulator accepts there (a regular expression)
    what: str = ""  # how the config error names the allowed values (``x, y or z``)
    example: str = ""  # a value the simulator knows (its tests ask every row with it)


@dataclass(frozen=True)
class Kind:
    """One channel Type: what reads it, what it is, and who answers it in the simulator."""

    type: str
    request: str | None  # with {slot}s; None: the channel brings its own request
    doc: str
    answer: str = ""  # the simulator's method answering it, called with the slots' values
    field: str = "float"  # what the reply holds: the FieldType its value is written as

    @property
    def slots(self) -> tuple[str, ...]:
        if self.request is None:
            return ()
        return tuple(name for _, name, _, _ in string.Formatter().parse(self.request) if name)


class Vocabulary:
    """The table of a family's channel Types, and the slots their requests have."""

    def __init__(self, *kinds: Kind, slots: Mapping[str, Slot] | None = None) -> None:
        self.kinds = {kind.type: kind for kind in kinds}
        self.slots = dict(slots or {})
        unknown = {name for kind in kinds for name in kind.slots} - set(self.slots)
        if unknown:
            raise ValueError(f"requests use undeclared slots: {sorted(unknown)}")

    def types(self) -> tuple[str, ...]:
        return tuple(self.kinds)

    def doc(self) -> str:
        """The Type key's doc: each Type with its line."""
        return ", ".join(f"{kind.type} ({kind.doc})" for kind in self.kinds.values())

    def request(self, type_: str, values: Mapping[str, object], error: Callable[[str, str], Exception]) -> str:
        """The request of a channel of ``type_``, its slots filled from ``values`` (the channel's keys).

        ``error(message, key)`` makes the config error of a slot missing, or given where the Type has none.
        """
        kind = self.kinds[type_]
        assert kind.request is not None, f"Type {type_} brings its own request"
        for name, slot in self.slots.items():
            given = values.get(slot.key) is not None
            if name in kind.slots and not given:
                raise error(f'Type "{type_}" needs the {slot.key}' + (f": {slot.what}" if slot.what else ""), slot.key)
            if name not in kind.slots and given:
                raise error(f'Type "{type_}" has no {slot.key}', slot.key)
        return kind.request.format(**{name: values.get(self.slots[name].key) for name in kind.slots})

    @functools.cached_property
    def _patterns(self) -> list[tuple[re.Pattern[str], Kind]]:
        """One regular expression per request the simulator hears (Types sharing one share its answer)."""
        found: dict[str, tuple[re.Pattern[str], Kind]] = {}
        for kind in self.kinds.values():
            if kind.request is None or kind.request in found:
                continue
            parts = []
            for text, name, _, _ in string.Formatter().parse(kind.request):
                parts.append(re.escape(text))
                if name:
                    parts.append(f"(?P<{name}>{self.slots[name].pattern})")
            found[kind.request] = (re.compile("".join(parts)), kind)
        return list(found.values())

    def example(self, kind: Kind) -> str:
        """The row's request with each slot's example: what a test asks the simulator."""
        assert kind.request is not None
        return kind.request.format(**{name: self.slots[name].example for name in kind.slots})

    def match(self, text: str) -> tuple[Kind, dict[str, str]] | None:
        """The row whose request ``text`` is, and its slots' values; None for a request of no row."""
        for pattern, kind in self._patterns:
            if found := pattern.fullmatch(text):
                return kind, found.groupdict()
        return None
