"""This family's lab for tests/families/test_in_step.py: its simulator on its real transport, and a device
whose every channel has its own, distinct value."""

from __future__ import annotations

from typing import Any

from telegraf_inputs.families.kjlc_acg.simulator import AcgSimulator
from tests.families.lab import TIMEOUT_S, serial_lab


def entry(path: str) -> dict[str, Any]:
    return {
        "Device": "ACG",
        "Model": "KJLC ACG",
        "Address": path,
        "Timeout": TIMEOUT_S,
        "measurement": "pressure",
        "Channels": {"P": {"Type": "Pressure", "field-key": "pressure"}},
    }


lab = serial_lab(AcgSimulator, entry)
