"""Every family's cases, kept as data as Telegraf keeps its plugins' ``testcases/``: one folder a case,
``tests/families/<family>/cases/<case>/``, holding

- ``devices.json``: the devices file;
- ``expected.err``: what ``telegraf-lab check`` must say of it, a line each: every line must appear in what
  it prints (``{file}`` stands for the devices file's path), and a line that starts with ``!`` must not
  (a key that must never be shown).  The check must exit 2, with no traceback and nothing on stdout.

A new case is a new folder; this one runner reads them all.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from telegraf_inputs import registry
from tests.helpers import ROOT, executable

CASES = sorted(path.parent for path in ROOT.glob("tests/families/*/cases/*/devices.json"))


def family_of(case: Path) -> str:
    return case.parent.parent.name


def test_the_cases_are_well_formed_and_of_their_family() -> None:
    assert len(CASES) >= 70
    for case in CASES:
        assert {p.name for p in case.iterdir()} == {"devices.json", "expected.err"}, case
        expected = (case / "expected.err").read_text(encoding="utf-8").splitlines()
        assert expected and all(line.strip() for line in expected), case
        for entry in json.loads((case / "devices.json").read_text(encoding="utf-8")):
            family = registry.family_of(entry["Model"])
            assert family is not None and family.name == family_of(case), (case, entry["Model"])
    assert len({family_of(case) for case in CASES}) >= 12


@pytest.mark.parametrize("case", CASES, ids=[f"{family_of(c)}/{c.name}" for c in CASES])
def test_check_says_what_the_case_expects(case: Path) -> None:
    devices = case / "devices.json"
    done = subprocess.run(executable("telegraf-lab") + ["check", str(devices)], capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL)  # fmt: skip
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert done.stdout == "" and "Traceback" not in done.stderr, done.stderr
    for line in (case / "expected.err").read_text(encoding="utf-8").splitlines():
        if line.startswith("!"):
            assert line[1:] not in done.stderr, f"{line[1:]!r} shown: {done.stderr}"
        else:
            assert line.replace("{file}", str(devices)) in done.stderr, f"{line!r} not in: {done.stderr}"
