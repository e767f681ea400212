"""pydase services through telegraf-pydase, against the simulated REST API on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from telegraf_inputs.families.pydase.protocol import access_path
from telegraf_inputs.families.pydase.simulator import Keyed, PydaseSimulator, Quantity
from tests.families.serial_helpers import errors, read_once
from tests.helpers import ExecdProcess, parse_lines, write_config

EXE = "telegraf-pydase"


@pytest.fixture
def sim() -> Iterator[PydaseSimulator]:
    s = PydaseSimulator().start()
    s.elapsed = lambda: 15.0  # a quarter period into the drift: values differ from the set ones by at most 0.1 %
    yield s
    s.stop()


def channel(attribute: str, subclass: str | None = None, index: Any = None, **extra: Any) -> dict[str, Any]:
    where: dict[str, Any] = {"Attribute": attribute}
    if subclass is not None:
        where["Subclass"] = subclass
    if index is not None:
        where["SubclassIndex"] = index
    return {"Type": "pydaseAttribute", "pydaseServerStructure": where, **extra}


def service(port: int, channels: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """An entry as the older logger's files (since 2024-10) have it."""
    return {"Device": "oven", "Model": "pydase", "Address": "127.0.0.1", "Port": port, "Timeout": 1, "tags": {},
            "measurement": "oven", "Channels": channels, **extra}  # fmt: skip


def fields(lines: list[dict]) -> dict[str, Any]:
    return {k: v for line in lines for k, v in line["fields"].items()}


def test_access_paths_and_values(tmp_path: Path, sim: PydaseSimulator) -> None:
    channels = {
        "t": channel("temperature", **{"field-key": "t"}),
        "on": channel("enabled", **{"field-key": "on"}),
        "v": channel("voltage", **{"field-key": "v", "tags": {"unit": "mV"}}),
        "p1": channel("power", "channels", 1, **{"field-key": "p1"}),
        "i0": channel("current", "channels", 0, **{"field-key": "i0"}),
        "b": channel("value", "sensors", "b", **{"field-key": "b"}),
    }
    code, lines, stderr = read_once(tmp_path, EXE, [service(sim.port, channels)])
    assert code == 0, stderr
    got = fields(lines)
    assert got["t"] == pytest.approx(21.5, rel=1e-3) and got["p1"] == pytest.approx(2.5, rel=1e-3)
    assert got["b"] == pytest.approx(4.0, rel=1e-3)
    assert got["on"] == 1.0 and got["i0"] == 0.5  # a boolean as 1.0, a Quantity's magnitude
    assert got["v"] == 5000.0  # 5 volt under the tag mV
    paths = [parse_qs(urlsplit(r).query)["access_path"][0] for r in sim.requests]
    assert paths == ["temperature", "enabled", "voltage", "channels[1].power", "channels[0].current",
                     'sensors["b"].value']  # fmt: skip
    assert all(urlsplit(r).path == "/api/v1/get_value" for r in sim.requests)


@pytest.mark.parametrize(
    ("ch", "message"),
    [
        (channel("voltage", tags={"unit": "A"}), "'voltage' is in 'volt', which is not convertible to 'A'"),
        (channel("name"), "'name' is a str, not a number"),
        (channel("missing"), "HTTP 400 Bad Request: AttributeError: 'Service' object has no attribute 'missing'"),
        (channel("power", "channels", 5), "IndexError: list index out of range"),
        (channel("value", "sensors", "z"), "KeyError: z"),
        (channel("channels"), "'channels' is a list, not a number"),
    ],
)
def test_what_is_not_a_number_in_the_expected_unit_is_an_error(
    tmp_path: Path, sim: PydaseSimulator, ch: dict[str, Any], message: str
) -> None:
    channels = {"bad": {**ch, "field-key": "bad"}, "t": channel("temperature", **{"field-key": "t"})}
    code, lines, stderr = read_once(tmp_path, EXE, [service(sim.port, channels)])
    assert code == 0 and set(fields(lines)) == {"t"}
    (error,) = errors(stderr)
    assert "channel 'bad'" in error and message in error, error


@pytest.mark.parametrize(("fault", "message"), [("error_next", "HTTP 500"), ("garble_next", "invalid JSON")])
def test_server_faults(tmp_path: Path, sim: PydaseSimulator, fault: str, message: str) -> None:
    setattr(sim.faults, fault, True)
    code, lines, stderr = read_once(tmp_path, EXE, [service(sim.port, {"t": channel("temperature")})])
    assert lines == [] and message in errors(stderr)[0]


def test_timeout_refusal_and_recovery(tmp_path: Path) -> None:
    sim = PydaseSimulator().start()
    port = sim.port
    sim.faults.delay_s = 1.5
    code, lines, stderr = read_once(tmp_path, EXE, [service(port, {"t": channel("temperature")})])
    assert code == 1 and "E! device 'oven': 'temperature': timed out" in errors(stderr)[0]
    sim.stop()
    exe = ExecdProcess(["--config", str(write_config(tmp_path, [service(port, {"t": channel("temperature")})]))],
                       name=EXE)  # fmt: skip
    try:
        exe.trigger()
        exe.wait_stderr("Connection refused")
        sim = PydaseSimulator(port).start()
        exe.trigger()
        assert parse_lines(exe.read_lines(1)[0])[0]["fields"]["value"] == pytest.approx(21.5, rel=1e-2)
        exe.wait_stderr("recovered after 1 failed gather(s)")
        assert exe.close_stdin() < 2
    finally:
        sim.stop()


NAMES = st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True)


@given(NAMES, NAMES, st.one_of(st.integers(0, 5), st.text(min_size=1, max_size=8)), st.floats(-1e6, 1e6))
def test_every_access_path_the_driver_writes_is_the_one_pydase_resolves(
    sub: str, attribute: str, index: int | str, value: float
) -> None:
    sim = PydaseSimulator.__new__(PydaseSimulator)  # the resolver only, no server
    sim.elapsed, sim.drift = (lambda: 0.0), True
    holder = {attribute: value}
    container: Any = [holder] * 6 if isinstance(index, int) else Keyed({index: holder})
    sim.service = {sub: container}
    got = sim.resolve(access_path(attribute, sub, index))
    assert got == pytest.approx(value, rel=2e-3, abs=1e-9) if value else got == 0


def test_quantity_serialization() -> None:
    from telegraf_inputs.families.pydase.simulator import serialize

    expected = {"full_access_path": "t", "readonly": False, "doc": None, "type": "Quantity",
                "value": {"magnitude": 2.0, "unit": "K"}}  # fmt: skip
    assert serialize(Quantity(2.0, "K"), "t") == expected


def test_a_huge_integer_fails_its_channel_and_the_attribute_beside_it_is_written(
    tmp_path: Path, sim: PydaseSimulator
) -> None:
    sim.service["counter"] = 10**400  # valid JSON; no float holds it
    channels = {"n": channel("counter", **{"field-key": "n"}), "t": channel("temperature", **{"field-key": "t"})}
    code, lines, stderr = read_once(tmp_path, EXE, [service(sim.port, channels)])
    assert fields(lines)["t"] == pytest.approx(21.5, rel=1e-2) and "n" not in fields(lines)
    (error,) = [line for line in stderr.splitlines() if line.startswith("E! ")]
    assert "'counter': value" in error and "too large for a float field" in error and len(error) < 400
    assert "Traceback" not in stderr


def test_a_unit_tag_that_names_no_unit_leaves_the_value_as_sent_and_says_so_once(
    tmp_path: Path, sim: PydaseSimulator
) -> None:
    channels = {"v": channel("voltage", **{"field-key": "v", "tags": {"unit": "Vrms-ish"}})}
    code, lines, stderr = read_once(tmp_path, EXE, [service(sim.port, channels)])
    assert code == 0 and fields(lines) == {"v": 5.0}
    (warning,) = [line for line in stderr.splitlines() if line.startswith("W! ")]
    assert "[0].Channels.v: the unit tag 'Vrms-ish' is not a unit pint knows" in warning
