"""This family's lab for tests/families/test_in_step.py: its simulator on its real transport, and a device
whose every channel has its own, distinct value."""

from __future__ import annotations

from tests.families.lab import TIMEOUT_S, Lab


def lab() -> Lab:
    from telegraf_inputs.families.purpleair.simulator import PurpleAirSimulator

    sim = PurpleAirSimulator().start()
    channels = {"t": {"Type": "temperature", "field-key": "temperature_f"},
                "h": {"Type": "humidity", "field-key": "humidity"},
                "p": {"Type": "pressure", "field-key": "pressure"}}  # fmt: skip
    lan = [{"Device": f"air {i}", "Model": "PurpleAir", "Address": sim.lan_url(i), "Timeout": TIMEOUT_S,
            "measurement": "air", "Channels": channels} for i in (1, 2)]  # fmt: skip
    sim.add_sensor(2, humidity=61.0)
    return Lab(lan, sim.faults, sim.stop)
