"""This family's lab for tests/families/test_in_step.py: its simulator on its real transport, and a device
whose every channel has its own, distinct value."""

from __future__ import annotations

from typing import Any

from telegraf_inputs.families.metone_dr528.simulator import Dr528Simulator
from tests.families.lab import TIMEOUT_S, serial_lab


def entry(path: str) -> dict[str, Any]:
    return {"Device": "counter", "Model": "Met One DR-528", "Address": path, "Timeout": TIMEOUT_S,
            "measurement": "particlecounts",
            "Channels": {"AT(C)": {"Type": "AT(C)", "field-key": "temperature"},
                         "RH(%)": {"Type": "RH(%)", "field-key": "humidity"}}}  # fmt: skip


lab = serial_lab(Dr528Simulator, entry)
