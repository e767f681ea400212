"""This family's lab for tests/families/test_in_step.py: its simulator on its real transport, and a device
whose every channel has its own, distinct value."""

from __future__ import annotations

from typing import Any

from tests.families.lab import TIMEOUT_S, serial_lab


def simulator() -> Any:
    from telegraf_inputs.families.thorlabs_mdt693b.simulator import Mdt693bSimulator

    sim = Mdt693bSimulator()
    sim.volts = {"x": 12.5, "y": 47.0, "z": 149.9}
    return sim


def entry(path: str) -> dict[str, Any]:
    return {"Device": "piezo", "Model": "Thorlabs MDT693B", "Address": path, "Timeout": TIMEOUT_S,
            "measurement": "piezo",
            "Channels": {a: {"Type": "Vout", "Axis": a, "field-key": a} for a in "xyz"}}  # fmt: skip


lab = serial_lab(simulator, entry)
