"""Units compared by meaning (telegraf_inputs/units.py): symbols and names alike, conversions, refusals."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from telegraf_inputs.units import UnitError, convert


@pytest.mark.parametrize(
    ("value", "unit", "tag", "expected"),
    [
        (5.0, "volt", "V", 5.0),  # pydase's long names against the older logger's symbols
        (2.0, "millibar", "mbar", 2.0),
        (1.0, "bar", "mbar", 1000.0),
        (20.0, "degree_Celsius", "DegC", 20.0),  # the older logger's DAQ spelling
        (20.0, "degree_Celsius", "C", 20.0),  # a one-letter scale beside a temperature is degC, not coulomb
        (293.15, "K", "C", 20.0),
        (212.0, "F", "C", 100.0),  # a panel's F (degF) against a C tag
        (3.0, "C", "C", 3.0),  # letter for letter: no conversion at all
    ],
)
def test_a_value_is_written_in_the_unit_its_tag_means(value: float, unit: str, tag: str, expected: float) -> None:
    assert math.isclose(convert(value, unit, tag, "the value"), expected, rel_tol=1e-9)


@pytest.mark.parametrize(("unit", "tag"), [("volt", "C"), ("coulomb", "K"), ("ampere", "mbar"), ("V", "no unit")])
def test_another_dimension_or_no_unit_is_refused(unit: str, tag: str) -> None:
    with pytest.raises(UnitError):
        convert(1.0, unit, tag, "the value")


@given(st.floats(min_value=-200, max_value=2000, allow_nan=False))
def test_temperature_scales_round_trip(celsius: float) -> None:
    fahrenheit = convert(celsius, "degC", "F", "t")
    assert math.isclose(convert(fahrenheit, "F", "C", "t"), celsius, rel_tol=1e-9, abs_tol=1e-9)
