"""This family's lab for tests/families/test_in_step.py: its simulator on its real transport, and a device
whose every channel has its own, distinct value."""

from __future__ import annotations

from tests.families.lab import TIMEOUT_S, Lab


def lab() -> Lab:
    from telegraf_inputs.families.rp_lockbox.simulator import LockboxSimulator

    sim = LockboxSimulator().start()
    sim.box.levels = {1: 1.111, 2: 2.222}  # the two inputs
    entry = {"Device": "Lockbox", "Model": "rp-lockbox", "Address": "127.0.0.1", "Timeout": TIMEOUT_S,
             "SCPIConnectionParams": {"Port": sim.port}, "measurement": "lockbox",
             "Channels": {"in1": {"Type": "FastAnalogIn", "DeviceChannel": 1, "field-key": "in1"},
                          "in2": {"Type": "FastAnalogIn", "DeviceChannel": 2, "field-key": "in2"}}}  # fmt: skip
    return Lab([entry], sim.faults, sim.stop)
