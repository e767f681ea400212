"""This family's lab for tests/families/test_in_step.py: its simulator on its real transport, and a device
whose every channel has its own, distinct value."""

from __future__ import annotations

from tests.families.lab import TIMEOUT_S, Lab


def lab() -> Lab:
    from telegraf_inputs.families.daq970a.simulator import Daq970aSimulator

    sim = Daq970aSimulator().start()
    entry = {"Device": "daq", "Model": "Keysight DAQ970A", "Address": sim.address, "Timeout": TIMEOUT_S * 1000,
             "measurement": "temperature",
             "Channels": {"101": {"DeviceChannel": 101, "Type": "TEMPT", "tags": {"sensor": "a"}},
                          "102": {"DeviceChannel": 102, "Type": "DCV", "field-key": "voltage"}}}  # fmt: skip
    return Lab([entry], sim.faults, sim.stop, sim)
