"""This family's lab for tests/families/test_in_step.py: its simulator on its real transport, and a device
whose every channel has its own, distinct value."""

from __future__ import annotations

from tests.families.lab import TIMEOUT_S, Lab


def lab() -> Lab:
    from telegraf_inputs.families.thorlabs_pm100.simulator import Pm100Simulator

    sim = Pm100Simulator().start()
    entry = {
        "Device": "meter",
        "Model": "Thorlabs PM100",
        "Address": sim.address,
        "Timeout": TIMEOUT_S,
        "measurement": "power",
        "Channels": {t: {"Type": t, "field-key": t} for t in ("Power", "Wavelength", "BeamDiameter", "NumAverages")},
    }
    return Lab([entry], sim.faults, sim.stop)  # fmt: skip
