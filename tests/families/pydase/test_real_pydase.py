"""Against a real pydase 0.10.6 server (the version the older logger pins), on 127.0.0.1.

The real service holds what the simulator holds (real_service.py builds it), so one test can hold
the simulator to the server answer by answer, key order included, and the driver is read against
the server itself: Quantities in pint's long names ("volt") and in pydase's short ones ("V",
"°C"), lists and dicts of sub-services, a property that raises.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from telegraf_inputs.families.pydase.protocol import API
from telegraf_inputs.families.pydase.simulator import Keyed, PydaseSimulator, Sub, default_service
from tests.families.pydase.test_pydase import EXE, channel, fields, service
from tests.families.serial_helpers import errors, read_once
from tests.helpers import ROOT

pytest.importorskip("pydase", reason="pydase is in the test extra: pip install -e '.[test]'")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.families.pydase.real_service", str(port)],
        cwd=tmp_path_factory.mktemp("pydase"),  # where pydase would keep its state file
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"http://127.0.0.1:{port}{API}", params={"access_path": "count"}, timeout=1)
                break
            except requests.ConnectionError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("the real pydase service did not start")
                time.sleep(0.1)
        time.sleep(0.3)  # the raising property is armed once the service answers
        yield port
    finally:
        process.terminate()
        process.wait(10)


def paths(value: Any, path: str = "") -> Iterator[str]:
    """Every access path of the service: each attribute, container and item."""
    if path:
        yield path
    if isinstance(value, list):
        for i, v in enumerate(value):
            yield from paths(v, f"{path}[{i}]")
    elif isinstance(value, Keyed):
        for k, v in value.items():
            yield from paths(v, f"{path}[{json.dumps(k)}]")
    elif isinstance(value, Sub | dict):
        for k, v in value.items():
            yield from paths(v, f"{path}.{k}" if path else k)


WRONG = ["missing", "channels[5].power", 'channels["a"]', "sensors[0]", 'sensors["z"].value', "temperature.unit",
         "channels[0].voltage", "heater"]  # fmt: skip


def answer(port: int, path: str) -> tuple[int, str, Any]:
    reply = requests.get(f"http://127.0.0.1:{port}{API}", params={"access_path": path}, timeout=5)
    return reply.status_code, reply.headers["Content-Type"], json.loads(reply.text, object_pairs_hook=list)


def test_the_simulator_answers_every_path_as_the_real_server_does(real: int) -> None:
    sim = PydaseSimulator().start()
    sim.drift = False
    try:
        every = [*paths(default_service()), *WRONG]
        assert len(every) > 25
        for path in every:
            assert answer(sim.port, path) == answer(real, path), path
    finally:
        sim.stop()


UNITS = {
    # channel: (access path, SubclassIndex, unit tag, value written)
    "volt_as_V": ("voltage", None, "V", 5.0),  # the server says "volt"
    "volt_as_mV": ("voltage", None, "mV", 5000.0),  # converted to the tag's unit
    "V_as_volt": ("bias", None, "volt", 1.5),  # the server says "V"
    "mbar": ("pressure", None, "mbar", 0.0012),  # "millibar"
    "degC": ("chamber", None, "degC", 21.0),  # "degree_Celsius"
    "DegC": ("water", None, "DegC", 18.5),  # "°C"; the older logger's example spells it DegC
    "kelvin": ("chamber", None, "K", 294.15),
    "ampere": ("current", 1, "A", 1.0),  # channels[1].current, "ampere"
}


def test_a_real_servers_quantities_are_written_under_symbol_unit_tags(tmp_path: Path, real: int) -> None:
    channels = {
        name: channel(attribute, "channels" if index is not None else None, index,
                      **{"field-key": name, "tags": {"unit": unit, "q": name}})
        for name, (attribute, index, unit, _) in UNITS.items()
    }  # fmt: skip
    channels |= {
        "t": channel("temperature", **{"field-key": "t"}),
        "n": channel("count", **{"field-key": "n"}),
        "on": channel("enabled", **{"field-key": "on"}),
        "b": channel("value", "sensors", "b", **{"field-key": "b"}),
        "p0": channel("power", "channels", 0, **{"field-key": "p0"}),
    }
    code, lines, stderr = read_once(tmp_path, EXE, [service(real, channels)])
    assert code == 0, stderr
    got = fields(lines)
    for name, (*_, value) in UNITS.items():
        assert got[name] == pytest.approx(value, rel=1e-12), name
    assert (got["t"], got["n"], got["on"], got["b"], got["p0"]) == (21.5, 3.0, 1.0, 4.0, 1.25)
    assert errors(stderr) == []


@pytest.mark.parametrize(
    ("ch", "message"),
    [
        (channel("heater"), "HTTP 400 Bad Request: RuntimeError: heater sensor unplugged"),
        (channel("pressure", tags={"unit": "V"}), "'pressure' is in 'millibar', which is not convertible to 'V'"),
        (channel("name"), "'name' is a str, not a number"),
        (channel("missing"), "AttributeError: 'Service' object has no attribute 'missing'"),
        (channel("power", "channels", 5), "IndexError: list index out of range"),
        (channel("value", "sensors", "z"), "KeyError: z"),
        (channel("nothing"), "'nothing' is a NoneType, not a number"),
    ],
)
def test_what_a_real_server_answers_that_is_no_value_fails_that_channel_alone(
    tmp_path: Path, real: int, ch: dict[str, Any], message: str
) -> None:
    channels = {"bad": {**ch, "field-key": "bad"}, "t": channel("temperature", **{"field-key": "t"})}
    code, lines, stderr = read_once(tmp_path, EXE, [service(real, channels)])
    assert code == 0 and fields(lines) == {"t": 21.5}
    (error,) = errors(stderr)
    assert "channel 'bad'" in error and message in error, error
