"""SRS SIM922 through telegraf-srs-sim922, on its own port and in a SIM900, against the simulator on a pty."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from telegraf_inputs.families.srs_sim922.simulator import Sim922Simulator
from tests.families.serial_helpers import errors, fields_of, read_once, running
from tests.helpers import ExecdProcess, load_devices, parse_lines, write_config

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the simulator's line is a pty")
EXE = "telegraf-srs-sim922"


sim = running(Sim922Simulator)


def module(address: str, name: str = "cryo", **params: Any) -> dict[str, Any]:
    """An entry as the older logger's files have it (since 3 July 2024)."""
    return {
        "Device": name,
        "Model": "SRS SIM922",
        "Address": address,
        "SerialConnectionParams": {"baudrate": 9600, "bytesize": 8, "stopbits": 1, "parity": "N"},
        "Timeout": 0.5,
        "DeviceSpecificParams": params,
        "tags": {},
        "measurement": "cryotemperature",
        "Channels": {
            "4K": {"DeviceChannel": 1, "Type": "Temperature", "field-key": "temperature", "tags": {"sensor": "4K"}},
            "77K": {"DeviceChannel": 3, "Type": "Temperature", "field-key": "temperature", "tags": {"sensor": "77K"}},
        },
    }


def by_sensor(lines: list[dict]) -> dict[str, Any]:
    return {line["tags"].get("sensor"): line["fields"] for line in lines}


def test_direct_conversation_one_query_for_every_channel(tmp_path: Path, sim: Sim922Simulator) -> None:
    entry = module(sim.path)
    entry["Channels"]["v"] = {"DeviceChannel": 1, "Type": "Voltage", "field-key": "voltage", "tags": {"sensor": "4K"}}
    code, lines, stderr = read_once(tmp_path, EXE, [entry])
    assert code == 0, stderr
    assert [r for r, _ in sim.log] == [b"TVAL? 1\n", b"TVAL? 3\n", b"VOLT? 1\n"]  # fewer bytes than TVAL? 0
    replies = [float(reply.decode()) for _, reply in sim.log]  # type: ignore[union-attr]
    fields = fields_of([line for line in lines if line["tags"]["sensor"] == "4K"])
    assert fields["temperature"] == pytest.approx(replies[0], rel=1e-6)
    assert fields["voltage"] == pytest.approx(replies[2], rel=1e-6) and 1.5 < fields["voltage"] < 1.7
    assert by_sensor(lines)["77K"]["temperature"] == pytest.approx(replies[1], rel=1e-6)


def test_three_channels_or_more_are_one_query(tmp_path: Path, sim: Sim922Simulator) -> None:
    entry = module(sim.path)
    entry["Channels"]["300K"] = {"DeviceChannel": 4, "field-key": "temperature", "tags": {"sensor": "300K"}}
    code, lines, stderr = read_once(tmp_path, EXE, [entry])
    assert code == 0 and [r for r, _ in sim.log] == [b"TVAL? 0\n"]
    temps = [float(x) for x in sim.log[0][1].decode().split(",")]  # type: ignore[union-attr]
    assert [by_sensor(lines)[s]["temperature"] for s in ("4K", "77K", "300K")] == pytest.approx(
        [temps[0], temps[2], temps[3]], rel=1e-6
    )


def test_modules_in_one_sim900_share_its_port(tmp_path: Path) -> None:
    sim = Sim922Simulator([3, 5]).start()
    try:
        sim.modules[5].kelvin = [1.5, 2.5, 3.5, 4.5]
        entries = [module(sim.path, "slot3", SIM900Port=3), module(sim.path, "slot5", SIM900Port=5)]
        devices = load_devices("srs_sim922", write_config(tmp_path, entries))
        assert devices[0].connection == devices[1].connection
        code, lines, stderr = read_once(tmp_path, EXE, entries)
        assert code == 0, stderr
        assert [r for r, _ in sim.log] == [b'CONN 3,"xyz"\n', b"TVAL? 1\n", b"TVAL? 3\n", b"xyz",
                                           b'CONN 5,"xyz"\n', b"TVAL? 1\n", b"TVAL? 3\n", b"xyz"]  # fmt: skip
        slot5 = {line["tags"]["sensor"]: line["fields"]["temperature"] for line in lines
                 if line["tags"]["device"] == "slot5"}  # fmt: skip
        assert slot5 == {"4K": pytest.approx(1.5, rel=0.02), "77K": pytest.approx(3.5, rel=0.02)}
    finally:
        sim.stop()


def test_a_module_reached_with_sndt_shares_the_mainframe_with_one_reached_with_conn(tmp_path: Path) -> None:
    sim = Sim922Simulator([3, 5]).start()
    try:
        sim.modules[3].kelvin = [1.5, 2.5, 3.5, 4.5]
        entries = [
            module(sim.path, "slot3", SIM900Port=3, SIM900Addressing="SNDT"),
            module(sim.path, "slot5", SIM900Port=5),
        ]
        code, lines, stderr = read_once(tmp_path, EXE, entries)
        assert code == 0, stderr
        sent = [r for r, _ in sim.log]
        assert sent[0] == b'SNDT 3,"TVAL? 1"\n' and b'CONN 5,"xyz"\n' in sent and b"CONN 3" not in b"".join(sent)
        assert all(r.startswith((b"SNDT 3", b"NINP? 3", b"RAWN? 3")) for r in sent[: sent.index(b'CONN 5,"xyz"\n')])
        slot3 = {line["tags"]["sensor"]: line["fields"]["temperature"] for line in lines
                 if line["tags"]["device"] == "slot3"}  # fmt: skip
        assert slot3 == {"4K": pytest.approx(1.5, rel=0.02), "77K": pytest.approx(3.5, rel=0.02)}
        assert {line["tags"]["device"] for line in lines} == {"slot3", "slot5"}
    finally:
        sim.stop()


def test_sndt_addressing_without_a_reply_is_an_error_within_the_timeout(tmp_path: Path) -> None:
    sim = Sim922Simulator([3]).start()
    try:
        sim.modules[3].disconnected = set()
        sim.faults.silent = True
        code, lines, stderr = read_once(
            tmp_path, EXE, [module(sim.path, "slot3", SIM900Port=3, SIM900Addressing="SNDT")]
        )
        assert code == 1 and lines == []
        assert "E!" in stderr and "slot3" in stderr
    finally:
        sim.stop()


@pytest.mark.parametrize(("fault", "message"), [("cut_short_next", "cut short"), ("garble_next", "is not 1 number(s)")])
def test_a_bad_reply_is_an_error_and_no_value(tmp_path: Path, sim: Sim922Simulator, fault: str, message: str) -> None:
    setattr(sim.faults, fault, True)
    code, lines, stderr = read_once(tmp_path, EXE, [module(sim.path)])
    assert code == 0 and set(by_sensor(lines)) == {"77K"}  # the first query's reply was spoiled
    assert len(errors(stderr)) == 1 and "channel '4K'" in errors(stderr)[0] and message in errors(stderr)[0]


def test_a_disconnected_diode_is_a_warning(tmp_path: Path, sim: Sim922Simulator) -> None:
    sim.modules[0].disconnected = {3}
    code, lines, stderr = read_once(tmp_path, EXE, [module(sim.path)])
    assert code == 0 and set(by_sensor(lines)) == {"4K"}
    (warning,) = errors(stderr, "W!")
    assert "channel 3 reads 0 K: no diode, or outside its calibration curve" in warning


def test_silence_wrong_line_and_unplugged_adapter_then_recovery(tmp_path: Path) -> None:
    sim = Sim922Simulator(link=tmp_path / "port").start()
    try:
        wrong = module(str(tmp_path / "port"))
        wrong["SerialConnectionParams"]["baudrate"] = 19200
        code, lines, stderr = read_once(tmp_path, EXE, [wrong])
        assert code == 1 and "no reply to b'TVAL? 1\\n' within Timeout 0.5 s" in errors(stderr)[0]
        assert sim.line_mismatches == 1
        exe = ExecdProcess(["--config", str(write_config(tmp_path, [module(str(tmp_path / "port"))]))], name=EXE)
        exe.trigger()
        assert len(parse_lines("\n".join(exe.read_lines(2)))) == 2
        sim.vanish()
        exe.trigger()
        exe.wait_stderr("failed")
        sim.reappear()
        exe.trigger()
        exe.read_lines(2)
        exe.wait_stderr("recovered after 1 failed gather(s)")
        assert exe.close_stdin() < 2
    finally:
        sim.stop()


def test_two_entries_on_one_port_need_a_sim900(tmp_path: Path) -> None:
    config = write_config(tmp_path, [module("/dev/ttyUSB0"), module("/dev/ttyUSB0", "other")])
    code, _, stderr = read_once(tmp_path, EXE, [module("/dev/ttyUSB0"), module("/dev/ttyUSB0", "other")])
    assert code == 2 and f"{config}: [1].DeviceSpecificParams: SIM900Port none (no SIM900Port)" in stderr


def test_the_july_2024_model_string_and_channel_tag_load(tmp_path: Path) -> None:
    entry = {**module("/dev/ttyUSB0"), "Model": "SRSSIM922"}
    entry["Channels"] = {"a": {"Type": "Temperature", "tags": {"SRSSIM922ChannelName": "2"}}}
    (device,) = load_devices("srs_sim922", write_config(tmp_path, [entry]))
    assert device.channels[0].number == 2
