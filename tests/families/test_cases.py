"""Every family's cases, kept as data as Telegraf keeps its plugins' ``testcases/``: one folder a case,
``tests/families/<family>/cases/<case>/``, holding

- ``devices.json``: the devices file;
- ``expected.err``: what ``telegraf-lab check`` must say of it, a line each: every line must appear in what
  it prints (``{file}`` stands for the devices file's path), and a line that starts with ``!`` must not
  (a key that must never be shown).  The check must exit 2, with no traceback and nothing on stdout;
- or ``expected.out``: the lines ``telegraf-lab run --simulate --once`` prints for it, without their time
  stamps, in any order, with the simulators' clocks held (TELEGRAF_LAB_SIM_TIME): the same devices file must
  give the same bytes.  A case folder holding only ``expected.out`` is of the family's own ``sample.json``.

A new case is a new folder; this one runner reads them all.  ``python -m tests.families.test_cases --write``
writes each ``expected.out`` anew from what the program prints now (review the diff: it is the change).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from telegraf_inputs import docs, registry
from tests.helpers import ROOT, executable

CASES = sorted(path.parent for path in ROOT.glob("tests/families/*/cases/*/expected.err"))
READ_CASES = sorted(path.parent for path in ROOT.glob("tests/families/*/cases/*/expected.out"))
HELD_AT_S = "100"  # the simulators' clocks, held


def family_of(case: Path) -> str:
    return case.parent.parent.name


def devices_of(case: Path) -> Path:
    """The case's devices file: its own, or its family's sample."""
    own = case / "devices.json"
    if own.exists():
        return own
    family = registry.family_named(family_of(case))
    assert family is not None, case
    return docs.folder(family) / "sample.json"


def lines_read(devices: Path) -> tuple[list[str], subprocess.CompletedProcess]:
    """What ``run --simulate --once`` prints for ``devices``, each line without its time stamp, sorted."""
    env = {**os.environ, "TELEGRAF_LAB_SIM_TIME": HELD_AT_S}
    done = subprocess.run(executable("telegraf-lab") + ["run", "--config", str(devices), "--simulate", "--once"],
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL, env=env)  # fmt: skip
    lines = []
    for line in done.stdout.splitlines():
        body, stamp = line.rsplit(" ", 1)
        assert stamp.isdigit(), line
        lines.append(body)
    return sorted(lines), done


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
    for case in READ_CASES:
        assert {p.name for p in case.iterdir()} <= {"devices.json", "expected.out"}, case
        assert devices_of(case).exists(), case
    assert {family_of(case) for case in READ_CASES} >= {
        family.name for family in registry.families() if (ROOT / "tests" / "families" / family.name).is_dir()
    }


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


@pytest.mark.parametrize("case", READ_CASES, ids=[f"{family_of(c)}/{c.name}" for c in READ_CASES])
def test_run_prints_the_lines_the_case_expects(case: Path) -> None:
    got, done = lines_read(devices_of(case))
    assert done.returncode == 0, done.stderr
    assert "E! " not in done.stderr and "W! " not in done.stderr, done.stderr
    expected = (case / "expected.out").read_text(encoding="utf-8").splitlines()
    assert got == sorted(expected), "\n".join(sorted(set(got) ^ set(expected)))


if __name__ == "__main__" and sys.argv[1:] == ["--write"]:
    for case in READ_CASES:
        lines, done = lines_read(devices_of(case))
        if done.returncode != 0:
            raise SystemExit(f"{case}: {done.stderr}")
        (case / "expected.out").write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        print(f"{case.relative_to(ROOT)}: {len(lines)} lines")
