"""This family's lab for tests/families/test_in_step.py: the stub of the vendor's library, and a device whose
every channel has its own, distinct value.  A late reply is a Get call returning past the Timeout: the
worker is stopped then, so nothing it answers later can reach another channel."""

from __future__ import annotations

import tempfile
from pathlib import Path

from tests.families.lab import TIMEOUT_S, Lab
from tests.helpers import set_environ

from .stub import Stub, StubFaults


def lab() -> Lab:
    stub = Stub(Path(tempfile.mkdtemp(prefix="wlm-lab-")))
    stub.set(GetFrequencyNum_1=281.63, GetFrequencyNum_2=384.23, GetTemperature=24.5)
    stop = set_environ(stub.env)  # the library's worker processes inherit it
    channels = {"one": {"Type": "Frequency", "field-key": "one"},
                "two": {"Type": "Frequency", "SwitchChannel": 2, "field-key": "two"},
                "t": {"Type": "Temperature", "field-key": "t"}}  # fmt: skip
    entry = {"Device": "Wavemeter", "Model": "HighFinesse", "Library": str(stub.library), "Timeout": TIMEOUT_S,
             "measurement": "wavemeter", "Channels": channels}  # fmt: skip
    return Lab([entry], StubFaults(stub), stop, used=lambda: bool(stub.called()))
