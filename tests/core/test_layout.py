"""The shape of the package: one folder per family, the core names none, drivers and simulators apart."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from telegraf_inputs import registry
from tests.helpers import ROOT, write_config

PACKAGE = ROOT / "telegraf_inputs"
FAMILIES = registry.families()
CORE = sorted(p for p in PACKAGE.glob("*.py"))


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, relative imports resolved against its package."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(filter(None, [base, node.module or ""]))
            out.add(module)
            out |= {f"{module}.{alias.name}" for alias in node.names}
    return out


def code_strings(path: Path) -> list[str]:
    """The string constants of a file's code, docstrings left out."""
    tree = ast.parse(path.read_text())
    docstrings = {
        id(body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and (body := node.body)
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
    }
    return [
        n.value
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docstrings
    ]


def test_there_are_families() -> None:
    assert {f.name for f in FAMILIES} >= {"daq970a", "smc_hrs", "purpleair"}


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.name)
def test_each_family_folder_holds_driver_protocol_simulator_and_readme(family: registry.Family) -> None:
    folder = PACKAGE / "families" / family.name
    for name in ("__init__.py", "protocol.py", "driver.py", "simulator.py", "simulate.py", "README.md", "sample.json"):
        assert (folder / name).is_file(), f"{family.name} has no {name}"
    readme = (folder / "README.md").read_text()
    for heading in ("## Configuration", "## Metrics", "## Example Output", "## Troubleshooting"):
        assert heading in readme, f"{family.name}/README.md has no {heading!r} section"
    for model in family.models:
        assert model in readme, f"{family.name}/README.md does not name the Model {model!r}"
    assert (ROOT / "tests" / "families" / family.name).is_dir(), f"no tests/families/{family.name}"


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.name)
def test_driver_and_simulator_share_the_protocol_module_and_never_import_each_other(family: registry.Family) -> None:
    folder = PACKAGE / "families" / family.name
    own = f"telegraf_inputs.families.{family.name}"
    driver, simulator = imported_modules(folder / "driver.py"), imported_modules(folder / "simulator.py")
    assert f"{own}.protocol" in driver and f"{own}.protocol" in simulator
    assert not {m for m in driver if m.startswith((f"{own}.simulator", f"{own}.simulate"))}
    assert not {m for m in simulator if m.startswith((f"{own}.driver", f"{own}.simulate"))}
    init = imported_modules(folder / "__init__.py")
    assert not {m for m in init if m.startswith(own)}, "a family's __init__ must stay light (no driver import)"


@pytest.mark.parametrize("path", CORE, ids=lambda p: p.name)
def test_the_core_names_no_family(path: Path) -> None:
    names = {f.name for f in FAMILIES}
    for module in imported_modules(path):
        assert not module.startswith("telegraf_inputs.families."), f"{path.name} imports {module}"
    for text in code_strings(path):
        assert not any(name in text.lower() for name in names), f"{path.name} names a family: {text!r}"


def test_only_the_families_a_file_uses_are_imported(tmp_path: Path) -> None:
    config = write_config(
        tmp_path, [{"Device": "p", "Model": "PurpleAir", "Channels": {"a": {"PurpleAirSensorIndex": 1}}}]
    )
    code = (
        "import sys\n"
        "from telegraf_inputs import registry\n"
        f"lab = registry.load({str(config)!r}, environ={{}})\n"
        "assert not lab.problems, lab.problems\n"
        "print(sorted(m for m in sys.modules if m.startswith('telegraf_inputs.families.') and m.count('.') > 2))\n"
        "print('pyvisa' in sys.modules, 'serial' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.splitlines()
    assert out[0] == "['telegraf_inputs.families.purpleair.driver', 'telegraf_inputs.families.purpleair.protocol']"
    assert out[1] == "False False"


def test_no_source_file_over_600_lines_and_no_function_over_80() -> None:
    """The package and the benchmarks stay readable in pieces: a longer file or function is split."""
    sources = [*PACKAGE.rglob("*.py"), *(ROOT / "benchmarks").glob("*.py")]
    too_long = []
    for path in sources:
        text = path.read_text(encoding="utf-8")
        if len(text.splitlines()) > 600:
            too_long.append(f"{path.relative_to(ROOT)}: {len(text.splitlines())} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > 80:
                    too_long.append(f"{path.relative_to(ROOT)}: {node.name}() {length} lines")
    assert len(sources) > 100 and not too_long, too_long
