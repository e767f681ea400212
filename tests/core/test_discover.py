"""`telegraf-lab discover`: instruments found on their real transports, entries that check and read.

Every simulator runs on its family's real link (ptys at the family's line settings, TCP, Modbus TCP,
HTTP).  Also: a port where nothing answers, one whose device answers garbage, a TCP instrument that
accepts and never replies; and a simulator that is not named, which must hear nothing.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import executable, parse_lines
from tests.tcp import TcpServer

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the serial simulators are ptys")


def discover(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(executable("telegraf-lab") + ["discover", *args], capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)  # fmt: skip


class Mute(TcpServer):
    """A TCP port that accepts and never answers (a hung instrument), or answers garbage to anything."""

    def __init__(self, garbage: bytes = b"") -> None:
        self.garbage = garbage
        super().__init__()

    def talk(self, conn: socket.socket) -> None:
        with conn:
            try:
                while conn.recv(4096):
                    if self.garbage:
                        conn.sendall(self.garbage)
            except OSError:
                pass


@pytest.fixture
def lab() -> Any:
    from telegraf_inputs.families.cryomech_cpa.simulator import CpaSimulator
    from telegraf_inputs.families.daq970a.simulator import Daq970aSimulator
    from telegraf_inputs.families.kjlc354.simulator import Kjlc354Simulator
    from telegraf_inputs.families.kjlc_acg.simulator import AcgSimulator
    from telegraf_inputs.families.metone_dr528.simulator import Dr528Simulator
    from telegraf_inputs.families.purpleair.simulator import PurpleAirSimulator
    from telegraf_inputs.families.rp_lockbox.simulator import LockboxSimulator
    from telegraf_inputs.families.scpi.simulator import ScpiSimulator
    from telegraf_inputs.families.smc_hrs.simulator import HrsSimulator
    from telegraf_inputs.families.srs_ctc100.simulator import Ctc100Simulator
    from telegraf_inputs.families.srs_sim922.simulator import Sim922Simulator
    from telegraf_inputs.families.thorlabs_kpa101.simulator import Kpa101Simulator
    from telegraf_inputs.families.thorlabs_mdt693b.simulator import Mdt693bSimulator
    from telegraf_inputs.families.thorlabs_pm100.simulator import Pm100Simulator

    serial = {"KJLC 354": Kjlc354Simulator(baudrate=19200), "Thorlabs MDT693B": Mdt693bSimulator(),
              "KJLC ACG": AcgSimulator(), "Thorlabs KPA101": Kpa101Simulator(), "SRS SIM922": Sim922Simulator(),
              "SRS CTC100": Ctc100Simulator(), "SMC HRS012-AN-10-T": HrsSimulator(protocol="modbus"),
              "Met One DR-528": Dr528Simulator()}  # fmt: skip
    for sim in serial.values():
        sim.start()
    daq, pm100, cpa, lockbox = Daq970aSimulator(model="DAQ973A").start(), Pm100Simulator().start(), \
        CpaSimulator().start(), LockboxSimulator().start()  # fmt: skip
    scpi = ScpiSimulator({"VOLT?": "1.5"}, idn="ACME,Model 7,42,1.0").start()
    air = PurpleAirSimulator().start()
    air.add_sensor(0)
    tcp = {"Keysight DAQ973A": f"127.0.0.1:{daq.port}", "Thorlabs PM100": f"127.0.0.1:{pm100.port}",
           "Cryomech CPA1110": f"127.0.0.1:{cpa.port}", "rp-lockbox": f"127.0.0.1:{lockbox.port}",
           "SCPI": f"127.0.0.1:{scpi.port}", "PurpleAir": air.lan_url(0)}  # fmt: skip
    unnamed = Kjlc354Simulator(baudrate=19200).start()
    yield serial, tcp, unnamed
    for sim in (*serial.values(), daq, pm100, cpa, lockbox, scpi, air, unnamed):
        sim.stop()


def test_probing_finds_each_instrument_and_its_entries_check_and_read(tmp_path: Path, lab: Any) -> None:
    serial, tcp, unnamed = lab
    cube = serial.pop("Thorlabs KPA101")  # APT, binary: on a port without USB IDs, named by --family (below)
    silent_line = serial.pop("SRS SIM922")
    silent_line.faults.silent = True  # a port where nothing answers
    hung, garbage = Mute(), Mute(b"\x00\xffgarbage\r\n>")
    try:
        targets = {**{model: sim.path for model, sim in serial.items()}, **tcp}
        nothing = [silent_line.path, f"127.0.0.1:{hung.port}", f"127.0.0.1:{garbage.port}"]
        started = time.monotonic()
        result = discover("--probe", *targets.values(), *nothing)
        took = time.monotonic() - started
    finally:
        hung.stop()
        garbage.stop()
        silent_line.stop()
    assert result.returncode == 0, result.stderr
    entries = json.loads(result.stdout)
    assert sorted(e["Model"] for e in entries) == sorted(targets), result.stderr
    for target in nothing:
        assert f"nothing identified at {target}" in result.stderr
    assert took < 90, took  # every question within its deadline
    assert unnamed.log == [], "discover wrote to a port it was not given"

    apt = discover("--probe", cube.path, "--family", "thorlabs_kpa101")
    assert apt.returncode == 0, apt.stderr
    entries += json.loads(apt.stdout)
    config = tmp_path / "found.json"
    config.write_text(json.dumps(entries))
    check = subprocess.run(executable("telegraf-lab") + ["check", str(config)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    read = subprocess.run(executable("telegraf-lab") + ["run", "--config", str(config), "--once"],
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)  # fmt: skip
    devices = {line["tags"]["device"] for line in parse_lines(read.stdout)}
    assert devices == {e["Device"] for e in entries}, read.stderr
    assert read.returncode == 0, read.stderr
    smc = next(e for e in entries if e["Model"].startswith("SMC"))
    assert smc["SerialConnectionParams"]["stopbits"] == 2  # the line settings that worked are in the entry
    kpa = next(e for e in entries if e["Model"] == "Thorlabs KPA101")
    assert kpa["SerialNumber"] == 69252254


def test_without_probe_nothing_is_sent_and_the_ports_are_listed(lab: Any) -> None:
    serial, _, unnamed = lab
    result = discover()
    assert result.returncode == 0, result.stderr
    assert "serial ports" in result.stdout and "--probe" in result.stdout
    assert unnamed.log == [] and all(getattr(sim, "log", []) == [] for sim in serial.values())


def test_yaml_entries(lab: Any) -> None:
    serial, _, _ = lab
    result = discover("--probe", serial["KJLC 354"].path, "--yaml")
    assert result.returncode == 0, result.stderr
    assert "Model: KJLC 354" in result.stdout and "InternalAddress: '01'" in result.stdout


def test_a_kpa101_is_probably_known_by_its_serial_number_pattern_and_usb_ids() -> None:
    from telegraf_inputs import discover as finder

    kpa = next(probe for family, probe in finder.probes() if family.name == "thorlabs_kpa101")
    assert re.fullmatch(kpa.serials, "69252254A") and re.fullmatch(kpa.serials, "69252254")
    assert not re.fullmatch(kpa.serials, "83812345") and (0x0403, 0xFAF0) in kpa.usb


def test_nothing_found_is_exit_1(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    result = discover("--probe", f"127.0.0.1:{free}")
    assert result.returncode == 1 and "nothing identified" in result.stderr and "Traceback" not in result.stderr
