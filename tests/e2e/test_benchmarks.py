"""The benchmark suite runs end to end with small counts, and its checks pass."""

from __future__ import annotations

import subprocess
import sys

from tests.helpers import ROOT


def test_quick_benchmark_run_measures_every_part_and_passes_its_checks() -> None:
    run = subprocess.run(
        [sys.executable, "benchmarks/run.py", "--quick"], cwd=ROOT, capture_output=True, text=True, timeout=900
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    for part in (
        "### 1. ",
        "### 2. ",
        "### 3. ",
        "### 4. ",
        "### 5a. ",
        "### 5b. ",
        "### 6. ",
        "### 7a. ",
        "### 7b. ",
        "### 8. ",
        "### 9. ",
        "### 10. ",
        "### 11. ",
        "### 12. ",
        "### 13a. ",
        "### 13b. ",
        "### 13c. ",
    ):
        assert part in run.stdout
    assert "FAIL" not in run.stdout
    soak = run.stdout.split("### 6. ", 1)[1].split("### 7a. ", 1)[0]
    rows = [line.split("|")[1:-1] for line in soak.splitlines() if line.startswith("| telegraf-")]
    assert sorted(r[0].strip() for r in rows) == ["telegraf-daq970a", "telegraf-purpleair", "telegraf-smc-hrs"]
    for name, gathers, faults, lines, invalid, leaked, stale, *_ in rows:
        assert int(gathers) == 300 and int(faults) > 0 and int(lines) > 300, name
        assert int(invalid) == int(leaked) == int(stale) == 0, name
    assert run.stdout.count("- PASS ") >= 18  # 5 per soaked executable, the long run's, the one process's
    assert "- PASS one process: RSS of telegraf-lab ≤ 60 % of the three per-family processes" in run.stdout


def test_every_family_has_its_benchmark_row() -> None:
    """Part 10 has a row for every family that parts 1 to 9 do not measure (the three first ones): its own row
    beside the wire and the older way, or a generic one from its sample; part 13's memory table has the command
    of every family with a simulator out of process (those and the three), and the lab of all of them."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from families import FAMILY_ROWS

    from telegraf_inputs import registry

    run = subprocess.run(
        [sys.executable, "benchmarks/run.py", "--quick", "--only", "10", "13"], cwd=ROOT, capture_output=True,
        text=True, timeout=900,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    part = run.stdout.split("### 10. ", 1)[1].split("### 13a. ", 1)[0]
    rows = {line.split("|")[1].strip(): [cell.strip() for cell in line.split("|")[2:-1]]
            for line in part.splitlines() if line.startswith("| ")}  # fmt: skip
    rows.pop("family")
    assert set(rows) == {f.name for f in registry.families()} - {"daq970a", "smc_hrs", "purpleair"}
    own = {make.__name__.removeprefix("row_") for make in FAMILY_ROWS}
    for name, (load, wire, ours, ratio, older, _, cpu, _) in rows.items():
        assert float(ours) > 0 and float(cpu) > 0, name
        if name not in own:
            assert "generic row" in load and wire == ratio == older == "–", name
            continue
        assert float(wire) > 0 and float(older) > 0, name
        low = (float(ours) - 0.005) / (float(wire) + 0.005) - 0.005  # the table's numbers are rounded to 0.01
        high = (float(ours) + 0.005) / max(float(wire) - 0.005, 1e-9) + 0.005
        assert low <= float(ratio) <= high, name
    memory = run.stdout.split("### 13b. ", 1)[1].split("### 13c. ", 1)[0]
    commands = {line.split("`")[1]: line.split("|")[2:-1] for line in memory.splitlines()
                if line.startswith("| `")}  # fmt: skip
    lab = commands.pop("telegraf-lab run")
    assert set(commands) == {"telegraf-" + name.replace("_", "-") for name in own | {"daq970a", "smc_hrs", "purpleair"}}
    largest = max(float(rss) for rss, *_ in commands.values())
    assert float(lab[0]) >= largest  # the lab's process holds every family's modules
    assert "- PASS memory: the lab's process" in run.stdout
    fixed = run.stdout.split("### 13a. ", 1)[1].split("### 13b. ", 1)[0]
    for line in (line for line in fixed.splitlines() if line.startswith("| ") and "devices" not in line):
        ours, alone, difference = (float(cell) for cell in line.split("|")[3:6])
        assert ours > 0 and alone > 0 and abs(ours - alone - difference) <= 0.011, line
