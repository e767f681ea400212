"""The DAQ970A and SCPI families over VXI-11 and HiSLIP, read by pyvisa-py's own clients.

The older logger's files name LAN instruments as ``TCPIP0::<host>::inst0::INSTR``
(VXI-11, its port found through the portmapper on port 111) and
``TCPIP0::<host>::hislip0::INSTR`` (HiSLIP on port 4880).  Each simulator here gets
a loopback address of its own (127.0.0.N) with those standard ports, so the
resources are written exactly as in those files; pyvisa-py opens them with its
VXI-11 and HiSLIP clients, not our code.  What is checked:

- the older logger's own DAQ973A entries read through both protocols (the gateway
  records the protocol's calls, so a silent fall-back to another transport fails);
- a conversation is byte for byte the same over the raw socket, VXI-11 and HiSLIP;
- a link that drops (the instrument closing it, a cable pulled) is one error, then
  the device is read again; a reply that never comes is an error within the
  Timeout and the other devices are read meanwhile;
- ``--simulate`` keeps the transport the file names.

Late and stalled replies over both protocols are in test_in_step.py.
"""

from __future__ import annotations

import json
import queue
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from telegraf_inputs import hislip_sim, lan_sim
from telegraf_inputs.families.daq970a.simulator import Daq970aSimulator
from telegraf_inputs.families.scpi.simulator import ScpiSimulator
from tests.helpers import OLDER_FILE, ExecdProcess, parse_lines, run_once, write_config

PROTOCOLS = ("vxi11", "hislip")


def gateway(sim: lan_sim.LanServed, protocol: str) -> lan_sim.Gateway:
    return sim.serve_vxi11(standard_ports=True) if protocol == "vxi11" else sim.serve_hislip(standard_ports=True)


def used(gate: lan_sim.Gateway) -> bool:
    """Whether the protocol carried a whole exchange: a link made, a message written, a reply read."""
    if isinstance(gate, lan_sim.Vxi11Gateway):
        return {lan_sim.CREATE_LINK, lan_sim.DEVICE_WRITE, lan_sim.DEVICE_READ} <= set(gate.calls)
    assert isinstance(gate, hislip_sim.HislipGateway)
    return {hislip_sim.INITIALIZE, hislip_sim.ASYNC_INITIALIZE, hislip_sim.DATA_END} <= set(gate.messages)


@pytest.fixture
def daq973a() -> Iterator[Daq970aSimulator]:
    sim = Daq970aSimulator(model="DAQ973A").start()
    yield sim
    sim.stop()


def older_daq_entries(address: str) -> list[dict[str, Any]]:
    """The older logger's example file's two DAQ973A entries (one instrument), at ``address``."""
    entries = [e for e in json.loads(OLDER_FILE.read_text()) if "inst0" in str(e.get("Address"))]
    assert len(entries) == 2
    for entry in entries:
        assert entry["Address"] == "TCPIP0::K-DAQ973A-0296.local::inst0::INSTR"
        entry["Address"] = address
        entry["Timeout"] = 5000
        entry.pop("VISAIDN", None)  # the file's own unit's serial number
    return entries


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_the_older_loggers_daq973a_entries_read_over_the_protocol_its_file_names(
    tmp_path: Path, daq973a: Daq970aSimulator, protocol: str
) -> None:
    gate = gateway(daq973a, protocol)
    written = {"vxi11": "TCPIP0::127.0.0.{n}::inst0::INSTR", "hislip": "TCPIP0::127.0.0.{n}::hislip0::INSTR"}
    assert gate.address == written[protocol].format(n=gate.host.rsplit(".", 1)[1])  # no port: as the file has it
    result = run_once(["--config", str(write_config(tmp_path, older_daq_entries(gate.address)))])
    assert result.returncode == 0, result.stderr
    lines = parse_lines(result.stdout)
    assert sorted(line["tags"]["sensor"] for line in lines) == ["101", "Pt1000", "Table", "Test AC"]
    table = next(line for line in lines if line["tags"]["sensor"] == "Table")
    assert table["tags"] == {"device": "Keysight DAQ973A multimeter 2", "room": "B12", "sensor": "Table",
                             "unit": "DegC"}  # fmt: skip
    assert 15 < table["fields"]["value"] < 35
    assert used(gate)
    assert "*RST" in daq973a.instrument.log  # the second entry's CmdOnInit went through the protocol too


def scpi_entry(address: str) -> dict[str, Any]:
    return {"Device": "cryostat controller", "Model": "SCPI", "Address": address, "Timeout": 2,
            "measurement": "cryostat", "CmdOnInit": ["*CLS"],
            "DeviceSpecificParams": {"ReadTermination": "\r\n", "WriteTermination": "\r\n",
                                     "ErrorQuery": "SYST:ERR?"},
            "Channels": {"A": {"Query": "KRDG? A", "field-key": "tA"}, "B": {"Query": "KRDG? B", "field-key": "tB"},
                         "heater": {"Query": "HTR? 1", "field-key": "heater"}}}  # fmt: skip


def lakeshore() -> ScpiSimulator:
    answers = {"KRDG? A": "+077.100", "KRDG? B": "+004.200", "HTR? 1": "+035.00"}
    return ScpiSimulator(answers, read_termination="\r\n", write_termination="\r\n", idn="LSCI,MODEL336,1,2.9").start()


def test_a_conversation_is_the_same_bytes_over_the_socket_vxi11_and_hislip(tmp_path: Path) -> None:
    conversations = {}
    for protocol in ("socket", *PROTOCOLS):
        sim = lakeshore()
        try:
            address = sim.address if protocol == "socket" else gateway(sim, protocol).address
            result = run_once(["--config", str(write_config(tmp_path, [scpi_entry(address)]))], name="telegraf-scpi")
            assert result.returncode == 0, (protocol, result.stderr)
            fields = {k: v for line in parse_lines(result.stdout) for k, v in line["fields"].items()}
            assert fields == {"tA": 77.1, "tB": 4.2, "heater": 35.0}, protocol
            conversations[protocol] = list(sim.received)
        finally:
            sim.stop()
    assert conversations["socket"][0] == b"*CLS\r\n" and b"KRDG? B\r\n" in conversations["socket"]
    assert conversations["vxi11"] == conversations["socket"]
    assert conversations["hislip"] == conversations["socket"]


def gathers(proc: ExecdProcess, count: int, period_s: float = 3.2) -> list[dict[str, dict[str, Any]]]:
    """``count`` gathers, one trigger every ``period_s`` (past the devices' deadlines, 3 Timeouts):
    the fields written per device in each."""
    out = []
    for _ in range(count):
        proc.trigger()
        fields: dict[str, dict[str, Any]] = {}
        end = time.monotonic() + period_s
        while (left := end - time.monotonic()) > 0:
            try:
                line = proc.lines.get(timeout=left)
            except queue.Empty:
                break
            (parsed,) = parse_lines(line)
            fields.setdefault(parsed["tags"]["device"], {}).update(parsed["fields"])
        out.append(fields)
    return out


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("how", ["the instrument closes it", "a cable pulled"])
def test_a_link_that_drops_is_one_error_then_the_device_is_read_again(
    tmp_path: Path, daq973a: Daq970aSimulator, protocol: str, how: str
) -> None:
    gate = gateway(daq973a, protocol)
    entries = older_daq_entries(gate.address)[1:]
    entries[0]["Timeout"] = 1000
    proc = ExecdProcess(["run", "--config", str(write_config(tmp_path, entries))], name="telegraf-lab")
    try:
        first = gathers(proc, 1)
        if how == "the instrument closes it":
            daq973a.faults.drop_next = True
        else:
            gate.disconnect()
        later = gathers(proc, 3)
    finally:
        proc.close_stdin()
    device = "Keysight DAQ973A multimeter 2"
    assert set(first[0][device]) == {"value"}
    assert device not in later[0], later  # nothing made up for the gather the link dropped in
    assert all(device in g and 15 < g[device]["value"] < 300 for g in later[1:]), (later, proc.stderr)
    errors = [line for line in proc.stderr if line.startswith("E!")]
    assert len(errors) == 1, proc.stderr
    assert any("recovered" in line for line in proc.stderr), proc.stderr


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_reply_that_never_comes_is_an_error_within_the_timeout_and_delays_no_other_device(
    tmp_path: Path, protocol: str
) -> None:
    silent, healthy = lakeshore(), lakeshore()
    try:
        entries = [scpi_entry(gateway(silent, protocol).address), scpi_entry(gateway(healthy, protocol).address)]
        entries[0]["Device"], entries[0]["Timeout"] = "silent one", 0.5
        proc = ExecdProcess(["run", "--config", str(write_config(tmp_path, entries))], name="telegraf-lab")
        try:
            gathers(proc, 1)
            silent.faults.silent = True
            during = gathers(proc, 2, period_s=2)
            silent.faults.silent = False
            after = gathers(proc, 2)
        finally:
            proc.close_stdin()
    finally:
        silent.stop()
        healthy.stop()
    assert all(g == {"cryostat controller": {"tA": 77.1, "tB": 4.2, "heater": 35.0}} for g in during), during
    assert any(line.startswith("E! device 'silent one'") for line in proc.stderr), proc.stderr
    assert after[-1]["silent one"] == {"tA": 77.1, "tB": 4.2, "heater": 35.0}, after


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_simulate_keeps_the_transport_the_file_names(tmp_path: Path, protocol: str) -> None:
    from telegraf_inputs import registry
    from telegraf_inputs.families.daq970a.simulate import simulate

    address = {"vxi11": "TCPIP0::K-DAQ973A-0296.local::inst0::INSTR",
               "hislip": "TCPIP0::K-DAQ973A-0296.local::hislip0::INSTR"}[protocol]  # fmt: skip
    loaded = registry.load(write_config(tmp_path, older_daq_entries(address)))
    devices = [d for group in loaded.groups for d in group.devices]
    pointed, stop = simulate(devices)
    try:
        assert {lan_sim.lan_protocol(d.address) for d in pointed} == {protocol}  # type: ignore[attr-defined]
        assert len({d.address for d in pointed}) == 1  # type: ignore[attr-defined]  # one instrument, as in the file
        result = run_once(["--config", str(write_config(tmp_path, older_daq_entries(address))), "--simulate"])
        assert result.returncode == 0, result.stderr
        assert len(parse_lines(result.stdout)) == 4
    finally:
        stop()
