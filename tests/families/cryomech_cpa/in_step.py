"""This family's lab for tests/families/test_in_step.py: its simulator on its real transport, and a device
whose every channel has its own, distinct value."""

from __future__ import annotations

from tests.families.lab import TIMEOUT_S, Lab


def lab() -> Lab:
    from telegraf_inputs.families.cryomech_cpa.simulator import CpaSimulator

    sim = CpaSimulator().start()
    entry = {"Device": "Compressor", "Model": "Cryomech CPA1110", "Address": sim.address, "Timeout": TIMEOUT_S,
             "measurement": "compressor",
             "Channels": {"in": {"Type": "CoolantIntTemperature", "field-key": "coolant_in"},
                          "he": {"Type": "HeTemperature", "field-key": "helium"},
                          "hp": {"Type": "HighPressure", "field-key": "high_pressure"}}}  # fmt: skip
    return Lab([entry], sim.faults, sim.stop)
