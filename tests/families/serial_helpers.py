"""What the serial families' tests share: run a family's console script on a config, read its lines."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.helpers import parse_lines, run_once, write_config


def read_once(tmp_path: Path, command: str, entries: list[dict[str, Any]], *extra: str) -> tuple[int, list[dict], str]:
    """Run ``command --config ... --once``: its exit code, its parsed lines, its stderr."""
    result = run_once(["--config", str(write_config(tmp_path, entries)), *extra], name=command)
    return result.returncode, parse_lines(result.stdout), result.stderr


def fields_of(lines: list[dict], device: str | None = None) -> dict[str, Any]:
    """Every field of the lines (of one device), merged."""
    out: dict[str, Any] = {}
    for line in lines:
        if device is None or line["tags"]["device"] == device:
            out.update(line["fields"])
    return out


def errors(stderr: str, level: str = "E!") -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith(level + " ")]
