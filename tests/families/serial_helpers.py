"""What the families' tests share: a running simulator as a fixture, a family's console script run on a
config and its lines read."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol, TypeVar

import pytest

from tests.helpers import parse_lines, run_once, write_config


class Runs(Protocol):
    def start(self) -> Any: ...
    def stop(self) -> None: ...


S = TypeVar("S", bound=Runs)


def running(make: Callable[[], S]) -> Any:
    """A ``sim`` fixture: ``make()`` started for a test, stopped after it."""

    def sim() -> Iterator[S]:
        started = make().start()
        yield started
        started.stop()

    return pytest.fixture(name="sim")(sim)


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
