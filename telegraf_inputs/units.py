"""Units compared by what they mean, with pint (the library pydase itself builds its Quantities on).

``V`` is ``volt``, ``mbar`` is ``millibar``, ``degC`` is ``degree_Celsius``; the older logger's
``DegC`` is found too (a spelling pint does not know is looked up again without letter case), and a
one-letter ``C`` or ``F`` beside a temperature is degC or degF.  A
value in a convertible unit is converted to the unit a channel's ``unit`` tag names; a unit of
another dimension is a :class:`UnitError`, never a value.  pint is loaded on first use only: a
file whose units all match letter for letter never loads it.
"""

from __future__ import annotations

import functools
import logging
import math
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .config import ChannelConfig, DeviceConfig

log = logging.getLogger("telegraf_inputs")

MAX_UNIT_TEXT = 64  # longer is not a unit: never handed to pint's parser

_lock = threading.Lock()
_registries: list[Any] = []


class UnitError(ValueError):
    """A value that cannot be written in the unit asked for; the message says why."""


def _pint() -> tuple[Any, Any]:
    """pint's registries: letter case as written, then without letter case (for ``DegC``, ``PSI``)."""
    if not _registries:
        import pint

        _registries.extend([pint.UnitRegistry(), pint.UnitRegistry(case_sensitive=False)])
    return _registries[0], _registries[1]


@functools.lru_cache(maxsize=256)
def _meaning(text: str) -> tuple[Any, Any] | None:
    """(registry, unit) for ``text``, or None where pint knows no such unit."""
    text = text.strip()
    if not text or len(text) > MAX_UNIT_TEXT:
        return None
    with _lock:
        for registry in _pint():
            try:
                return registry, registry.parse_units(text)
            except Exception:  # pint raises many kinds for text that is not a unit  # noqa: BLE001
                continue
    return None


def known(text: str) -> bool:
    """Whether ``text`` names a unit pint knows."""
    return _meaning(text) is not None


def convert(value: float, unit: str, wanted: str, what: str) -> float:
    """``value`` in ``unit`` expressed in ``wanted``; UnitError naming ``what`` if it cannot be."""
    if unit.strip() == wanted.strip():
        return value
    unit, wanted = _scale(unit, wanted), _scale(wanted, unit)
    if unit.strip() == wanted.strip():
        return value
    have, want = _meaning(unit), _meaning(wanted)
    if have is None:
        raise UnitError(f"{what} is in {_show(unit)}, which is not a unit")
    if want is None:
        raise UnitError(f"{what} is in {_show(unit)}; the channel's unit tag {_show(wanted)} is not a unit")
    registry, source = have
    with _lock:
        try:
            result = float(registry.Quantity(value, source).to(str(want[1])).magnitude)
        except Exception as exc:  # noqa: BLE001 (another dimension, or pint cannot relate them)
            raise UnitError(
                f"{what} is in {_show(unit)}, which is not convertible to {_show(wanted)} of the channel's unit "
                f"tag ({type(exc).__name__}); no value written in another unit"
            ) from None
    if not math.isfinite(result) and math.isfinite(value):
        raise UnitError(f"{what}: {value} {_show(unit)} has no finite value in {_show(wanted)}")
    return result


#: one-letter temperature scales as lab files and panels write them (``"unit": "C"``); pint alone reads C as
#: coulomb and F as farad, so they mean degC and degF where the other side of a conversion is a temperature
SCALES = {"C": "degC", "F": "degF"}


def _scale(text: str, other: str) -> str:
    letter = SCALES.get(text.strip())
    if letter is None:
        return text
    meaning = _meaning(SCALES.get(other.strip(), other))
    with _lock:
        is_temperature = meaning is not None and meaning[1].dimensionality == {"[temperature]": 1}
    return letter if is_temperature else text


def _show(text: str) -> str:
    return repr(text if len(text) <= MAX_UNIT_TEXT else text[:MAX_UNIT_TEXT] + "...")


def unit_tag(device: DeviceConfig, channel: ChannelConfig) -> str | None:
    """The channel's ``unit`` tag (its own or its device's) where pint knows it; a W! line where not.

    A tag that names no unit pint knows cannot be compared: the values are written as the
    instrument sends them, as the older logger wrote them.
    """
    tag = {**device.tags, **channel.tags}.get("unit")
    if tag is None:
        return None
    if not known(tag):
        log.warning(
            "%s: %s: the unit tag %s is not a unit pint knows; values are written as the instrument sends "
            "them, unconverted",
            channel.node.file,
            channel.node.path,
            _show(tag),
        )
        return None
    return tag
