"""Conversation tests: the exact SCPI the driver sends, and how it reads the replies.

A replay instrument stands where pyvisa's resource stands; each test lists the
(message sent, reply) pairs in order, like pymeasure's expected_protocol.  The
same traffic is checked over a real TCP socket against the simulator below.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from telegraf_inputs.base import DeviceError, Session
from telegraf_inputs.families.daq970a.driver import Daq970aDriver, DaqDevice, channel_commands, open_visa
from telegraf_inputs.families.daq970a.simulator import Daq970aSimulator
from tests.helpers import load_devices

IDN = "Keysight Technologies,DAQ970A,MY00000001,A.03.00"
NO_ERROR = '+0,"No error"'
SETUP = (
    "FORM:READ:CHAN ON;:FORM:READ:TIME OFF;:FORM:READ:UNIT OFF;:FORM:READ:ALAR OFF;"
    ":TRIG:SOUR IMM;:TRIG:COUN 1;:SYST:ERR?"
)


class Replay:
    """Plays back a conversation and fails on the first message that differs."""

    def __init__(self, conversation: list[tuple[str, str | None]]) -> None:
        self.conversation = list(conversation)
        self.closed = False

    def _next(self, message: str) -> str | None:
        assert self.conversation, f"unexpected extra message {message!r}"
        expected, reply = self.conversation.pop(0)
        assert message == expected
        return reply

    def write(self, message: str) -> None:
        assert self._next(message) is None

    def query(self, message: str) -> str:
        reply = self._next(message)
        if isinstance(reply, Exception):
            raise reply
        assert reply is not None, f"{message!r} is a write in the conversation"
        return reply

    def close(self) -> None:
        self.closed = True


def devices(tmp_path: Path, entries: list[dict]) -> list[DaqDevice]:
    path = tmp_path / "devices.json"
    path.write_text(json.dumps(entries))
    return load_devices("daq970a", path, None)  # type: ignore[return-value]


def entry(name: str, channels: dict, **extra) -> dict:
    return {
        "Device": name,
        "Model": "Keysight DAQ970A",
        "Address": "TCPIP0::h::5025::SOCKET",
        "Channels": channels,
        **extra,
    }


TYPES = [
    (
        "DCV",
        {"Range": 10, "Resolution": 1e-5, "NPLC": 10, "AutoZero": False},
        ["CONF:VOLT:DC 10,1e-05,(@101)", "VOLT:DC:NPLC 10,(@101)", "VOLT:DC:ZERO:AUTO OFF,(@101)"],
    ),
    ("DCV", {"Resolution": "MAX"}, ["CONF:VOLT:DC AUTO,MAX,(@101)"]),
    ("ACV", {"Range": 0.1}, ["CONF:VOLT:AC 0.1,(@101)"]),
    ("DCI", {"Range": 0.01, "Aperture": 0.1}, ["CONF:CURR:DC 0.01,(@101)", "CURR:DC:APER 0.1,(@101)"]),
    ("ACI", {}, ["CONF:CURR:AC (@101)"]),
    ("RES", {"Range": 1000, "AutoZero": "ONCE"}, ["CONF:RES 1000,(@101)", "RES:ZERO:AUTO ONCE,(@101)"]),
    ("FRES", {"NPLC": 1}, ["CONF:FRES (@101)", "FRES:NPLC 1,(@101)"]),
    ("FREQ", {"Aperture": 1}, ["CONF:FREQ (@101)", "FREQ:APER 1,(@101)"]),
    ("PER", {"Range": "AUTO"}, ["CONF:PER AUTO,(@101)"]),
    ("TEMPK", {"NPLC": 2, "Unit": "K"}, ["CONF:TEMP TC,K,(@101)", "TEMP:NPLC 2,(@101)", "UNIT:TEMP K,(@101)"]),
    ("TEMPT", {}, ["CONF:TEMP TC,T,(@101)", "UNIT:TEMP C,(@101)"]),
    ("RTD", {"RTDType": 91}, ["CONF:TEMP RTD,91,(@101)", "UNIT:TEMP C,(@101)"]),
    ("FRTD", {}, ["CONF:TEMP FRTD,85,(@101)", "UNIT:TEMP C,(@101)"]),
    ("THER", {"ThermistorType": "5000", "Unit": "F"}, ["CONF:TEMP THER,5000,(@101)", "UNIT:TEMP F,(@101)"]),
]


@pytest.mark.parametrize("kind,params,commands", TYPES, ids=[f"{t[0]}-{i}" for i, t in enumerate(TYPES)])
def test_configuration_commands_per_type(tmp_path: Path, kind: str, params: dict, commands: list[str]) -> None:
    (device,) = devices(
        tmp_path, [entry("d", {"c": {"DeviceChannel": 101, "Type": kind, "DeviceSpecificParams": params}})]
    )
    assert channel_commands(device.channels[0]) == commands


@pytest.mark.parametrize("kind,params,commands", TYPES, ids=[f"{t[0]}-{i}" for i, t in enumerate(TYPES)])
def test_every_configuration_is_accepted_by_the_simulator(sim: Daq970aSimulator, kind, params, commands) -> None:
    channel = 121 if kind in ("DCI", "ACI") else 101
    for command in commands:
        sim.instrument.handle(command.replace("(@101)", f"(@{channel})"))
    assert sim.instrument.handle("SYST:ERR?") == NO_ERROR


def test_connect_configure_and_two_gathers(tmp_path: Path) -> None:
    (device,) = devices(
        tmp_path,
        [
            entry(
                "d",
                {
                    "a": {"DeviceChannel": 101, "Type": "TEMPT", "tags": {"s": "a"}},
                    "b": {"DeviceChannel": 102, "Type": "DCV", "DeviceSpecificParams": {"NPLC": 1}, "tags": {"s": "b"}},
                },
                VISAIDN=IDN,
                CmdOnInit="*RST",
            )
        ],
    )
    replay = Replay(
        [
            ("*CLS;*IDN?", IDN),
            ("*RST;:SYST:ERR?", NO_ERROR),
            ("CONF:TEMP TC,T,(@101);:UNIT:TEMP C,(@101);:SYST:ERR?", NO_ERROR),
            ("CONF:VOLT:DC (@102);:VOLT:DC:NPLC 1,(@102);:SYST:ERR?", NO_ERROR),
            (SETUP, NO_ERROR),
            ("ROUT:SCAN (@101,102);:READ?", "+2.25000000E+01,101,-1.50000000E-03,102"),
            ("READ?", "+2.26000000E+01,101,-1.60000000E-03,102"),
        ]
    )
    driver = Daq970aDriver(opener=lambda d: replay)
    session = driver.open([device])
    first = session.read(device)
    assert [(r.channel.key, r.value, r.problem) for r in first] == [("a", 22.5, None), ("b", -1.5e-3, None)]
    second = session.read(device)  # the scan list is already set: READ? alone, one round trip
    assert [r.value for r in second] == [22.6, -1.6e-3]
    assert first[0].time_ns == first[1].time_ns < second[0].time_ns
    assert replay.conversation == []


def channels_a_b(tmp_path: Path, type_a: str, type_b: str) -> DaqDevice:
    """Device "d" with channel "a" on 101 and "b" on 102, of the given types."""
    (device,) = devices(
        tmp_path,
        [
            entry(
                "d",
                {
                    "a": {"DeviceChannel": 101, "Type": type_a, "tags": {"s": "a"}},
                    "b": {"DeviceChannel": 102, "Type": type_b, "tags": {"s": "b"}},
                },
            )
        ],
    )
    return device


def test_refused_channel_is_reported_and_left_out_of_the_scan(tmp_path: Path, caplog) -> None:
    device = channels_a_b(tmp_path, "DCI", "DCV")
    replay = Replay(
        [
            ("*CLS;*IDN?", IDN),
            ("CONF:CURR:DC (@101);:SYST:ERR?", '-221,"Settings conflict"'),
            ("SYST:ERR?", '-222,"Data out of range"'),
            ("SYST:ERR?", NO_ERROR),
            ("CONF:VOLT:DC (@102);:SYST:ERR?", NO_ERROR),
            (SETUP, NO_ERROR),
            ("ROUT:SCAN (@102);:READ?", "+1.00000000E+00,102"),
        ]
    )
    session = Daq970aDriver(opener=lambda d: replay).open([device])
    assert [r.channel.key for r in session.read(device)] == ["b"]
    message = next(r.getMessage() for r in caplog.records if r.levelname == "ERROR")
    assert "channel 'a' (DCI, DeviceChannel 101)" in message
    assert '-221,"Settings conflict"; -222,"Data out of range"' in message
    assert "left out of the scan" in message


def test_idn_mismatch_is_a_warning(tmp_path: Path, caplog) -> None:
    (device,) = devices(tmp_path, [entry("d", {"a": {"DeviceChannel": 101, "Type": "DCV"}}, VISAIDN="Other,X,1,2")])
    replay = Replay([("*CLS;*IDN?", IDN), ("CONF:VOLT:DC (@101);:SYST:ERR?", NO_ERROR), (SETUP, NO_ERROR)])
    Daq970aDriver(opener=lambda d: replay).open([device])
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert warnings == [f"device 'd': *IDN? answered {IDN!r}, VISAIDN expects 'Other,X,1,2'"]


def test_shared_connection_switches_scan_lists(tmp_path: Path) -> None:
    one, two = devices(
        tmp_path,
        [
            entry("one", {"a": {"DeviceChannel": 101, "Type": "DCV"}}),
            entry("two", {"b": {"DeviceChannel": 102, "Type": "RES"}}),
        ],
    )
    replay = Replay(
        [
            ("*CLS;*IDN?", IDN),
            ("CONF:VOLT:DC (@101);:SYST:ERR?", NO_ERROR),
            ("CONF:RES (@102);:SYST:ERR?", NO_ERROR),
            (SETUP, NO_ERROR),
            ("ROUT:SCAN (@101);:READ?", "+1.0E+00,101"),
            ("ROUT:SCAN (@102);:READ?", "+1.0E+03,102"),
            ("ROUT:SCAN (@101);:READ?", "+1.1E+00,101"),
        ]
    )
    session = Daq970aDriver(opener=lambda d: replay).open([one, two])
    assert [r.value for r in session.read(one) + session.read(two) + session.read(one)] == [1.0, 1000.0, 1.1]


def two_dcv_channels(tmp_path: Path, gathers: list[tuple[str, str | None]]) -> tuple[DaqDevice, Session]:
    """A device with DCV channels 101 and 102, opened on a replay whose gathers follow the setup."""
    device = channels_a_b(tmp_path, "DCV", "DCV")
    replay = Replay(
        [
            ("*CLS;*IDN?", IDN),
            ("CONF:VOLT:DC (@101);:SYST:ERR?", NO_ERROR),
            ("CONF:VOLT:DC (@102);:SYST:ERR?", NO_ERROR),
            (SETUP, NO_ERROR),
            *gathers,
        ]
    )
    return device, Daq970aDriver(opener=lambda d: replay).open([device])


@pytest.mark.parametrize(
    "reply,problem",
    [
        ("+9.90000000E+37,101,+1.0E+00,102", "overload or open input (+9.90E+37)"),
        ("-9.90000000E+37,101,+1.0E+00,102", "overload or open input (-9.90E+37)"),
        ("NAN,101,+1.0E+00,102", "the instrument returned nan"),
    ],
)
def test_overload_and_nan_are_flagged_not_values(tmp_path: Path, reply: str, problem: str) -> None:
    device, session = two_dcv_channels(tmp_path, [("ROUT:SCAN (@101,102);:READ?", reply)])
    a, b = session.read(device)
    assert a.problem == problem
    assert b.problem is None and b.value == 1.0


@pytest.mark.parametrize(
    "reply,message",
    [
        ("+1.0E+00,101", "READ? returned 2 items, expected 4"),
        ("+1.0E+00,102,+2.0E+00,101", "READ? returned channels [102, 101], the scan list is [101, 102]"),
        ("+1.#E+00,101,+2.0E+00,102", "not value,channel pairs"),
    ],
)
def test_malformed_replies_are_errors(tmp_path: Path, reply: str, message: str) -> None:
    device, session = two_dcv_channels(
        tmp_path,
        [("ROUT:SCAN (@101,102);:READ?", reply), ("ROUT:SCAN (@101,102);:READ?", "+1.0E+00,101,+2.0E+00,102")],
    )
    with pytest.raises(DeviceError, match=re.escape(message)):
        session.read(device)
    # a failed read leaves the scan list unknown, so the next read sets it again
    assert [r.value for r in session.read(device)] == [1.0, 2.0]


def test_failed_read_reports_the_error_queue(tmp_path: Path) -> None:
    (device,) = devices(tmp_path, [entry("d", {"a": {"DeviceChannel": 101, "Type": "DCV"}})])
    replay = Replay(
        [
            ("*CLS;*IDN?", IDN),
            ("CONF:VOLT:DC (@101);:SYST:ERR?", NO_ERROR),
            (SETUP, NO_ERROR),
            ("ROUT:SCAN (@101);:READ?", TimeoutError("VI_ERROR_TMO")),
            ("SYST:ERR?", '-230,"Data corrupt or stale"'),
            ("SYST:ERR?", NO_ERROR),
        ]
    )
    session = Daq970aDriver(opener=lambda d: replay).open([device])
    with pytest.raises(
        DeviceError,
        match=r"no reply to 'ROUT:SCAN \(@101\);:READ\?': VI_ERROR_TMO; "
        r'instrument error queue: -230,"Data corrupt or stale"',
    ):
        session.read(device)


def test_same_traffic_over_tcp_against_the_simulator(tmp_path: Path, sim: Daq970aSimulator) -> None:
    one, two = devices(
        tmp_path,
        [
            {**entry("one", {"a": {"DeviceChannel": 101, "Type": "TEMPT"}}), "Address": sim.address, "Timeout": 1000},
            {
                **entry("two", {"b": {"DeviceChannel": 121, "Type": "DCI", "DeviceSpecificParams": {"Range": 0.1}}}),
                "Address": sim.address,
                "Timeout": 1000,
            },
        ],
    )
    session = Daq970aDriver().open([one, two])
    try:
        (a,) = session.read(one)
        (b,) = session.read(two)
        (a2,) = session.read(one)
    finally:
        session.close()
    assert 15 < a.value < 35 and 15 < a2.value < 35 and 0 < b.value < 0.1
    assert sim.instrument.log == [
        "*CLS",
        "*IDN?",
        "CONF:TEMP TC,T,(@101)",
        ":UNIT:TEMP C,(@101)",
        ":SYST:ERR?",
        "CONF:CURR:DC 0.1,(@121)",
        ":SYST:ERR?",
        *SETUP.split(";"),
        "ROUT:SCAN (@101)",
        ":READ?",
        "ROUT:SCAN (@121)",
        ":READ?",
        "ROUT:SCAN (@101)",
        ":READ?",
    ]


def test_reconnecting_does_not_pile_up_closed_sessions_in_the_visa_library(
    tmp_path: Path, sim: Daq970aSimulator
) -> None:
    (device,) = devices(tmp_path, [entry("d", {"a": {"DeviceChannel": 101, "Type": "DCV"}}, Address=sim.address)])
    driver = Daq970aDriver(opener=open_visa)  # through pyvisa(-py), as for INSTR resources and other VISA libraries

    def reconnect() -> dict[str, int]:
        session = driver.open([device])
        assert session.read(device)[0].value is not None
        library = session.instrument.visalib  # type: ignore[attr-defined]
        session.close()
        tables = ("sessions", "_ignore_warning_in_session", "_last_status_in_session")
        return {table: len(getattr(library, table)) for table in tables}

    first = reconnect()
    for _ in range(20):  # an instrument rebooting, a garbled reply: each closes the session and opens a new one
        last = reconnect()
    assert last == first
