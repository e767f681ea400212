"""The older logger's devices files of every era, JSON and YAML: they load as they are and write its schema.

Each file in tests/data/older-logger-eras/ is written from the dated facts of the older logger's history
(the keys of that date), named by the date its format appeared.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from telegraf_inputs import registry
from tests.helpers import ROOT, executable, parse_lines

ERAS = sorted((ROOT / "tests" / "data" / "older-logger-eras").glob("*.json"))


def as_file(era: Path, kind: str, tmp_path: Path) -> Path:
    if kind == "json":
        return era
    out = io.StringIO()
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.dump(json.loads(era.read_text()), out)
    path = tmp_path / (era.stem + ".yaml")
    path.write_text(out.getvalue())
    return path


@pytest.mark.parametrize("kind", ["json", "yaml"])
@pytest.mark.parametrize("era", ERAS, ids=lambda p: p.stem)
def test_each_era_loads_as_it_is_and_writes_the_older_schema(era: Path, kind: str, tmp_path: Path) -> None:
    file = as_file(era, kind, tmp_path)
    run = subprocess.run(
        executable("telegraf-lab") + ["run", "--config", str(file), "--simulate", "--once"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": os.environ["PATH"]},  # nothing set: secrets stand in as the simulators' own
    )
    assert run.returncode == 0, run.stderr
    assert "E! " not in run.stderr, run.stderr
    written = {
        (m["measurement"], tuple(sorted(m["tags"].items())), tuple(m["fields"])) for m in parse_lines(run.stdout)
    }
    entries = json.loads(era.read_text())
    unsupported = [e for e in entries if registry.family_of(e["Model"]) is None]
    for entry in entries:
        if entry in unsupported:
            continue
        for channel in entry["Channels"].values():
            tags = tuple(sorted({"device": entry["Device"], **entry["tags"], **channel.get("tags", {})}.items()))
            field = channel.get("field-key", "value")
            assert any(m == entry["measurement"] and t == tags and f[0] == field for m, t, f in written), (
                entry["Device"],
                channel,
            )
    warnings = [line for line in run.stderr.splitlines() if line.startswith("W! ")]
    assert len(warnings) == len(unsupported)
    for warning, entry in zip(warnings, unsupported, strict=True):
        assert f"device {entry['Device']!r} has Model {entry['Model']!r}" in warning
