"""This family's lab for tests/families/test_in_step.py: its simulator on its real transport, and a device
whose every channel has its own, distinct value."""

from __future__ import annotations

from typing import Any

from telegraf_inputs.families.kjlc354.simulator import Kjlc354Simulator
from tests.families.lab import TIMEOUT_S, serial_lab


def entry(path: str) -> dict[str, Any]:
    return {"Device": "chamber", "Model": "KJLC 352", "Address": path, "Timeout": TIMEOUT_S, "measurement": "pressure",
            "SerialConnectionParams": {"baudrate": 19200}, "DeviceSpecificParams": {"InternalAddress": "01"},
            "Channels": {"ig": {"Type": "IGPressure", "field-key": "ig"},
                         "cg1": {"Type": "CG1Pressure", "field-key": "cg1"},
                         "cg2": {"Type": "CG2Pressure", "field-key": "cg2"}}}  # fmt: skip


lab = serial_lab(Kjlc354Simulator, entry)
