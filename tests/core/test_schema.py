"""The JSON Schema and the start-up checks come from one declaration and agree."""

from __future__ import annotations

import copy
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from telegraf_inputs import registry
from telegraf_inputs.keys import Keys, Section
from telegraf_inputs.schema import build_schema
from tests.helpers import ROOT, executable, write_config

SHIPPED = ROOT / "telegraf_inputs" / "schema" / "devices.schema.json"
SCHEMA = json.loads(SHIPPED.read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
NOT_OURS = {".telegraf", ".influxdb", "build", "dist", ".git", "node_modules"}  # built or fetched, not the repo's
#: conversation cases are no devices files: their entries are checked in tests/families/test_conversations.py;
#: the files of the config-error cases are wrong on purpose (tests/families/test_cases.py)
EXAMPLES = sorted(p for p in ROOT.rglob("*.json") if not NOT_OURS & set(p.relative_to(ROOT).parts) and p != SHIPPED
                  and p.name != "conversations.json" and "cases" not in p.relative_to(ROOT).parts)  # fmt: skip


def test_the_shipped_schema_is_what_telegraf_lab_schema_prints() -> None:
    printed = subprocess.run(executable("telegraf-lab") + ["schema"], capture_output=True, text=True, check=True)
    assert json.loads(printed.stdout) == SCHEMA, "run: telegraf-lab schema > telegraf_inputs/schema/devices.schema.json"
    assert json.loads(json.dumps(build_schema())) == SCHEMA


def test_the_schema_is_a_valid_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_example_file_in_the_repo_validates_and_loads(path: Path) -> None:
    content = json.loads(path.read_text())
    VALIDATOR.validate(content)
    lab = registry.load(path, simulate=True, environ={})
    assert not lab.problems, lab.problems
    assert lab.devices


# -- every declared key, at every level, of every family --------------------------------------------
def minimal(family: registry.Family) -> dict[str, Any]:
    """The smallest device entry of ``family`` that loads, taken from the example file."""
    for entry in json.loads((ROOT / "devices.example.json").read_text()):
        if registry.family_of(entry["Model"]) == family:
            return {k: v for k, v in entry.items() if not k.startswith("_")}
    raise AssertionError(f"devices.example.json has no {family.name} device")


def declared(family: registry.Family) -> Iterator[tuple[tuple[str, ...], str]]:
    """(path of the object, key) for every declared key; "*" stands for the first channel."""
    declaration = family.load_driver().declaration

    def walk(keys: Keys, where: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], str]]:
        for key in keys:
            yield where, key.name
            if isinstance(key, Section) and key.keys is not None:
                yield from walk(key.keys, (*where, key.name))

    yield from walk(declaration.device_keys(), ())
    yield from walk(declaration.channel_keys(), ("Channels", "*"))


CASES = [(f, where, key) for f in registry.families() for where, key in declared(f)]


def place(entry: dict[str, Any], where: tuple[str, ...], key: str, value: Any) -> dict[str, Any]:
    entry = copy.deepcopy(entry)
    target = entry
    for step in where:
        if step == "*":
            step = next(iter(target))
        target = target.setdefault(step, {})
    target[key] = value
    return entry


def loads(tmp_path: Path, entry: dict[str, Any]) -> bool:
    lab = registry.load(write_config(tmp_path, [entry]), simulate=True, environ={})
    return not lab.problems


def case_id(value: Any) -> str:
    if isinstance(value, registry.Family):
        return value.name
    return value if isinstance(value, str) else ".".join(value) or "device"


@pytest.mark.parametrize("family,where,key", CASES, ids=case_id)
def test_a_value_of_the_wrong_kind_is_refused_by_both(tmp_path: Path, family, where, key) -> None:
    entry = place(minimal(family), where, key, [1])
    assert not VALIDATOR.is_valid([entry]), f"the schema accepts {key}: [1]"
    assert not loads(tmp_path, entry), f"the loader accepts {key}: [1]"


@pytest.mark.parametrize("family", registry.families(), ids=lambda f: f.name)
def test_the_minimal_entries_pass_both(tmp_path: Path, family) -> None:
    assert VALIDATOR.is_valid([minimal(family)]) and loads(tmp_path, minimal(family))


LEVELS = [(f, where) for f in registry.families() for where in {w for w, _ in declared(f)}]


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_an_undeclared_key_is_refused_by_both_and_a_comment_key_by_neither(tmp_path_factory, data) -> None:
    family, where = data.draw(st.sampled_from(LEVELS))
    declared_here = {k for w, k in declared(family) if w == where}
    name = data.draw(
        st.from_regex(r"[A-Za-z][A-Za-z0-9_-]{0,12}", fullmatch=True).filter(lambda n: n not in declared_here)
    )
    tmp_path = tmp_path_factory.mktemp("undeclared")
    entry = place(minimal(family), where, name, 1)
    assert not VALIDATOR.is_valid([entry]) and not loads(tmp_path, entry)
    comment = place(minimal(family), where, "_" + name, 1)
    assert VALIDATOR.is_valid([comment]) and loads(tmp_path, comment)
