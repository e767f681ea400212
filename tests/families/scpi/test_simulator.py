"""--simulate makes up a reply to every configured Query that the channel's own parsing accepts."""

from __future__ import annotations

import re
import socket
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from telegraf_inputs.families.scpi.protocol import FIELD_TYPES, Parsing, extract
from telegraf_inputs.families.scpi.simulator import ScpiSimulator, reply_for
from tests.helpers import ExecdProcess, parse_lines, run_once, write_config

LITERAL = st.text(alphabet="ABCXYZabc=:, _#", max_size=6)
VALUE_GROUPS = {
    "float": [r"([-+0-9.eE]+)", r"([-+]?\d+\.\d+)", r"(\S+)", r"([^,]+)"],
    "integer": [r"(\d+)", r"([-+]?\d+)", r"(\S+)"],
    "boolean": [r"(ON|OFF)", r"(\w+)", r"(\S+)"],
    "string": [r"(\w+)", r"(.+)", r"([A-Z]+)", r'"([^"]*)"'],
}


@st.composite
def parsings(draw: Any) -> Parsing:
    kind = draw(st.sampled_from(FIELD_TYPES))
    where = draw(st.sampled_from(["regex", "index", "whole"]))
    if where == "regex":
        group = draw(st.sampled_from(VALUE_GROUPS[kind]))
        pattern = (
            re.escape(draw(LITERAL)) + draw(st.sampled_from(["", r"\s*", " +"])) + group + re.escape(draw(LITERAL))
        )
        return Parsing(regex=re.compile(pattern), field_type=kind)
    if where == "index":
        return Parsing(index=draw(st.integers(0, 6)), separator=draw(st.sampled_from([",", ";", " ", "\t"])),
                       field_type=kind)  # fmt: skip
    return Parsing(field_type=kind)


@settings(max_examples=300, deadline=None)
@given(st.lists(parsings(), min_size=1, max_size=3), st.floats(0, 1e6))
def test_made_up_replies_are_accepted_by_every_channel_of_the_query(parsings: list[Parsing], t: float) -> None:
    reply = reply_for(parsings, "MEAS?", t)
    indexes = [p.index for p in parsings if p.index is not None]
    one_list = len(indexes) == len(parsings) == len(set(indexes)) and len({p.separator for p in parsings}) == 1
    if len(parsings) == 1 or one_list:  # channels that agree on the reply's shape always get one
        assert reply is not None, parsings
    if reply is not None:
        for parsing in parsings:
            extract(reply, parsing)  # raises if the channel would not accept it


def test_simulate_reads_every_channel_of_a_config_with_every_option(tmp_path: Path) -> None:
    channels = {
        "a": {"Query": "KRDG? A", "field-key": "a"},
        "b": {"Query": "STAT?", "Regex": r"T=([-+0-9.]+)K", "field-key": "b"},
        "c": {"Query": "SNAP? 1,2", "Index": 1, "field-key": "c"},
        "d": {"Query": "SNAP? 1,2", "Index": 0, "FieldType": "integer", "field-key": "d"},
        "e": {"Query": "OUTP?", "FieldType": "boolean", "TrueReply": "LOCKED", "FalseReply": "FREE", "field-key": "e"},
        "f": {"Query": "MODE?", "FieldType": "string", "field-key": "f"},
        "g": {"Query": "LIST?", "Index": 3, "Separator": " ", "field-key": "g"},
        "h": {"Query": ":MEAS:VOLT?", "field-key": "h"},
    }
    entry = {"Device": "x", "Model": "SCPI", "Address": "ASRL/dev/ttyUSB9::INSTR", "VISAIDN": "ACME,1,2,3",
             "DeviceSpecificParams": {"ErrorQuery": "ERR?", "JoinQueries": True, "ReadTermination": "\r\n"},
             "Channels": channels}  # fmt: skip
    result = run_once(["--config", str(write_config(tmp_path, [entry])), "--simulate"], name="telegraf-scpi")
    assert result.returncode == 0, result.stderr
    fields: dict[str, Any] = {}
    for line in parse_lines(result.stdout):
        fields.update(line["fields"])
    assert set(fields) == set("abcdefgh")
    assert isinstance(fields["d"], int) and isinstance(fields["e"], bool) and isinstance(fields["f"], str)
    assert all(isinstance(fields[k], float) for k in "abcgh")
    assert "E!" not in result.stderr and "W!" not in result.stderr


def _ask(sim: ScpiSimulator, message: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", sim.port), timeout=2) as conn:
        conn.sendall(message)
        conn.settimeout(0.5)
        data = b""
        try:
            while chunk := conn.recv(4096):
                data += chunk
                if data.endswith(b"\n"):
                    break
        except TimeoutError:
            pass
        return data


def test_simulator_answers_errors_and_faults() -> None:
    sim = ScpiSimulator({"MEAS:VOLT?": "+1.5E+00", "STAT?": lambda: "MODE=LOCK"}).start()
    try:
        assert _ask(sim, b"MEAS:VOLT?;:STAT?\n") == b"+1.5E+00;MODE=LOCK\n"
        assert _ask(sim, b"NOPE?\n") == b""  # no reply, an error queued
        assert _ask(sim, b"SYST:ERR?\n") == b'-113,"Undefined header"\n'
        assert _ask(sim, b"SYST:ERR?\n") == b'+0,"No error"\n'
        sim.faults.error_next = True
        assert _ask(sim, b"MEAS:VOLT?\n") == b'-113,"Undefined header"\n'
        sim.faults.garble_next = True
        assert _ask(sim, b"MEAS:VOLT?\n") == b"+#.#E+##\n"
        sim.faults.cut_short_next = True
        assert _ask(sim, b"MEAS:VOLT?\n") == b"+1.5"
        sim.faults.silent = True
        assert _ask(sim, b"MEAS:VOLT?\n") == b""
    finally:
        sim.stop()


def test_execd_reports_faults_and_recovers(tmp_path: Path) -> None:
    sim = ScpiSimulator({"MEAS:VOLT?": "+1.5E+00", "MEAS:CURR?": "+2.5E-03"}).start()
    channels = {"v": {"Query": "MEAS:VOLT?", "field-key": "v"}, "i": {"Query": "MEAS:CURR?", "field-key": "i"}}
    entry = {"Device": "psu", "Model": "SCPI", "Address": sim.address, "Timeout": 0.3, "Channels": channels}
    proc = ExecdProcess(["--config", str(write_config(tmp_path, [entry]))], name="telegraf-scpi")
    try:
        proc.trigger()
        first = parse_lines("\n".join(proc.read_lines(2)))
        assert sorted(next(iter(line["fields"])) for line in first) == ["i", "v"]
        sim.faults.garble_next = True
        proc.trigger()
        (line,) = proc.read_lines(1)
        assert parse_lines(line)[0]["fields"] == {"i": 2.5e-3}  # the garbled channel is left out
        sim.faults.cut_short_next = True  # half a reply, the rest never comes: the connection is dropped
        proc.trigger()
        proc.wait_stderr("reply not complete within the timeout")
        proc.trigger()  # reconnected
        lines = proc.read_lines(2, timeout=10)
        assert {next(iter(p["fields"])) for p in parse_lines("\n".join(lines))} == {"v", "i"}
        proc.wait_stderr("recovered after 1 failed gather(s)")
        stderr = "\n".join(proc.stderr)
        assert "E! device 'psu' channel 'v': 'MEAS:VOLT?': '+#.#E+##' is not a number" in stderr
        assert "E! device 'psu': reply to 'MEAS:VOLT?': reply not complete within the timeout of 0.3 s" in stderr
    finally:
        proc.close_stdin()
        sim.stop()
