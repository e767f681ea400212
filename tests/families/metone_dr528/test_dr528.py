"""Met One DR-528 through telegraf-metone-dr528, against the simulator on a pty."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from telegraf_inputs.families.metone_dr528.protocol import LABELS, ReplyError, parse_record
from telegraf_inputs.families.metone_dr528.simulator import Dr528Simulator
from tests.families.serial_helpers import errors, read_once, running
from tests.helpers import OLDER_FILE, ExecdProcess, parse_lines, write_config

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the simulator's line is a pty")
EXE = "telegraf-metone-dr528"


sim = running(Dr528Simulator)


def counter(address: str, channels: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    """The older logger's example entry (no SerialConnectionParams, Timeout 10), with more channels."""
    return {
        "Device": "Met One DR-528 handheld particle counter",
        "Model": "Met One DR-528",
        "Address": address,
        "Timeout": 10,
        "tags": {},
        "measurement": "particlecounts",
        "Channels": channels
        or {
            "0.3(CF)": {"Type": "0.3(CF)", "Multiplier": 1, "field-key": "0.3_um_count", "tags": {"sensor": "a"}},
            "AT(C)": {"Type": "Atmospheric Temperature", "field-key": "temperature", "tags": {"sensor": "a"}},
            "RH(%)": {"Type": "Relative Humidity", "field-key": "humidity", "tags": {"sensor": "a"}},
        },
        **extra,
    }


def fields(lines: list[dict]) -> dict[str, Any]:
    return {k: v for line in lines for k, v in line["fields"].items()}


def record_of(sim: Dr528Simulator) -> dict[str, float]:
    reply = sim.log[-1][1]
    assert reply is not None
    header, data = (line.split(",") for line in reply.decode().split("\r\n")[:2])
    return {k: float(v) for k, v in zip(header[1:], data[1:], strict=True)}


def test_the_older_example_reads_one_record(tmp_path: Path, sim: Dr528Simulator) -> None:
    code, lines, stderr = read_once(tmp_path, EXE, [counter(sim.path)])
    assert code == 0, stderr
    assert [r for r, _ in sim.log] == [b"4\r"]
    record = record_of(sim)
    assert fields(lines) == {"0.3_um_count": record["0.3(CF)"], "temperature": 21.4, "humidity": 43.0}
    assert isinstance(fields(lines)["0.3_um_count"], float)  # float, as the older logger wrote it


def test_the_older_loggers_own_file_reads_its_counter(tmp_path: Path, sim: Dr528Simulator) -> None:
    import json

    entries = [e for e in json.loads(OLDER_FILE.read_text()) if e["Model"] == "Met One DR-528"]
    entries[0]["Address"] = sim.path
    code, lines, stderr = read_once(tmp_path, EXE, entries)
    assert code == 0, stderr
    assert lines[0]["tags"] == {"device": "Met One DR-528 handheld particle counter", "sensor": "Unitrap1"}


@pytest.mark.parametrize(("fault", "message"), [("cut_short_next", "cut short"), ("garble_next", "")])
def test_a_bad_record_gives_no_value(tmp_path: Path, sim: Dr528Simulator, fault: str, message: str) -> None:
    setattr(sim.faults, fault, True)
    code, lines, stderr = read_once(tmp_path, EXE, [counter(sim.path, Timeout=0.5)])
    assert lines == [] and code == 1
    (error,) = errors(stderr)
    assert "no channel emitted" in error and message in error


def test_an_unknown_label_and_a_bad_humidity_are_errors_for_their_channel(tmp_path: Path, sim: Dr528Simulator) -> None:
    sim.values["RH(%)"] = 140.0
    channels = counter(sim.path)["Channels"]
    channels["25um"] = {"Type": "25(CF)", "field-key": "x"}
    code, lines, stderr = read_once(tmp_path, EXE, [counter(sim.path, channels)])
    assert code == 0 and set(fields(lines)) == {"0.3_um_count", "temperature"}
    text = "\n".join(errors(stderr))
    assert "the record has no '25um'; its labels: 0.3(CF), 0.5(CF)" in text
    assert "RH(%) is 140 %, outside 0-100 %" in text


def test_silence_and_an_unplugged_adapter_then_recovery(tmp_path: Path) -> None:
    sim = Dr528Simulator(link=tmp_path / "dr528").start()
    exe = ExecdProcess(["--config", str(write_config(tmp_path, [counter(str(tmp_path / "dr528"), Timeout=0.5)]))],
                       name=EXE)  # fmt: skip
    try:
        exe.trigger()
        assert len(parse_lines("\n".join(exe.read_lines(3)))) == 3
        sim.faults.silent = True
        exe.trigger()
        exe.wait_stderr("no reply to b'4\\r' within Timeout 0.5 s")
        sim.faults.silent = False
        exe.trigger()
        exe.read_lines(3)
        exe.wait_stderr("recovered after 1 failed gather(s)")
        sim.vanish()
        exe.trigger()
        exe.wait_stderr("failed (")
        sim.reappear()
        exe.trigger()
        exe.read_lines(3)
        assert exe.close_stdin() < 2
    finally:
        sim.stop()


def test_wrong_baud_rate_is_silence(tmp_path: Path, sim: Dr528Simulator) -> None:
    entry = counter(sim.path, Timeout=0.5, SerialConnectionParams={"baudrate": 9600})
    code, lines, stderr = read_once(tmp_path, EXE, [entry])
    assert code == 1 and sim.line_mismatches == 1 and "no reply" in errors(stderr)[0]


@pytest.mark.parametrize("echo", [b"4\r\n", b"4\r\n\r\n", b"\r\n4\r\n"])
def test_an_echoed_request_before_the_record_is_skipped(tmp_path: Path, sim: Dr528Simulator, echo: bytes) -> None:
    sim.echo = echo
    code, lines, stderr = read_once(tmp_path, EXE, [counter(sim.path)])
    assert code == 0, stderr
    assert fields(lines)["temperature"] == 21.4 and fields(lines)["humidity"] == 43.0


@given(
    st.lists(st.floats(0, 1e6, allow_nan=False), min_size=len(LABELS), max_size=len(LABELS)),
    st.sampled_from([b"\r\n", b"\n", b"\r\n\x00"]),
    st.booleans(),
    st.lists(st.sampled_from(["OK", "0", "A5"]), max_size=3),
)
def test_what_a_real_counter_may_add_leaves_every_labelled_value_in_its_place(
    values: list[float], end: bytes, trailing_comma: bool, extra: list[str]
) -> None:
    # no independent record of the DR-528 exists (see the README): the parser takes line ends, a
    # trailing comma and fields past the header's, and keeps each labelled value under its label
    comma = "," if trailing_comma else ""
    header = ("Date/Time," + ",".join(LABELS) + comma).encode() + end
    data = ("2026-12-02 12:00:00," + ",".join(f"{v!r}" for v in values) + "".join("," + e for e in extra)
            + comma).encode() + end  # fmt: skip
    assert parse_record(header, data) == dict(zip(LABELS, values, strict=True))


def test_a_data_line_shorter_than_its_header_is_refused() -> None:
    header = ("Date/Time," + ",".join(LABELS)).encode()
    with pytest.raises(ReplyError, match="the header has 11 fields and the data line 10"):
        parse_record(header, ("2026-12-02," + ",".join("1" for _ in LABELS[1:])).encode())


def test_the_tail_of_an_earlier_reply_is_refused_never_shifted_under_other_labels() -> None:
    from telegraf_inputs.families.metone_dr528.protocol import ReplyError, parse_record

    # a stalled reply's rest, read as the next record: its labels would put a count under RH(%)
    for header, data in ((b"(C),RH(%)\r\n", b"2026-12-02 18:04:36,37194\r\n"),
                         (b"AT(C),RH(%)\r\n", b"21.4,43.0\r\n"),
                         (b"Date/Time,AT(C),RH(%)\r\n", b"21.4,43.0,7\r\n")):  # fmt: skip
        with pytest.raises(ReplyError, match="time stamp"):
            parse_record(header, data)
    assert parse_record(b"Date/Time,AT(C),RH(%)\r\n", b"2026-12-02 18:04:36,21.4,43.0\r\n") == {
        "AT(C)": 21.4, "RH(%)": 43.0}  # fmt: skip
