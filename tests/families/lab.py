"""What the "no value under another channel" tests share: a family's lab, found in its own test folder.

Each family's ``tests/families/<family>/in_step.py`` gives ``lab()``: its simulator running on its real
transport, and the devices file entries that read it, every channel with a value of its own.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from telegraf_inputs import registry
from telegraf_inputs.simulators import LateFaults

TIMEOUT_S = 0.4


@dataclass
class Lab:
    """A running simulator, the devices file entries that read it, and its faults."""

    entries: list[dict[str, Any]]
    faults: LateFaults
    stop: Callable[[], None]
    sim: Any = None
    used: Callable[[], bool] = lambda: True  # whether the transport under test carried the exchanges


def serial_lab(make: Callable[[], Any], entry: Callable[[str], dict[str, Any]]) -> Callable[[], Lab]:
    """A serial family's lab: ``make()`` its simulator on a pty, ``entry(path)`` the device reading it."""

    def start() -> Lab:
        sim = make().start()
        return Lab([entry(sim.path)], sim.faults, sim.stop)

    start.serial = True  # type: ignore[attr-defined]
    return start


def labs() -> dict[str, Callable[[], Lab]]:
    """Every family's lab, from its test folder (a family without one is missing here, and a test says so)."""
    found = {}
    for family in registry.families():
        try:
            module = importlib.import_module(f"tests.families.{family.name}.in_step")
        except ModuleNotFoundError:
            continue
        found[family.name] = module.lab
    return found
