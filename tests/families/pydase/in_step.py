"""This family's lab for tests/families/test_in_step.py: its simulator on its real transport, and a device
whose every channel has its own, distinct value."""

from __future__ import annotations

from typing import Any

from tests.families.lab import TIMEOUT_S, Lab


def lab() -> Lab:
    from telegraf_inputs.families.pydase.simulator import PydaseSimulator

    sim = PydaseSimulator().start()

    def attribute(name: str) -> dict[str, Any]:
        return {"Type": "pydaseAttribute", "pydaseServerStructure": {"Attribute": name}, "field-key": name}

    entry = {
        "Device": "oven",
        "Model": "pydase",
        "Address": "127.0.0.1",
        "Port": sim.port,
        "Timeout": TIMEOUT_S,
        "measurement": "oven",
        "Channels": {"t": attribute("temperature"), "v": attribute("voltage")},
    }
    return Lab([entry], sim.faults, sim.stop)
