"""No value under another channel: after a late reply or one that stalls halfway, for every family.

Each family's simulator runs on its real transport (TCP, Modbus TCP, HTTP, a pty) and every channel
of the device has its own, distinct value.  The lab is read as ``telegraf-lab run`` reads it (the
runtime's Runner, one gather after another, as Telegraf's triggers come): one clean gather gives
each series its value; then one reply comes 1.5 Timeouts late (or its second half does), and every
value written in that gather and the five after it must be its own series' value.  The last gather
must have every series again: the connection is back in step, not merely silent.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from line_protocol_parser import parse_line

from telegraf_inputs import registry
from telegraf_inputs.runtime import Runner
from tests.families.lab import TIMEOUT_S, Lab, labs
from tests.helpers import write_config

posix = pytest.mark.skipif(sys.platform == "win32", reason="ptys are POSIX")
RELATIVE = 0.02  # the simulators' slow drift over a test; distinct values differ by far more


LABS = labs()
SERIAL = {name for name, start in LABS.items() if getattr(start, "serial", False)}


def _over(start: Callable[[], Lab], protocol: str) -> Callable[[], Lab]:
    """The lab on VXI-11 or HiSLIP at the standard ports, its address as the older logger's files write it."""

    def lan() -> Lab:
        from tests.families.test_lan_transports import gateway, used

        lab = start()
        gate = gateway(lab.sim, protocol)
        for entry in lab.entries:
            entry["Address"] = gate.address
        lab.used = lambda: used(gate)
        return lab

    return lan


LAN = {f"{name} over {protocol}": _over(LABS[name], protocol) for name in ("daq970a", "scpi")
       for protocol in ("vxi11", "hislip")}  # fmt: skip


def test_every_family_is_covered() -> None:
    assert set(LABS) == {family.name for family in registry.families()}


Series = tuple[str, str]  # (the line's series: measurement and tags, the field)


def _values(out: list[bytes]) -> dict[Series, list[float]]:
    values: dict[Series, list[float]] = {}
    for line in b"".join(out).decode().splitlines():
        parsed = parse_line(line)
        series = parsed["measurement"] + repr(sorted(parsed["tags"].items()))
        for key, value in parsed["fields"].items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                values.setdefault((series, key), []).append(float(value))
    return values


def _gather(runner: Runner, out: list[bytes]) -> dict[Series, list[float]]:
    del out[:]
    runner.trigger()
    runner.wait_idle()
    return _values(out)


@pytest.fixture(params=sorted(LABS | LAN))
def lab(request: pytest.FixtureRequest) -> Iterator[tuple[str, Lab]]:
    if request.param in SERIAL and sys.platform == "win32":
        pytest.skip("ptys are POSIX")
    started = (LABS | LAN)[request.param]()
    yield request.param, started
    started.stop()


@pytest.mark.parametrize("fault", ["late_next_s", "stall_next_s"])
def test_after_a_late_or_stalled_reply_every_value_is_its_own_channels(
    tmp_path: Path, lab: tuple[str, Lab], fault: str
) -> None:
    family, sim = lab
    loaded = registry.load(write_config(tmp_path, sim.entries))
    assert not loaded.problems, loaded.problems
    out: list[bytes] = []
    runner = Runner([(g.driver, g.devices) for g in loaded.groups], out.append)
    try:
        first = _gather(runner, out)
        assert first, f"{family}: the clean gather wrote nothing"
        own = {series: values[0] for series, values in first.items()}
        levels = sorted(own.values())
        assert all(not math.isclose(a, b, rel_tol=5 * RELATIVE) for a, b in zip(levels, levels[1:], strict=False)), (
            f"{family}: the simulated channels need distinct values to show a misplacement: {own}"
        )
        setattr(sim.faults, fault, 1.5 * TIMEOUT_S)
        written: list[dict[Series, list[float]]] = [_gather(runner, out) for _ in range(6)]
    finally:
        runner.close()
    for number, values in enumerate(written, 2):
        for series, got in values.items():
            for value in got:
                assert math.isclose(value, own[series], rel_tol=RELATIVE, abs_tol=1e-12), (
                    f"{family}, gather {number} after a {fault} fault: {series} = {value}, its own value is "
                    f"{own[series]}; everything written: {values}"
                )
    assert set(written[-1]) == set(own), f"{family}: not back in step: last gather wrote {written[-1]}"
    assert getattr(sim.faults, fault) == 0.0, f"{family}: the simulator never applied the {fault} fault"
    assert sim.used(), f"{family}: the transport under test carried no exchange"
