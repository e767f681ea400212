"""No value under another channel: after a late reply or one that stalls halfway, for every family.

Each family's simulator runs on its real transport (TCP, Modbus TCP, HTTP, a pty) and every channel
of the device has its own, distinct value.  The lab is read as ``telegraf-lab run`` reads it (the
runtime's Runner, one gather after another, as Telegraf's triggers come): one clean gather gives
each series its value; then one reply comes 1.5 Timeouts late (or its second half does), and every
value written in that gather and the five after it must be its own series' value.  The last gather
must have every series again: the connection is back in step, not merely silent.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from line_protocol_parser import parse_line

from telegraf_inputs import registry
from telegraf_inputs.runtime import Runner
from telegraf_inputs.simulators import LateFaults
from tests.helpers import smc_device, write_config

posix = pytest.mark.skipif(sys.platform == "win32", reason="ptys are POSIX")
TIMEOUT_S = 0.4
RELATIVE = 0.02  # the simulators' slow drift over a test; distinct values differ by far more


@dataclass
class Lab:
    """A running simulator, the devices file entries that read it, and its faults."""

    entries: list[dict[str, Any]]
    faults: LateFaults
    stop: Callable[[], None]
    sim: Any = None
    used: Callable[[], bool] = lambda: True  # whether the transport under test carried the exchanges


def _lockbox() -> Lab:
    from telegraf_inputs.families.rp_lockbox.simulator import LockboxSimulator

    sim = LockboxSimulator().start()
    sim.box.levels = {1: 1.111, 2: 2.222}  # the two inputs
    entry = {"Device": "Lockbox", "Model": "rp-lockbox", "Address": "127.0.0.1", "Timeout": TIMEOUT_S,
             "SCPIConnectionParams": {"Port": sim.port}, "measurement": "lockbox",
             "Channels": {"in1": {"Type": "FastAnalogIn", "DeviceChannel": 1, "field-key": "in1"},
                          "in2": {"Type": "FastAnalogIn", "DeviceChannel": 2, "field-key": "in2"}}}  # fmt: skip
    return Lab([entry], sim.faults, sim.stop)


def _scpi() -> Lab:
    from telegraf_inputs.families.scpi.simulator import ScpiSimulator

    sim = ScpiSimulator({"KRDG? A": "+077.100", "KRDG? B": "+004.200", "HTR? 1": "+035.00"},
                        read_termination="\r\n", write_termination="\r\n").start()  # fmt: skip
    entry = {"Device": "cryostat controller", "Model": "SCPI", "Address": f"TCPIP0::127.0.0.1::{sim.port}::SOCKET",
             "Timeout": TIMEOUT_S * 1000, "measurement": "cryostat",
             "DeviceSpecificParams": {"ReadTermination": "\r\n", "WriteTermination": "\r\n", "ErrorQuery": ""},
             "Channels": {"A": {"Query": "KRDG? A", "field-key": "tA"}, "B": {"Query": "KRDG? B", "field-key": "tB"},
                          "heater": {"Query": "HTR? 1", "field-key": "heater"}}}  # fmt: skip
    return Lab([entry], sim.faults, sim.stop, sim)


def _pm100() -> Lab:
    from telegraf_inputs.families.thorlabs_pm100.simulator import Pm100Simulator

    sim = Pm100Simulator().start()
    entry = {
        "Device": "meter",
        "Model": "Thorlabs PM100",
        "Address": sim.address,
        "Timeout": TIMEOUT_S,
        "measurement": "power",
        "Channels": {t: {"Type": t, "field-key": t} for t in ("Power", "Wavelength", "BeamDiameter", "NumAverages")},
    }
    return Lab([entry], sim.faults, sim.stop)  # fmt: skip


def _daq() -> Lab:
    from telegraf_inputs.families.daq970a.simulator import Daq970aSimulator

    sim = Daq970aSimulator().start()
    entry = {"Device": "daq", "Model": "Keysight DAQ970A", "Address": sim.address, "Timeout": TIMEOUT_S * 1000,
             "measurement": "temperature",
             "Channels": {"101": {"DeviceChannel": 101, "Type": "TEMPT", "tags": {"sensor": "a"}},
                          "102": {"DeviceChannel": 102, "Type": "DCV", "field-key": "voltage"}}}  # fmt: skip
    return Lab([entry], sim.faults, sim.stop, sim)


def _cryomech() -> Lab:
    from telegraf_inputs.families.cryomech_cpa.simulator import CpaSimulator

    sim = CpaSimulator().start()
    entry = {"Device": "Compressor", "Model": "Cryomech CPA1110", "Address": sim.address, "Timeout": TIMEOUT_S,
             "measurement": "compressor",
             "Channels": {"in": {"Type": "CoolantIntTemperature", "field-key": "coolant_in"},
                          "he": {"Type": "HeTemperature", "field-key": "helium"},
                          "hp": {"Type": "HighPressure", "field-key": "high_pressure"}}}  # fmt: skip
    return Lab([entry], sim.faults, sim.stop)


def _pydase() -> Lab:
    from telegraf_inputs.families.pydase.simulator import PydaseSimulator

    sim = PydaseSimulator().start()

    def attribute(name: str) -> dict[str, Any]:
        return {"Type": "pydaseAttribute", "pydaseServerStructure": {"Attribute": name}, "field-key": name}

    entry = {
        "Device": "oven",
        "Model": "pydase",
        "Address": "127.0.0.1",
        "Port": sim.port,
        "Timeout": TIMEOUT_S,
        "measurement": "oven",
        "Channels": {"t": attribute("temperature"), "v": attribute("voltage")},
    }
    return Lab([entry], sim.faults, sim.stop)


def _purpleair() -> Lab:
    from telegraf_inputs.families.purpleair.simulator import PurpleAirSimulator

    sim = PurpleAirSimulator().start()
    channels = {"t": {"Type": "temperature", "field-key": "temperature_f"},
                "h": {"Type": "humidity", "field-key": "humidity"},
                "p": {"Type": "pressure", "field-key": "pressure"}}  # fmt: skip
    lan = [{"Device": f"air {i}", "Model": "PurpleAir", "Address": sim.lan_url(i), "Timeout": TIMEOUT_S,
            "measurement": "air", "Channels": channels} for i in (1, 2)]  # fmt: skip
    sim.add_sensor(2, humidity=61.0)
    return Lab(lan, sim.faults, sim.stop)


def _serial(make: Callable[[], Any], entry: Callable[[str], dict[str, Any]]) -> Callable[[], Lab]:
    def start() -> Lab:
        sim = make().start()
        return Lab([entry(sim.path)], sim.faults, sim.stop)

    return start


def _ctc100() -> Any:
    from telegraf_inputs.families.srs_ctc100.simulator import Ctc100Simulator

    sim = Ctc100Simulator()
    sim.values.update(In1=12.5, In2=77.0)  # the values
    return sim


def _ctc100_entry(path: str) -> dict[str, Any]:
    return {"Device": "cryo", "Model": "SRS CTC100", "Address": path, "Timeout": TIMEOUT_S,
            "measurement": "cryotemperature",
            "Channels": {n: {"Type": "Temperature", "field-key": n, "tags": {"CTC100ChannelName": n}}
                         for n in ("In1", "In2", "In4")}}  # fmt: skip


def _sim922() -> Any:
    from telegraf_inputs.families.srs_sim922.simulator import Sim922Simulator

    return Sim922Simulator()


def _sim922_entry(path: str) -> dict[str, Any]:
    return {"Device": "diodes", "Model": "SRS SIM922", "Address": path, "Timeout": TIMEOUT_S,
            "measurement": "cryotemperature",
            "Channels": {f"t{n}": {"DeviceChannel": n, "Type": "Temperature", "field-key": f"t{n}"} for n in (1, 3)}
            | {"v1": {"DeviceChannel": 1, "Type": "Voltage", "field-key": "v1"}}}  # fmt: skip


def _mdt693b() -> Any:
    from telegraf_inputs.families.thorlabs_mdt693b.simulator import Mdt693bSimulator

    sim = Mdt693bSimulator()
    sim.volts = {"x": 12.5, "y": 47.0, "z": 149.9}
    return sim


def _mdt693b_entry(path: str) -> dict[str, Any]:
    return {"Device": "piezo", "Model": "Thorlabs MDT693B", "Address": path, "Timeout": TIMEOUT_S,
            "measurement": "piezo",
            "Channels": {a: {"Type": "Vout", "Axis": a, "field-key": a} for a in "xyz"}}  # fmt: skip


def _kjlc354() -> Any:
    from telegraf_inputs.families.kjlc354.simulator import Kjlc354Simulator

    return Kjlc354Simulator()


def _kjlc354_entry(path: str) -> dict[str, Any]:
    return {"Device": "chamber", "Model": "KJLC 352", "Address": path, "Timeout": TIMEOUT_S, "measurement": "pressure",
            "SerialConnectionParams": {"baudrate": 19200}, "DeviceSpecificParams": {"InternalAddress": "01"},
            "Channels": {"ig": {"Type": "IGPressure", "field-key": "ig"},
                         "cg1": {"Type": "CG1Pressure", "field-key": "cg1"},
                         "cg2": {"Type": "CG2Pressure", "field-key": "cg2"}}}  # fmt: skip


def _dr528() -> Any:
    from telegraf_inputs.families.metone_dr528.simulator import Dr528Simulator

    return Dr528Simulator()


def _dr528_entry(path: str) -> dict[str, Any]:
    return {"Device": "counter", "Model": "Met One DR-528", "Address": path, "Timeout": TIMEOUT_S,
            "measurement": "particlecounts",
            "Channels": {"AT(C)": {"Type": "AT(C)", "field-key": "temperature"},
                         "RH(%)": {"Type": "RH(%)", "field-key": "humidity"}}}  # fmt: skip


def _acg() -> Any:
    from telegraf_inputs.families.kjlc_acg.simulator import AcgSimulator

    return AcgSimulator()


def _acg_entry(path: str) -> dict[str, Any]:
    return {
        "Device": "ACG",
        "Model": "KJLC ACG",
        "Address": path,
        "Timeout": TIMEOUT_S,
        "measurement": "pressure",
        "Channels": {"P": {"Type": "Pressure", "field-key": "pressure"}},
    }


def _kpa101() -> Any:
    from telegraf_inputs.families.thorlabs_kpa101.simulator import Kpa101Simulator

    return Kpa101Simulator()


def _kpa101_entry(path: str) -> dict[str, Any]:
    return {"Device": "beam", "Model": "Thorlabs KPA101", "Address": path, "SerialNumber": 69252254,
            "Timeout": TIMEOUT_S, "measurement": "beamposition",
            "Channels": {t: {"Type": t, "field-key": t} for t in ("XDiff", "YDiff", "Sum")}}  # fmt: skip


def _smc() -> Any:
    from telegraf_inputs.families.smc_hrs.simulator import HrsSimulator

    return HrsSimulator(protocol="modbus")


def _smc_entry(path: str) -> dict[str, Any]:
    channels = {t: {"Type": t, "field-key": t.lower()} for t in ("PV1", "PRESSURE", "RESISTIVITY")}
    return smc_device(path, channels=channels, Timeout=TIMEOUT_S, DeviceSpecificParams={"Protocol": "modbus"})


LABS: dict[str, Callable[[], Lab]] = {
    "rp_lockbox": _lockbox,
    "scpi": _scpi,
    "thorlabs_pm100": _pm100,
    "daq970a": _daq,
    "cryomech_cpa": _cryomech,
    "pydase": _pydase,
    "purpleair": _purpleair,
    "srs_ctc100": _serial(_ctc100, _ctc100_entry),
    "srs_sim922": _serial(_sim922, _sim922_entry),
    "thorlabs_mdt693b": _serial(_mdt693b, _mdt693b_entry),
    "kjlc354": _serial(_kjlc354, _kjlc354_entry),
    "metone_dr528": _serial(_dr528, _dr528_entry),
    "kjlc_acg": _serial(_acg, _acg_entry),
    "thorlabs_kpa101": _serial(_kpa101, _kpa101_entry),
    "smc_hrs": _serial(_smc, _smc_entry),
}
SERIAL = {name for name, start in LABS.items() if start.__name__ == "start"}


def _over(start: Callable[[], Lab], protocol: str) -> Callable[[], Lab]:
    """The lab on VXI-11 or HiSLIP at the standard ports, its address as the older logger's files write it."""

    def lan() -> Lab:
        from tests.families.test_lan_transports import gateway, used

        lab = start()
        gate = gateway(lab.sim, protocol)
        for entry in lab.entries:
            entry["Address"] = gate.address
        lab.used = lambda: used(gate)
        return lab

    return lan


LAN = {f"{name} over {protocol}": _over(LABS[name], protocol) for name in ("daq970a", "scpi")
       for protocol in ("vxi11", "hislip")}  # fmt: skip


def test_every_family_is_covered() -> None:
    assert set(LABS) == {family.name for family in registry.families()}


Series = tuple[str, str]  # (the line's series: measurement and tags, the field)


def _values(out: list[bytes]) -> dict[Series, list[float]]:
    values: dict[Series, list[float]] = {}
    for line in b"".join(out).decode().splitlines():
        parsed = parse_line(line)
        series = parsed["measurement"] + repr(sorted(parsed["tags"].items()))
        for key, value in parsed["fields"].items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                values.setdefault((series, key), []).append(float(value))
    return values


def _gather(runner: Runner, out: list[bytes]) -> dict[Series, list[float]]:
    del out[:]
    runner.trigger()
    runner.wait_idle()
    return _values(out)


@pytest.fixture(params=sorted(LABS | LAN))
def lab(request: pytest.FixtureRequest) -> Iterator[tuple[str, Lab]]:
    if request.param in SERIAL and sys.platform == "win32":
        pytest.skip("ptys are POSIX")
    started = (LABS | LAN)[request.param]()
    yield request.param, started
    started.stop()


@pytest.mark.parametrize("fault", ["late_next_s", "stall_next_s"])
def test_after_a_late_or_stalled_reply_every_value_is_its_own_channels(
    tmp_path: Path, lab: tuple[str, Lab], fault: str
) -> None:
    family, sim = lab
    loaded = registry.load(write_config(tmp_path, sim.entries))
    assert not loaded.problems, loaded.problems
    out: list[bytes] = []
    runner = Runner([(g.driver, g.devices) for g in loaded.groups], out.append)
    try:
        first = _gather(runner, out)
        assert first, f"{family}: the clean gather wrote nothing"
        own = {series: values[0] for series, values in first.items()}
        levels = sorted(own.values())
        assert all(not math.isclose(a, b, rel_tol=5 * RELATIVE) for a, b in zip(levels, levels[1:], strict=False)), (
            f"{family}: the simulated channels need distinct values to show a misplacement: {own}"
        )
        setattr(sim.faults, fault, 1.5 * TIMEOUT_S)
        written: list[dict[Series, list[float]]] = [_gather(runner, out) for _ in range(6)]
    finally:
        runner.close()
    for number, values in enumerate(written, 2):
        for series, got in values.items():
            for value in got:
                assert math.isclose(value, own[series], rel_tol=RELATIVE, abs_tol=1e-12), (
                    f"{family}, gather {number} after a {fault} fault: {series} = {value}, its own value is "
                    f"{own[series]}; everything written: {values}"
                )
    assert set(written[-1]) == set(own), f"{family}: not back in step: last gather wrote {written[-1]}"
    assert getattr(sim.faults, fault) == 0.0, f"{family}: the simulator never applied the {fault} fault"
    assert sim.used(), f"{family}: the transport under test carried no exchange"
