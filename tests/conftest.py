from __future__ import annotations

from collections.abc import Iterator

import pytest

from telegraf_inputs.families.daq970a.simulator import Daq970aSimulator


@pytest.fixture
def sim() -> Iterator[Daq970aSimulator]:
    simulator = Daq970aSimulator().start()
    yield simulator
    simulator.stop()


@pytest.fixture
def sim2() -> Iterator[Daq970aSimulator]:
    simulator = Daq970aSimulator().start()
    yield simulator
    simulator.stop()
