"""This family's lab for tests/families/test_in_step.py: its simulator on its real transport, and a device
whose every channel has its own, distinct value."""

from __future__ import annotations

from typing import Any

from tests.families.lab import TIMEOUT_S, serial_lab


def simulator() -> Any:
    from telegraf_inputs.families.srs_ctc100.simulator import Ctc100Simulator

    sim = Ctc100Simulator()
    sim.values.update(In1=12.5, In2=77.0)  # the values
    return sim


def entry(path: str) -> dict[str, Any]:
    return {"Device": "cryo", "Model": "SRS CTC100", "Address": path, "Timeout": TIMEOUT_S,
            "measurement": "cryotemperature",
            "Channels": {n: {"Type": "Temperature", "field-key": n, "tags": {"CTC100ChannelName": n}}
                         for n in ("In1", "In2", "In4")}}  # fmt: skip


lab = serial_lab(simulator, entry)
