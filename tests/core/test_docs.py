"""The documentation derived from each family, never copied: its README's Configuration (its sample.json), key
table (its declaration) and Example Output (its sample read from its simulator), and devices.example.json (every
family's sample).  ``python -m telegraf_inputs.docs --write`` brings them up to date; these tests fail when they
are stale."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from telegraf_inputs import docs, registry
from tests.helpers import ROOT

FAMILIES = registry.families()


def test_nothing_generated_is_stale() -> None:
    done = subprocess.run([sys.executable, "-m", "telegraf_inputs.docs"], capture_output=True, text=True, cwd=ROOT,
                          timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_example_file_is_every_familys_sample() -> None:
    entries = json.loads((ROOT / "devices.example.json").read_text())
    assert entries == [entry for family in FAMILIES for entry in docs.sample(family)]
    assert {registry.family_of(e["Model"]) for e in entries} == set(FAMILIES)


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.name)
def test_a_stale_block_is_found_and_rewritten(family: registry.Family) -> None:
    text = (docs.folder(family) / "README.md").read_text()
    generated = docs.blocks(family, output="")
    broken = docs.refresh(text, {"keys": "| `Gone` | | a key no family has |\n", "configuration": "{}\n"})
    assert broken != text
    mended = docs.refresh(broken, {name: body for name, body in generated.items() if name != "example-output"})
    assert mended == text
    for key in family.load_driver().declaration.channel:
        assert f"channel `{key.name}" in generated["keys"], key.name
    assert family.models[0] in text


def test_the_example_output_is_compared_by_its_series_not_its_readings() -> None:
    one = 'm,device=a\\ b,unit=V x=1.5,s="a, b c",n=3i,ok=true 1700000000000000000\n'
    assert docs.series(one) == docs.series(one.replace("1.5", "2.25").replace("1700", "1800"))
    assert docs.series(one) != docs.series(one.replace("unit=V", "unit=mV"))
    assert docs.series(one) != docs.series(one.replace("n=3i", "n=3.0"))
    assert docs.series(one) != docs.series(one.replace("x=1.5,", ""))
    with pytest.raises(ValueError):
        docs.series("no-fields-here\n")
