"""--health: one lab_device line per device and gather, for every family and every failure kind.

The families run on their simulators, on their real transports (the labs of test_in_step.py), through the
runtime's Runner with health on; faults are the simulators' own.
"""

from __future__ import annotations

import math
import socket
import sys
from pathlib import Path
from typing import Any

import pytest
from line_protocol_parser import parse_line

from telegraf_inputs import health, registry
from telegraf_inputs.runtime import Runner
from tests.families.test_in_step import LABS, SERIAL, TIMEOUT_S
from tests.helpers import daq_device, parse_lines, run_once, write_config

# what the fault tests' devices log, and the code each must get
MESSAGES = {
    "no reply to b'TVAL? 1\\n' within Timeout 0.4 s; check the cable": "timeout",
    "no reading within the deadline of 3 s": "deadline",
    "still busy with an earlier read that passed its deadline; skipped": "deadline",
    "cannot connect to 'TCPIP0::127.0.0.1::1::SOCKET': Connection refused": "disconnected",
    "serial port /dev/pts/9 failed (device reports readiness to read but returned no data); unplugged?": "disconnected",
    "no reply to 'READ?': VI_ERROR_IO (-1073807298) (the connection is not answering)": "disconnected",
    "negative reply (NAK) to SV1: exception code '2', setting not allowed": "refused",
    "'heater': HTTP 400 Bad Request: RuntimeError: heater sensor unplugged": "refused",
    "reply to 'CH0?' is not a number: 'ANSWER'": "garbled",
    "reply to 'TVAL? 1' is not 1 number(s): b'#.######E+##\\r\\n'": "garbled",
    "reply to b'#01RD\\r' cut short (no b'\\r' within Timeout): b'*01 1.5'": "garbled",
    "CRC error in reply 01 03 10 00 c8 00 00 00 19 00; no channel emitted": "garbled",
    "overload or open input (+9.90E+37)": "overload",
    "the ion gauge is off (9.90E+09: filament off or an IG error)": "overload",
    "sensor 131075 is stale: last seen 5000 s ago": "overload",
    "the panel's temperature is in 'degC', which is not convertible to 'V' of the channel's unit tag": "config",
}


@pytest.mark.parametrize(("message", "code"), MESSAGES.items())
def test_each_failure_gets_its_reason_code(message: str, code: str) -> None:
    assert health.classify(message) == code
    assert code in health.CODES


def _health(out: list[bytes]) -> list[dict[str, Any]]:
    lines = [parse_line(line) for line in b"".join(out).decode().splitlines()]
    return [line for line in lines if line["measurement"] == health.MEASUREMENT]


def _gather(runner: Runner, out: list[bytes]) -> list[dict[str, Any]]:
    del out[:]
    runner.trigger()
    runner.wait_idle()
    return _health(out)


@pytest.fixture(params=sorted(LABS))
def lab(request: pytest.FixtureRequest) -> Any:
    if request.param in SERIAL and sys.platform == "win32":
        pytest.skip("ptys are POSIX")
    started = LABS[request.param]()
    yield request.param, started
    started.stop()


@pytest.mark.parametrize("fault", ["late_next_s", "stall_next_s"])
def test_every_family_writes_a_health_line_per_device_and_gather_through_a_fault(
    tmp_path: Path, lab: Any, fault: str
) -> None:
    family, sim = lab
    loaded = registry.load(write_config(tmp_path, sim.entries))
    out: list[bytes] = []
    runner = Runner([(g.driver, g.devices) for g in loaded.groups], out.append, health=True)
    try:
        _gather(runner, out)  # connections opened, first replies in
        first = _gather(runner, out)
        setattr(sim.faults, fault, 3 * TIMEOUT_S)  # one reply (or its second half) past the device's Timeout
        faulty = _gather(runner, out)
        after = [_gather(runner, out) for _ in range(3)]
    finally:
        runner.close()
    names = {entry["Device"] for entry in sim.entries}
    for lines in (first, faulty, *after):
        assert sorted(line["tags"]["device"] for line in lines) == sorted(names), (family, lines)
        for line in lines:
            assert line["tags"]["family"] == family and line["tags"]["model"]
            fields = line["fields"]
            assert set(fields) == {"up", "read_seconds", "consecutive_failures", "error", "message"}
            assert fields["read_seconds"] >= 0 and math.isfinite(fields["read_seconds"])
            assert len(fields["message"]) <= health.MAX_MESSAGE
            assert (fields["error"] == "" and fields["message"] == "") == fields["up"], line
            assert fields["up"] or fields["error"] in health.CODES
    # a lab may hold a device its simulator never answers (PurpleAir's 'air 1'): it is down throughout
    healthy = {line["tags"]["device"] for line in after[-1] if line["fields"]["up"]}
    assert healthy, f"{family}: no device up after the fault: {after[-1]}"
    assert all(line["fields"]["up"] for line in first if line["tags"]["device"] in healthy), (family, first)
    down = [line for line in faulty if not line["fields"]["up"] and line["tags"]["device"] in healthy]
    assert down, f"{family}: a reply past its Timeout left every device up: {faulty}"
    assert all(line["fields"]["error"] in ("timeout", "deadline", "garbled", "disconnected") for line in down), down
    assert all(line["fields"]["consecutive_failures"] == 1 for line in down), down
    assert all(line["fields"]["consecutive_failures"] == 0 for line in after[-1] if line["fields"]["up"])


def test_a_device_that_cannot_be_reached_still_has_its_line_and_its_count_grows(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"TCPIP0::127.0.0.1::{s.getsockname()[1]}::SOCKET"
    loaded = registry.load(write_config(tmp_path, [daq_device(dead, name="absent")]))
    out: list[bytes] = []
    runner = Runner([(g.driver, g.devices) for g in loaded.groups], out.append, health=True)
    try:
        gathers = [_gather(runner, out) for _ in range(3)]
    finally:
        runner.close()
    assert [[line["fields"]["consecutive_failures"] for line in g] for g in gathers] == [[1], [2], [3]]
    (line,) = gathers[-1]
    assert line["tags"] == {"device": "absent", "family": "daq970a", "model": "Keysight DAQ970A"}
    assert line["fields"]["up"] is False and line["fields"]["error"] == "disconnected"
    assert "Connection refused" in line["fields"]["message"]


def test_health_is_off_by_default_and_on_with_the_flag(tmp_path: Path) -> None:
    config = write_config(tmp_path, [daq_device("TCPIP0::127.0.0.1::5025::SOCKET")])
    plain = run_once(["--config", str(config), "--simulate"])
    with_health = run_once(["--config", str(config), "--simulate", "--health"])
    assert plain.returncode == with_health.returncode == 0, (plain.stderr, with_health.stderr)
    assert {line["measurement"] for line in parse_lines(plain.stdout)} == {"temperature"}
    measurements = [line["measurement"] for line in parse_lines(with_health.stdout)]
    assert measurements.count(health.MEASUREMENT) == 1 and "temperature" in measurements


def test_a_secret_in_an_error_never_reaches_a_health_line() -> None:
    from telegraf_inputs.logs import redactor

    redactor.add("s3cr3t-key-0123")
    metric = health.line("air", "purpleair", "PurpleAir", up=False, read_seconds=0.1, failures=1,
                         message="HTTP 403 for https://api.purpleair.com/v1/sensors?api_key=s3cr3t-key-0123 "
                         "(key s3cr3t-key-0123)\n" + "x" * 1000, time_ns=1)  # fmt: skip
    assert "s3cr3t" not in metric.fields["message"]
    assert len(str(metric.fields["message"])) <= health.MAX_MESSAGE and "\n" not in str(metric.fields["message"])


def test_a_device_stuck_in_a_read_has_a_line_every_gather_while_it_is_skipped(tmp_path: Path) -> None:
    from telegraf_inputs.families.daq970a.simulator import Daq970aSimulator

    sim = Daq970aSimulator().start()
    try:
        entry = daq_device(sim.address, Timeout=1500, Deadline=0.3)  # a gather waits less than a read may take
        loaded = registry.load(write_config(tmp_path, [entry]))
        out: list[bytes] = []
        runner = Runner([(g.driver, g.devices) for g in loaded.groups], out.append, health=True)
        try:
            assert _gather(runner, out)[0]["fields"]["up"]
            sim.faults.silent = True  # no reply: the read waits its Timeout, past the gather's deadline,
            stuck = [_gather(runner, out) for _ in range(3)]  # and the next gathers skip the device meanwhile
        finally:
            runner.close()
    finally:
        sim.stop()
    assert [len(g) for g in stuck] == [1, 1, 1], stuck
    assert all(not g[0]["fields"]["up"] for g in stuck), stuck
    assert [g[0]["fields"]["consecutive_failures"] for g in stuck] == [1, 2, 3]
    assert {g[0]["fields"]["error"] for g in stuck} == {"deadline"}
    assert "still busy" in stuck[1][0]["fields"]["message"] and "still busy" in stuck[2][0]["fields"]["message"]
