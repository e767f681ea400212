"""What the documentation says of a family, derived from the family itself, never copied by hand.

Each family folder holds ``sample.json``: its devices-file entries, every option shown once.  From it and
from the family's declaration come, between ``<!-- generated:NAME -->`` and ``<!-- /generated:NAME -->`` in
the family's README: ``configuration`` (the sample), ``keys`` (a table of the family's own keys) and
``example-output`` (the sample read from the family's simulator, ``--simulate --once``).  The repository's
``devices.example.json`` is every family's sample, in order, and the shipped JSON Schema is what
``telegraf-lab schema`` prints.

    python -m telegraf_inputs.docs           # say what is stale (exit 1 if anything is)
    python -m telegraf_inputs.docs --write   # bring it all up to date

Tests hold the READMEs and the example file to what this makes (tests/core/test_docs.py).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from . import registry
from .config import Declaration
from .keys import Key, Section, Text

ROOT = Path(__file__).resolve().parent.parent  # the repository, when run from a checkout
EXAMPLE = ROOT / "devices.example.json"
WIDTH = 110  # an object or array shorter than this, written on one line, stays on one line
BLOCK = re.compile(r"(<!-- generated:(?P<name>[a-z-]+) -->\n)(?P<body>.*?)(<!-- /generated:(?P=name) -->)", re.S)


def folder(family: registry.Family) -> Path:
    return Path(sys.modules[family.package].__file__ or "").parent


def sample(family: registry.Family) -> list[dict[str, Any]]:
    """The family's sample entries (``sample.json`` in its folder)."""
    entries: list[dict[str, Any]] = json.loads((folder(family) / "sample.json").read_text(encoding="utf-8"))
    return entries


def dumps(value: Any, indent: int = 0, step: int = 4) -> str:
    """JSON as a person writes it: an object or array that fits on a line stays on one line."""
    flat = json.dumps(value, ensure_ascii=False)
    if not isinstance(value, (dict, list)) or not value or len(flat) + indent <= WIDTH and _shallow(value):
        return flat
    inner = " " * (indent + step)
    if isinstance(value, dict):
        items = [
            f"{inner}{json.dumps(k, ensure_ascii=False)}: {dumps(v, indent + step, step)}" for k, v in value.items()
        ]
        return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"
    return "[\n" + ",\n".join(inner + dumps(v, indent + step, step) for v in value) + "\n" + " " * indent + "]"


def _shallow(value: dict[str, Any] | list[Any]) -> bool:
    """At most one level of nesting: such a value reads well on one line."""
    members = value.values() if isinstance(value, dict) else value
    return all(not isinstance(m, (dict, list)) or not any(isinstance(n, (dict, list)) for n in
               (m.values() if isinstance(m, dict) else m)) for m in members)  # fmt: skip


def example_file(families: Iterable[registry.Family] | None = None) -> str:
    """devices.example.json: every family's sample, in the registry's order."""
    entries = [entry for family in (families or registry.families()) for entry in sample(family)]
    return dumps(entries) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _default(key: Key) -> str:
    if key.required:
        return "required"
    if key.default is None:
        return ""
    return f"`{json.dumps(key.default, ensure_ascii=False)}`"


def _meaning(key: Key) -> str:
    text = key.doc
    if isinstance(key, Text) and key.choices and not all(choice in text for choice in key.choices[:3]):
        text += ("; " if text else "") + "one of: " + ", ".join(f"`{c}`" for c in key.choices)
    return text


def _rows(keys: Iterable[Key], where: str, path: str = "") -> list[str]:
    rows = []
    for key in keys:
        if isinstance(key, Section):
            rows += _rows(key.keys, where, f"{path}{key.name}.")
        else:
            rows.append(f"| {where}`{path}{key.name}` | {_cell(_default(key))} | {_cell(_meaning(key))} |")
    return rows


def key_table(declaration: Declaration) -> str:
    """The family's own keys (those every family shares are in docs/devices-file.md), as a Markdown table."""
    rows = _rows(declaration.device, "")
    rows += _rows(declaration.device_params, "", "DeviceSpecificParams.")
    rows += _rows(declaration.channel, "channel ")
    rows += _rows(declaration.channel_params, "channel ", "DeviceSpecificParams.")
    return "\n".join(["| key | default | meaning |", "|---|---|---|", *rows]) + "\n"


def example_output(family: registry.Family) -> str:
    """The sample read from the family's simulator, as ``telegraf-lab run --simulate --once`` writes it."""
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "devices.json"
        config.write_text(json.dumps(sample(family)), encoding="utf-8")
        command = [sys.executable, "-m", "telegraf_inputs.cli", "run", "--config", str(config), "--simulate", "--once"]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0 or not done.stdout:
        raise RuntimeError(f"{family.name}: its sample read nothing from its simulator: {done.stderr[-2000:]}")
    return done.stdout


def blocks(family: registry.Family, output: str | None = None) -> dict[str, str]:
    """Each generated block of the family's README, by name."""
    entries = sample(family)
    shown = entries[0] if len(entries) == 1 else entries
    return {
        "configuration": "```json\n" + dumps(shown, step=2) + "\n```\n",
        "keys": key_table(family.load_driver().declaration),
        "example-output": "```text\n" + (output if output is not None else example_output(family)) + "```\n",
    }


def refresh(text: str, generated: dict[str, str]) -> str:
    """``text`` with each generated block replaced by its new body (blocks it does not name stay)."""

    def body(match: re.Match[str]) -> str:
        name = match.group("name")
        new = generated.get(name, match.group("body"))
        return match.group(1) + new + match.group(4)

    return BLOCK.sub(body, text)


def stale(write: bool) -> list[str]:
    """The generated files that differ from what they should say (written anew with ``write``)."""
    out = []
    for family in registry.families():
        readme = folder(family) / "README.md"
        text = readme.read_text(encoding="utf-8")
        new = refresh(text, blocks(family))
        names = {m.group("name") for m in BLOCK.finditer(text)}
        if names != {"configuration", "keys", "example-output"}:
            out.append(f"{readme}: generated blocks {sorted(names)}")
        elif new != text and not _same_but_for_readings(text, new):
            out.append(str(readme))
            if write:
                readme.write_text(new, encoding="utf-8")
    from .schema import build_schema

    shipped = Path(__file__).resolve().parent / "schema" / "devices.schema.json"
    files = {shipped: json.dumps(build_schema(), indent=2, ensure_ascii=False) + "\n"}
    if EXAMPLE.parent.joinpath("pyproject.toml").is_file():  # a checkout, not an installed package
        files[EXAMPLE] = example_file()
    for path, text in files.items():
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            out.append(str(path))
            if write:
                path.write_text(text, encoding="utf-8")
    return out


FIELD = re.compile(r'((?:[^=\\]|\\.)+)=("(?:[^"\\]|\\.)*"|[^,]*)(,|$)')


def series(output: str) -> list[tuple[str, tuple[str, ...]]]:
    """Each line's measurement and tags, and its fields' names and kinds: what stays the same from run to run
    (the simulators' values drift, and time moves on)."""
    shapes = []
    for line in output.splitlines():
        if not line.strip() or line.startswith("```"):
            continue
        parts = re.split(r"(?<!\\) ", line, maxsplit=1)
        if len(parts) != 2:
            raise ValueError(f"not a line of line protocol: {line!r}")
        head, rest = parts
        fields, _, _ = rest.rpartition(" ")
        kinds, at = [], 0
        while at < len(fields):
            match = FIELD.match(fields, at)
            if match is None:
                raise ValueError(f"not a line of line protocol: {line!r}")
            value = match.group(2)
            kind = "string" if value.startswith('"') else "integer" if value.endswith("i") else (
                "boolean" if value.lower() in ("t", "f", "true", "false") else "float")  # fmt: skip
            kinds.append(f"{match.group(1)}:{kind}")
            at = match.end()
        shapes.append((head, tuple(kinds)))
    return shapes


def _same_but_for_readings(old: str, new: str) -> bool:
    """True if the READMEs differ only in the example output's values and time stamps."""
    old_blocks = {m.group("name"): m.group("body") for m in BLOCK.finditer(old)}
    new_blocks = {m.group("name"): m.group("body") for m in BLOCK.finditer(new)}
    if refresh(old, {"example-output": new_blocks.get("example-output", "")}) != new:
        return False
    # devices on connections of their own are read at once, so their lines come in any order
    return sorted(series(old_blocks.get("example-output", ""))) == sorted(series(new_blocks.get("example-output", "")))


def main(argv: list[str] | None = None) -> int:
    write = "--write" in (argv if argv is not None else sys.argv[1:])
    found = stale(write)
    for path in found:
        print(("written: " if write else "stale: ") + path)
    return 1 if found and not write else 0


if __name__ == "__main__":
    raise SystemExit(main())
