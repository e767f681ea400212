"""Conversation tests for the SMC HRS driver: the exact bytes on the serial line.

A scripted chiller sits on the master side of a real pty and answers the
driver's requests with fixed bytes (the examples of SMC's manual where there
are some), so each test pins what is sent and how each reply is judged.  The
simulator then carries the same conversations with its own state and faults.
"""

from __future__ import annotations

import json
import os
import select
import threading
import time
import tty
from pathlib import Path

import pytest
import serial
from hypothesis import given
from hypothesis import strategies as st

from telegraf_inputs.base import DeviceError, Reading
from telegraf_inputs.config import ConfigError
from telegraf_inputs.families.smc_hrs import FAMILY
from telegraf_inputs.families.smc_hrs.driver import HrsDevice, SmcHrsDriver
from telegraf_inputs.families.smc_hrs.protocol import bcc, modbus_read_request, simple_request
from telegraf_inputs.families.smc_hrs.simulator import HrsSimulator, simple_data
from telegraf_inputs.modbus import crc16, with_crc
from tests.helpers import load_devices, run_once, smc_device, write_config

STX, ETX, ACK, NAK = b"\x02", b"\x03", b"\x06", b"\x15"


class ScriptedChiller:
    """A pty whose far end expects exact requests and answers with scripted bytes."""

    def __init__(self, script: list[tuple[bytes, bytes]]) -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.path = os.ttyname(self.slave)
        self.script = list(script)
        self.received: list[bytes] = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        for expected, reply in self.script:
            got = b""
            end = time.monotonic() + 5
            while len(got) < len(expected) and (left := end - time.monotonic()) > 0:
                if select.select([self.master], [], [], left)[0]:
                    got += os.read(self.master, len(expected) - len(got))
            self.received.append(got)
            if reply:
                os.write(self.master, reply)

    def close(self) -> None:
        self.thread.join()  # before its fds close: a reused fd number would hand it the next pty's bytes
        os.close(self.master)
        os.close(self.slave)


def load(tmp_path: Path, entries: list[dict]) -> list[HrsDevice]:
    path = tmp_path / "devices.json"
    path.write_text(json.dumps(entries))
    return load_devices("smc_hrs", path, None)  # type: ignore[return-value]


def converse(tmp_path: Path, entry: dict, script: list[tuple[bytes, bytes]]) -> tuple[list[Reading], list[bytes]]:
    """Read ``entry`` once through a scripted pty; return the readings and the requests received."""
    chiller = ScriptedChiller(script)
    (device,) = load(tmp_path, [{**entry, "Address": chiller.path}])
    session = SmcHrsDriver().open([device])
    try:
        readings = session.read(device)
    finally:
        session.close()
        chiller.close()
    assert len(chiller.received) == len(script)
    return readings, chiller.received


def values(readings: list[Reading]) -> dict[str, object]:
    return {r.channel.key: r.value if r.problem is None else r.problem for r in readings}


# -- frames from the manual ---------------------------------------------------------------------
def test_simple_request_frames_and_bcc_match_the_manual() -> None:
    assert simple_request(1, "PV1", with_bcc=True) == STX + b"01RPV1" + ETX + b"\x65"
    assert simple_request(1, "SV1", with_bcc=True) == STX + b"01RSV1" + ETX + b"\x66"
    assert simple_request(1, "PV1", with_bcc=False) == STX + b"01RPV1" + ETX
    assert simple_request(12, "SV1", with_bcc=False) == STX + b"12RSV1" + ETX
    assert bcc(STX + b"01" + ACK + b"PV100187" + ETX) == 0x0F
    assert bcc(STX + b"01" + ACK + b"SV100258" + ETX) == 0x0D
    assert bcc(STX + b"01WSV100258" + ETX) == 0x5C  # write request
    assert bcc(STX + b"01WLOC00001" + ETX) == 0x26 and bcc(STX + b"01" + ACK + ETX) == 0x06
    # The manual's NAK example prints its BCC as "39h"; the XOR is 0x27, which is 39 in decimal.
    # The six examples above agree with the XOR in hex, so "39h" is a misprint of 39.
    assert bcc(STX + b"01" + NAK + b"2" + ETX) == 39


def test_modbus_crc_matches_published_frames() -> None:
    assert modbus_read_request(1, 0, 10) == bytes.fromhex("01 03 00 00 00 0a c5 cd")
    assert with_crc(bytes.fromhex("01 03 02 00 64")) == bytes.fromhex("01 03 02 00 64 b9 af")


@given(st.binary(min_size=1, max_size=64))
def test_a_frame_followed_by_its_checks_xors_and_crcs_to_zero(frame: bytes) -> None:
    assert bcc(frame + bytes([bcc(frame)])) == 0
    assert crc16(with_crc(frame)) == 0


@given(st.integers(min_value=-9999, max_value=99999))
def test_five_character_data_round_trips_through_the_driver(tenths: int) -> None:
    from telegraf_inputs.families.smc_hrs.driver import parse_simple_reply

    data = simple_data(tenths)
    assert len(data) == 5
    reply = STX + b"01" + ACK + b"PV1" + data.encode() + ETX
    assert parse_simple_reply(reply + bytes([bcc(reply)]), 1, "PV1", True) == tenths


# -- conversations, simple protocol -------------------------------------------------------------
def test_reads_pv1_and_sv1_as_the_manual_shows_with_bcc(tmp_path: Path) -> None:
    readings, sent = converse(
        tmp_path,
        smc_device("", DeviceSpecificParams={"BCC": True}),
        [
            (STX + b"01RPV1" + ETX + b"\x65", STX + b"01" + ACK + b"PV100187" + ETX + b"\x0f"),
            (STX + b"01RSV1" + ETX + b"\x66", STX + b"01" + ACK + b"SV100258" + ETX + b"\x0d"),
        ],
    )
    assert values(readings) == {"PV1": 18.7, "SV1": 25.8}
    assert sent == [STX + b"01RPV1" + ETX + b"\x65", STX + b"01RSV1" + ETX + b"\x66"]


def test_without_bcc_requests_are_sent_as_the_older_logger_sent_them(tmp_path: Path) -> None:
    readings, sent = converse(
        tmp_path,
        smc_device("", DeviceSpecificParams={"InternalAddress": "07"}),
        [
            (STX + b"07RPV1" + ETX, STX + b"07" + ACK + b"PV1-0050" + ETX),
            (STX + b"07RSV1" + ETX, b"\xff\x00noise" + STX + b"07" + ACK + b"SV100050" + ETX),
        ],
    )
    assert sent == [STX + b"07RPV1" + ETX, STX + b"07RSV1" + ETX]
    assert values(readings) == {"PV1": -5.0, "SV1": 5.0}  # sign handled, noise before STX skipped


BAD_REPLIES = [
    (STX + b"01" + NAK + b"2" + ETX + bytes([39]), "exception code '2', setting not allowed"),
    (STX + b"01" + NAK + b"0" + ETX + bytes([bcc(STX + b"01" + NAK + b"0" + ETX)]), "memory error"),
    (STX + b"01" + ACK + b"PV100187" + ETX + b"\x10", "checksum error"),
    (STX + b"02" + ACK + b"PV100187" + ETX + bytes([bcc(STX + b"02" + ACK + b"PV100187" + ETX)]), "station '02'"),
    (STX + b"01" + ACK + b"SV100187" + ETX + bytes([bcc(STX + b"01" + ACK + b"SV100187" + ETX)]), "for command 'SV1'"),
    (STX + b"01" + ACK + b"PV10x187" + ETX + bytes([bcc(STX + b"01" + ACK + b"PV10x187" + ETX)]), "not 5 digits"),
    (STX + b"01" + b"?PV100187" + ETX + bytes([bcc(STX + b"01?PV100187" + ETX)]), "neither ACK nor NAK"),
]


@pytest.mark.parametrize(("reply", "message"), BAD_REPLIES)
def test_a_bad_reply_is_an_error_for_its_channel_and_never_a_value(tmp_path: Path, reply: bytes, message: str) -> None:
    readings, _ = converse(
        tmp_path,
        smc_device("", DeviceSpecificParams={"BCC": True}),
        [
            (STX + b"01RPV1" + ETX + b"\x65", reply),
            (STX + b"01RSV1" + ETX + b"\x66", STX + b"01" + ACK + b"SV100258" + ETX + b"\x0d"),
        ],
    )
    pv1, sv1 = readings
    assert pv1.value is None and pv1.failed and message in (pv1.problem or "")
    assert sv1.value == 25.8 and sv1.problem is None  # the other channel is still read


def test_a_reply_cut_short_before_its_bcc_is_an_error(tmp_path: Path) -> None:
    entry = smc_device("", DeviceSpecificParams={"BCC": True}, Timeout=0.3, Channels={"PV1": {"Type": "PV1"}})
    readings, _ = converse(tmp_path, entry, [(STX + b"01RPV1" + ETX + b"\x65", STX + b"01" + ACK + b"PV100187" + ETX)])
    assert readings[0].value is None and "has no BCC" in (readings[0].problem or "")


def test_no_reply_at_all_fails_the_device(tmp_path: Path) -> None:
    entry = smc_device("", Timeout=0.2)
    with pytest.raises(DeviceError, match=r"no reply to PV1 within Timeout 0.2 s"):
        converse(tmp_path, entry, [(STX + b"01RPV1" + ETX, b"")])


# -- conversations, MODBUS ----------------------------------------------------------------------
def registers(**values: int) -> list[int]:
    regs = [0] * 8
    names = ["pv", "flow", "pressure", "resistivity", "status", "alarm1", "alarm2", "alarm3"]
    for name, value in values.items():
        regs[names.index(name)] = value
    return regs


def block_reply(station: int, regs: list[int]) -> bytes:
    return with_crc(bytes([station, 3, 2 * len(regs)]) + b"".join(r.to_bytes(2, "big") for r in regs))


MODBUS_ALL = {
    "PV1": {"Type": "PV1", "tags": {"sensor": "Returning"}},
    "SV1": {"Type": "SV1", "tags": {"sensor": "Setpoint"}},
    "P": {"Type": "PRESSURE", "field-key": "pressure"},
    "R": {"Type": "RESISTIVITY", "field-key": "resistivity"},
    "S": {"Type": "STATUS", "field-key": "status"},
    "A": {"Type": "ALARMS", "field-key": "alarms"},
}


def test_modbus_reads_every_item_in_two_requests(tmp_path: Path) -> None:
    entry = smc_device("", DeviceSpecificParams={"Protocol": "modbus", "InternalAddress": 3}, Channels=MODBUS_ALL)
    block = registers(
        pv=0xFFCE, pressure=25, resistivity=42, status=0b0000_0110_0010_0101, alarm1=0b1, alarm2=1 << 11, alarm3=1 << 4
    )
    readings, sent = converse(
        tmp_path,
        entry,
        [
            (
                bytes.fromhex("03 03 00 00 00 08") + crc16(bytes.fromhex("03 03 00 00 00 08")).to_bytes(2, "little"),
                block_reply(3, block),
            ),
            (with_crc(bytes.fromhex("03 03 00 0b 00 01")), block_reply(3, [258])),
        ],
    )
    assert sent == [modbus_read_request(3, 0, 8), modbus_read_request(3, 0x0B, 1)]
    got = {r.channel.key: r for r in readings}
    assert got["PV1"].value == -5.0 and got["SV1"].value == 25.8
    assert got["P"].value == 0.25 and got["R"].value == 4.2
    assert got["S"].value == 0b0000_0110_0010_0101
    assert got["S"].extra["run"] is True and got["S"].extra["operation_continued_alarm"] is True
    assert got["S"].extra["serial_mode"] is True and got["S"].extra["temp_ready"] is True
    assert got["S"].extra["temperature_unit_f"] is True and got["S"].extra["operation_stop_alarm"] is False
    alarms = got["A"]
    assert alarms.value == 3
    assert alarms.extra["low_tank_level"] is True and alarms.extra["pump_maintenance"] is True
    assert alarms.extra["high_discharge_temp"] is False and alarms.extra["flag3"] == 16
    assert alarms.extra["active"] == "low_tank_level,pump_maintenance,flag3_bit4"
    assert len({r.time_ns for r in readings if r.channel.key != "SV1"}) == 1  # one block, one time stamp


def test_modbus_pressure_shown_in_psi_is_reported_in_mpa(tmp_path: Path) -> None:
    entry = smc_device("", DeviceSpecificParams={"Protocol": "modbus"}, Channels={"P": {"Type": "PRESSURE"}})
    readings, sent = converse(
        tmp_path, entry, [(modbus_read_request(1, 0, 8), block_reply(1, registers(pressure=36, status=1 << 4)))]
    )
    assert len(sent) == 1  # no set-temperature read when no SV1 channel
    assert readings[0].value == pytest.approx(36 * 0.006894757, abs=1e-4)


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (with_crc(bytes([1, 0x83, 2])), "MODBUS exception 2: illegal data address"),
        (block_reply(1, registers())[:-1] + b"\x00", "CRC error"),
        (block_reply(2, registers()), "station 2"),
        (with_crc(bytes([1, 3, 4, 0, 1, 0, 2])), "malformed reply"),
    ],
)
def test_modbus_bad_replies_are_channel_errors(tmp_path: Path, reply: bytes, message: str) -> None:
    entry = smc_device("", DeviceSpecificParams={"Protocol": "modbus"}, Timeout=0.3, Channels=MODBUS_ALL)
    readings, _ = converse(
        tmp_path,
        entry,
        [(modbus_read_request(1, 0, 8), reply), (modbus_read_request(1, 0x0B, 1), block_reply(1, [200]))],
    )
    got = {r.channel.key: r for r in readings}
    for key in ("PV1", "P", "R", "S", "A"):
        assert got[key].value is None and got[key].failed and message in (got[key].problem or "")
    assert got["SV1"].value == 20.0


# -- the simulator over the same pty transport ---------------------------------------------------
@pytest.mark.parametrize(("protocol", "with_bcc"), [("simple", False), ("simple", True), ("modbus", False)])
def test_simulator_answers_the_driver(tmp_path: Path, protocol: str, with_bcc: bool) -> None:
    channels = {"PV1": {"Type": "PV1", "tags": {"s": "pv"}}, "SV1": {"Type": "SV1", "tags": {"s": "sv"}}}
    sim = HrsSimulator(protocol=protocol, bcc=with_bcc).start()
    try:
        entry = smc_device(sim.path, DeviceSpecificParams={"Protocol": protocol, "BCC": with_bcc}, Channels=channels)
        (device,) = load(tmp_path, [entry])
        session = SmcHrsDriver().open([device])
        sim.chillers[1].set_point = 18.5
        readings = session.read(device)
        session.close()
    finally:
        sim.stop()
    got = values(readings)
    assert got["SV1"] == 18.5 and abs(got["PV1"] - 18.5) <= 0.6  # type: ignore[operator]
    expected = simple_request(1, "PV1", with_bcc) if protocol == "simple" else modbus_read_request(1, 0, 8)
    assert sim.log[0][0] == expected


def test_simulator_ignores_a_port_set_to_another_baud_rate(tmp_path: Path) -> None:
    sim = HrsSimulator(baudrate=19200).start()
    try:
        (device,) = load(tmp_path, [smc_device(sim.path, Timeout=0.3)])  # 9600 baud
        session = SmcHrsDriver().open([device])
        with pytest.raises(DeviceError, match="no reply"):
            session.read(device)
        session.close()
    finally:
        sim.stop()
    assert sim.line_mismatches == 1


def test_simulator_takes_the_lines_transmission_time() -> None:
    sim = HrsSimulator(baudrate=1200).start()  # 11 bits per character: 9.2 ms each
    try:
        port = serial.Serial(sim.path, 1200, 8, "N", 2, timeout=2)
        start = time.monotonic()
        port.write(simple_request(1, "PV1", False))
        reply = port.read_until(ETX)
        elapsed = time.monotonic() - start
        port.close()
    finally:
        sim.stop()
    assert reply.startswith(STX + b"01" + ACK + b"PV1")
    assert elapsed >= (8 + 13) * 11 / 1200  # 8 request and 13 reply bytes at 1200 baud


def test_simulator_accepts_a_set_point_write_and_rejects_one_out_of_range() -> None:
    sim = HrsSimulator(bcc=True).start()
    try:
        port = serial.Serial(sim.path, 9600, 8, "N", 2, timeout=2)
        frame = STX + b"01WSV100258" + ETX
        port.write(frame + bytes([bcc(frame)]))
        ok = port.read_until(ETX) + port.read(1)
        frame = STX + b"01WSV100999" + ETX
        port.write(frame + bytes([bcc(frame)]))
        refused = port.read_until(ETX) + port.read(1)
        port.close()
    finally:
        sim.stop()
    assert ok == STX + b"01" + ACK + ETX + bytes([bcc(STX + b"01" + ACK + ETX)])
    assert refused[:5] == STX + b"01" + NAK + b"1"
    assert sim.chillers[1].set_point == 25.8


def test_chillers_sharing_a_port_need_one_line_setting_and_distinct_stations(tmp_path: Path) -> None:
    a = smc_device("/dev/ttyUSB0", name="a")
    b = smc_device("/dev/ttyUSB0", name="b", SerialConnectionParams={"baudrate": 19200})
    with pytest.raises(
        ConfigError, match=r"\[1\].Address: shares the port of device 'a' \('/dev/ttyUSB0'\) but not its"
    ):
        load(tmp_path, [a, b])
    with pytest.raises(
        ConfigError, match=r"\[1\].DeviceSpecificParams: station 1 on the port of device 'a' .* already"
    ):
        load(tmp_path, [a, smc_device("/dev/ttyUSB0", name="b")])
    ok = load(tmp_path, [a, smc_device("/dev/ttyUSB0", name="b", DeviceSpecificParams={"InternalAddress": 2})])
    assert [d.station for d in ok] == [1, 2] and ok[0].connection == ok[1].connection


@pytest.mark.parametrize(
    "model", ["SMC HRS012-AN-10-T", "SMC-HRS012-AN-10-T", "smc hrs030-af-20", "SMC HRS150-A-20", "SMC HRSH090-W-20"]
)
def test_models_of_the_hrs_family_are_read(tmp_path: Path, model: str) -> None:
    (device,) = load(tmp_path, [smc_device("/dev/ttyUSB0", Model=model)])
    assert device.station == 1 and device.deadline_s == 3  # two exchanges of Timeout 1 s, plus 1 s


def test_other_models_are_left_to_other_executables(tmp_path: Path) -> None:
    assert not FAMILY.handles("SMC HECR002-A5")
    assert not FAMILY.handles("Keysight DAQ970A")
    assert load(tmp_path, [{"Device": "d", "Model": "Keysight DAQ970A", "Channels": {}}]) == []
    result = run_once(["--config", str(write_config(tmp_path, [{"Device": "d", "Model": "Keysight DAQ970A"}]))],
                      name="telegraf-smc-hrs")  # fmt: skip
    assert result.returncode == 2 and "no device has a Model read here" in result.stderr
