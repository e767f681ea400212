"""A family is its folder: a copy of one under a new name, with a new Model string, is a new family.

The repository is copied to a temporary folder; there ``thorlabs_mdt693b`` (its package folder and its test
folder) is copied to ``acme_piezo``, and in those two folders alone its Model string and name are changed.
Outside them, only the alias line is added to pyproject.toml, and ``python -m telegraf_inputs.docs --write``
derives what is derived (the README's generated blocks, devices.example.json, the JSON Schema).  The new
family is then listed, described, read, and passes the project's own tests of layout, schema, docs, cases,
conversations and the in-step guarantee, and gets its benchmark row.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from telegraf_inputs import docs
from tests.helpers import ROOT

OLD, NEW = "thorlabs_mdt693b", "acme_piezo"
OLD_MODEL, NEW_MODEL = "Thorlabs MDT693B", "ACME Piezo 3"

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the copied family's simulator is a pty")


def tracked_files() -> list[str]:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    return [name for name in listed.decode().split("\0") if name]


def copy_family(repo: Path, relative: str) -> None:
    source, target = repo / relative / OLD, repo / relative / NEW
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
    for path in target.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            text = text.replace(OLD_MODEL, NEW_MODEL).replace(f'name="{OLD}"', f'name="{NEW}"')
            path.write_text(text, encoding="utf-8")
    sample = target / "sample.json"
    if sample.is_file():  # a port and a name of its own: the example file holds both families' samples
        entries = json.loads(sample.read_text(encoding="utf-8"))
        for n, entry in enumerate(entries):
            entry["Address"], entry["Device"] = f"/dev/ttyACME{n}", f"ACME {entry['Device']}"
        sample.write_text(docs.dumps(entries) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = tmp_path_factory.mktemp("repo")
    for name in tracked_files():
        if (ROOT / name).is_file():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, repo / name)
    copy_family(repo, "telegraf_inputs/families")
    copy_family(repo, "tests/families")
    pyproject = repo / "pyproject.toml"
    alias = f'telegraf-{NEW.replace("_", "-")} = "telegraf_inputs.cli:family_alias"\n'
    text = pyproject.read_text()
    pyproject.write_text(text.replace("[tool.setuptools.packages.find]", alias + "\n[tool.setuptools.packages.find]"))
    done = run(repo, "-m", "telegraf_inputs.docs", "--write")
    assert done.returncode == 0, done.stdout + done.stderr
    done = run(repo, "-m", "tests.families.test_cases", "--write")  # its sample's expected lines, its names now
    assert done.returncode == 0, done.stdout + done.stderr
    return repo


def run(repo: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(repo)}
    return subprocess.run([sys.executable, *args], cwd=repo, env=env, capture_output=True, text=True, timeout=timeout)


def test_only_the_two_folders_and_the_alias_were_written_by_hand(repo: Path) -> None:
    changed = {p.relative_to(repo).as_posix() for p in repo.rglob("*") if p.is_file() and "__pycache__" not in p.parts
               and ((ROOT / p.relative_to(repo)).is_file() is False or
                    (ROOT / p.relative_to(repo)).read_bytes() != p.read_bytes())}  # fmt: skip
    derived = {"devices.example.json", "telegraf_inputs/schema/devices.schema.json", "pyproject.toml"}
    outside = {p for p in changed - derived if not p.startswith((f"telegraf_inputs/families/{NEW}/",
                                                                 f"tests/families/{NEW}/"))}  # fmt: skip
    assert not outside, outside
    readmes = {p for p in changed if p.endswith("README.md") and NEW not in p}
    assert not readmes, "an older family's README changed"


def test_it_is_listed_described_and_read(repo: Path) -> None:
    models = run(repo, "-m", "telegraf_inputs.cli", "models")
    assert any(line.split() == [*NEW_MODEL.split(), NEW] for line in models.stdout.splitlines()), models.stdout
    schema = run(repo, "-m", "telegraf_inputs.cli", "schema")
    assert NEW_MODEL in schema.stdout and schema.returncode == 0
    sample = repo / "telegraf_inputs" / "families" / NEW / "sample.json"
    once = run(repo, "-m", "telegraf_inputs.cli", "run", "--config", str(sample), "--simulate", "--once")
    assert once.returncode == 0 and once.stdout.count("\n") >= 4, once.stderr
    assert "E!" not in once.stderr


def test_it_passes_the_projects_own_tests(repo: Path) -> None:
    files = ["tests/core/test_layout.py", "tests/core/test_schema.py", "tests/core/test_docs.py",
             "tests/families/test_cases.py", "tests/families/test_conversations.py",
             "tests/families/test_in_step.py"]  # fmt: skip
    chosen = f"{NEW} or every or shipped or stale or example or well_formed or covered"
    done = run(repo, "-m", "pytest", "-v", "-p", "no:cacheprovider", "-p", "no:randomly", *files, "-k", chosen,
               timeout=1200)  # fmt: skip
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    ran = {line.split("::")[0] for line in done.stdout.splitlines() if NEW in line and " PASSED" in line}
    # the new family's own cases of the shared tests ran and passed, in every file that has them
    assert ran >= {"tests/core/test_layout.py", "tests/core/test_schema.py", "tests/core/test_docs.py",
                   "tests/families/test_cases.py", "tests/families/test_conversations.py",
                   "tests/families/test_in_step.py"}, done.stdout[-4000:]  # fmt: skip


def test_it_gets_its_benchmark_row(repo: Path) -> None:
    probe = ("import sys; sys.path.insert(0, 'benchmarks'); import families; from telegraf_inputs import registry; "
             f"print('|'.join(families.generic_row(registry.family_named({NEW!r}), 3)))")  # fmt: skip
    done = run(repo, "-c", probe, timeout=300)
    assert done.returncode == 0, done.stderr
    row = done.stdout.strip().split("|")
    assert row[0] == NEW and "generic row" in row[1] and float(row[3]) > 0 and float(row[7]) > 0
