"""The family reads a third-party-like SCPI instrument (tests/families/scpi/instrument.py) through telegraf-lab.

Over a TCP socket and over a pty reached as a VISA ASRL resource; the bytes on
the wire are pinned, and every parsing option and error case is read through
the real executable.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import parse_lines, run_once, write_config

from .instrument import Instrument, TcpServed


@pytest.fixture
def instrument() -> Iterator[tuple[Instrument, TcpServed]]:
    inst = Instrument()
    served = TcpServed(inst)
    yield inst, served
    served.close()


def device(address: str, channels: dict[str, Any], **params: Any) -> dict[str, Any]:
    return {
        "Device": "ls336",
        "Model": "SCPI",
        "Address": address,
        "Timeout": 0.5,
        "measurement": "cryostat",
        "DeviceSpecificParams": {"ReadTermination": "\r\n", **params},
        "Channels": channels,
    }


def read(tmp_path: Path, entry: dict[str, Any], *extra: str) -> tuple[int, dict[str, dict[str, Any]], str]:
    result = run_once(["--config", str(write_config(tmp_path, [entry])), *extra], name="telegraf-scpi")
    fields: dict[str, Any] = {}
    for line in parse_lines(result.stdout):
        assert line["measurement"] == "cryostat" and line["tags"]["device"] == "ls336"
        fields.update(line["fields"])
    return result.returncode, fields, result.stderr


CHANNELS = {
    "A": {"Query": "KRDG? A", "field-key": "temp_a"},
    "B": {"Query": "KRDG? B", "field-key": "temp_b"},
    "volts": {"Query": "MEAS:VOLT?", "field-key": "volts", "Multiplier": 1000},
}


def test_conversation_bytes_one_query_per_message(tmp_path: Path, instrument: tuple[Instrument, TcpServed]) -> None:
    inst, served = instrument
    entry = device(served.address, CHANNELS, ErrorQuery="SYST:ERR?")
    entry["VISAIDN"] = "LSCI,MODEL336,LSA1234,2.9"
    entry["CmdOnInit"] = ["*CLS", "CONF:VOLT 10;*OPC?"]
    code, fields, stderr = read(tmp_path, entry)
    assert code == 0, stderr
    assert inst.received == [
        b"*IDN?\n",
        b"*CLS\n",
        b"SYST:ERR?\n",
        b"CONF:VOLT 10;*OPC?\n",
        b"SYST:ERR?\n",
        b"KRDG? A\n",
        b"KRDG? B\n",
        b"MEAS:VOLT?\n",
    ]
    assert inst.commands == ["CONF:VOLT 10"]
    assert fields == {"temp_a": 77.35, "temp_b": 4.212, "volts": pytest.approx(1234.56789)}
    assert "E!" not in stderr and "W!" not in stderr


def test_joined_queries_are_one_round_trip_and_repeated_queries_asked_once(
    tmp_path: Path, instrument: tuple[Instrument, TcpServed]
) -> None:
    inst, served = instrument
    channels = {
        **CHANNELS,
        "x": {"Query": "SNAP? 1,2", "Index": 0, "field-key": "x"},
        "y": {"Query": "SNAP? 1,2", "Index": 1, "field-key": "y"},
    }
    code, fields, stderr = read(tmp_path, device(served.address, channels, JoinQueries=True))
    assert code == 0, stderr
    assert inst.received == [b"KRDG? A;KRDG? B;MEAS:VOLT?;SNAP? 1,2\n"]
    assert fields == {"temp_a": 77.35, "temp_b": 4.212, "volts": pytest.approx(1234.56789), "x": 1.234e-3,
                      "y": 5.678e-6}  # fmt: skip


def test_every_parsing_option(tmp_path: Path, instrument: tuple[Instrument, TcpServed]) -> None:
    inst, served = instrument
    channels = {
        "whole": {"Query": "HTR? 1", "field-key": "heater"},
        "regex": {"Query": "STAT?", "Regex": r"T=([-+0-9.]+)K", "field-key": "t"},
        "regex_text": {"Query": "STAT?", "Regex": r"MODE=(\w+)", "FieldType": "string", "field-key": "mode"},
        "index": {"Query": "SNAP? 1,2", "Index": 1, "field-key": "y"},
        "separator": {"Query": "STAT?", "Index": 1, "Separator": " ", "Regex": None, "FieldType": "string",
                      "field-key": "second_word"},
        "integer": {"Query": "COUNT?", "FieldType": "integer", "field-key": "count"},
        "boolean": {"Query": "OUTP?", "FieldType": "boolean", "field-key": "output"},
        "custom_bool": {"Query": "STAT?", "Regex": r"MODE=(\w+)", "FieldType": "boolean", "TrueReply": "LOCK",
                        "FalseReply": ["UNLOCK", "SEARCH"], "field-key": "locked"},
        "quoted": {"Query": "FUNC?", "Regex": '"(.*)"', "FieldType": "string", "field-key": "function"},
        "converted": {"Query": "KRDG? A", "Converter": {"Type": "polynomial", "Coefficients": {"0": -273.15, "1": 1}},
                      "field-key": "temp_c"},
    }  # fmt: skip
    code, fields, stderr = read(tmp_path, device(served.address, channels))
    assert code == 0, stderr
    assert fields == {
        "heater": 45.2,
        "t": 12.5,
        "mode": "LOCK",
        "y": 5.678e-6,
        "second_word": "T=12.500K",
        "count": 42,
        "output": True,
        "locked": True,
        "function": "VOLT:DC",
        "temp_c": pytest.approx(77.35 - 273.15),
    }
    assert isinstance(fields["count"], int)
    assert len([m for m in inst.received if m == b"STAT?\n"]) == 1  # four channels, one query


@pytest.mark.parametrize(
    ("channel", "message"),
    [
        ({"Query": "STAT?", "Regex": r"P=([0-9.]+)"},
         "Regex 'P=([0-9.]+)' does not match the reply 'MODE=LOCK T=12.500K'"),
        ({"Query": "SNAP? 1,2", "Index": 5}, "Index 5 is out of range: the reply has 2 item(s) split at ','"),
        ({"Query": "STAT?"}, "'MODE=LOCK T=12.500K' is not a number"),
        ({"Query": "KRDG? A", "FieldType": "integer"}, "'+077.350' is not a whole number"),
        ({"Query": "OUTP?", "FieldType": "boolean", "TrueReply": "1", "FalseReply": "0"},
         "'ON' is neither a true reply (1) nor a false one (0)"),
        ({"Query": "LIMIT?"}, "'LIMIT?' answered with an error: -222,\"Data out of range\""),
        ({"Query": "NOSUCH?"}, "no reply to 'NOSUCH?' (no reply within the timeout of 0.5 s); "
                               "instrument error queue: -113,\"Undefined header\""),
    ],
)  # fmt: skip
def test_a_reply_without_the_value_is_an_error_for_that_channel_only(
    tmp_path: Path, instrument: tuple[Instrument, TcpServed], channel: dict[str, Any], message: str
) -> None:
    _, served = instrument
    channels = {"bad": {**channel, "field-key": "bad"}, "good": {"Query": "KRDG? B", "field-key": "good"}}
    code, fields, stderr = read(tmp_path, device(served.address, channels, ErrorQuery="SYST:ERR?"))
    assert code == 0  # the device was read: one of its channels failed
    assert fields == {"good": 4.212}  # no value for the bad channel, the other one still goes out
    errors = [line for line in stderr.splitlines() if line.startswith("E! ")]
    assert len(errors) == 1 and "'bad'" in errors[0] and message in errors[0], stderr


def test_a_huge_reply_is_shown_bounded(tmp_path: Path, instrument: tuple[Instrument, TcpServed]) -> None:
    _, served = instrument
    channels = {"huge": {"Query": "HUGE?", "FieldType": "integer"}, "good": {"Query": "KRDG? B", "field-key": "good"}}
    code, fields, stderr = read(tmp_path, device(served.address, channels))
    assert code == 0 and fields == {"good": 4.212}
    (error,) = [line for line in stderr.splitlines() if line.startswith("E! ")]
    assert "is not a whole number" in error and "more characters" in error and len(error) < 1000


def test_joined_queries_to_an_instrument_that_cannot_join_say_so(tmp_path: Path) -> None:
    inst = Instrument(joins=False)
    served = TcpServed(inst)
    try:
        code, fields, stderr = read(tmp_path, device(served.address, CHANNELS, JoinQueries=True))
    finally:
        served.close()
    assert code == 1 and fields == {}
    errors = [line for line in stderr.splitlines() if line.startswith("E! ")]
    (error,) = errors  # one failed exchange spoiled every channel: one line
    assert "the reply to 3 joined queries has 1 part(s): '+077.350'" in error
    assert "set JoinQueries to false" in error and "no channel emitted" in error


def test_visaidn_mismatch_warns_and_reads(tmp_path: Path, instrument: tuple[Instrument, TcpServed]) -> None:
    _, served = instrument
    entry = {**device(served.address, CHANNELS), "VISAIDN": "LSCI,MODEL350,X,1"}
    code, fields, stderr = read(tmp_path, entry)
    assert code == 0 and fields["temp_a"] == 77.35
    assert (
        "W! device 'ls336': *IDN? answered 'LSCI,MODEL336,LSA1234,2.9', VISAIDN expects 'LSCI,MODEL350,X,1'" in stderr
    )


def test_cmd_on_init_errors_are_reported_with_their_command(
    tmp_path: Path, instrument: tuple[Instrument, TcpServed]
) -> None:
    _, served = instrument
    entry = {**device(served.address, CHANNELS, ErrorQuery="SYST:ERR?"), "CmdOnInit": ["BOGUS 1", "OUTP ON"]}
    code, fields, stderr = read(tmp_path, entry)
    assert code == 0 and len(fields) == 3
    assert "E! device 'ls336': CmdOnInit 'BOGUS 1': instrument error -113,\"Undefined header\"" in stderr
    assert "OUTP ON'" not in stderr


def test_other_terminations(tmp_path: Path) -> None:
    inst = Instrument()
    served = TcpServed(inst, message_end=b"\r\n", reply_end=b"\r")
    try:
        entry = device(served.address, CHANNELS, ReadTermination="\\r", WriteTermination="\r\n")
        code, fields, stderr = read(tmp_path, entry)
    finally:
        served.close()
    assert code == 0, stderr
    assert inst.received[0] == b"KRDG? A\r\n" and fields["temp_b"] == 4.212


def test_connection_refused_is_an_error_naming_the_address(tmp_path: Path) -> None:
    served = TcpServed(Instrument())
    address = served.address
    served.close()
    code, fields, stderr = read(tmp_path, device(address, CHANNELS))
    assert code == 1 and fields == {}
    assert f"cannot connect to '{address}'" in stderr


@pytest.mark.skipif(sys.platform == "win32", reason="ptys are POSIX")
def test_a_pty_backed_asrl_resource(tmp_path: Path) -> None:
    from .instrument import PtyServed

    inst = Instrument()
    pty = PtyServed(inst, baud=19200)
    try:
        entry = device(f"ASRL{pty.path}::INSTR", {**CHANNELS, "mode": {"Query": "STAT?", "Regex": r"MODE=(\w+)",
                                                                        "FieldType": "string", "field-key": "mode"}},
                       WriteTermination="\r")  # fmt: skip
        entry["SerialConnectionParams"] = {"baudrate": 19200, "bytesize": 8, "parity": "N", "stopbits": 1}
        code, fields, stderr = read(tmp_path, entry)
        assert code == 0, stderr
        assert fields == {"temp_a": 77.35, "temp_b": 4.212, "volts": pytest.approx(1234.56789), "mode": "LOCK"}
        assert inst.received == [b"KRDG? A\r", b"KRDG? B\r", b"MEAS:VOLT?\r", b"STAT?\r"]

        entry["SerialConnectionParams"]["baudrate"] = 9600  # the instrument is set to 19200: it stays silent
        code, fields, stderr = read(tmp_path, entry)
        assert code == 1 and fields == {}
        assert stderr.count("no reply to 'KRDG? A'") == 1
    finally:
        pty.close()
