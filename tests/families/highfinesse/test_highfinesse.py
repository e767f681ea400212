"""HighFinesse wavelength meters through telegraf-lab, the vendor library's place taken by a stub built from C
by these tests (stub.c: the vendor's exported prototypes, answering what the test writes in a file), loaded
through the same code as the real library: ctypes in the worker process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from telegraf_inputs.families.rp_lockbox.simulator import LockboxSimulator
from tests.helpers import ExecdProcess, parse_lines, run_once, write_config

from .stub import Stub, environment

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the stub library is built with cc")
#: the older logger's HighFinesse entry (its example devices file, as the reference records it): no Address
OLDER_ENTRY = {
    "Device": "HighFinesse WS/7 wavemeter",
    "Model": "HighFinesse",
    "Timeout": 10,
    "tags": {},
    "measurement": "frequency",
    "Channels": {"Frequency": {"Type": "Frequency", "field-key": "frequency", "tags": {"unit": "THz"}}},
}


@pytest.fixture
def stub(tmp_path: Path) -> Stub:
    return Stub(tmp_path)


def once(tmp_path: Path, entries: list[dict[str, Any]], env: dict[str, str]) -> subprocess.CompletedProcess:
    return run_once(["run", "--config", str(write_config(tmp_path, entries))], env=env, name="telegraf-lab")


def meter(library: Path, channels: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"Device": "wavemeter", "Model": "HighFinesse", "Library": str(library), "Timeout": 1,
            "Channels": channels, **extra}  # fmt: skip


def test_each_type_reads_its_call_and_an_error_code_is_named_never_written(tmp_path: Path, stub: Stub) -> None:
    stub.set(GetFrequencyNum_1=281.6303, GetWavelengthNum_2=994.0068, AirIndex=1.000273, GetPowerNum_2=153.25,
             GetPowerNum_3=-4, GetExposureNum_2=12, GetTemperature=24.5, GetPressure=-1005)  # fmt: skip
    channels = {
        "f": {"Type": "Frequency", "field-key": "f"},
        "vac": {"Type": "Wavelength", "SwitchChannel": 2, "field-key": "vac"},
        "air": {"Type": "WavelengthAir", "SwitchChannel": 2, "field-key": "air"},
        "p2": {"Type": "Power", "SwitchChannel": 2, "field-key": "p2"},
        "p3": {"Type": "Power", "SwitchChannel": 3, "field-key": "p3"},
        "exp": {"Type": "Exposure", "SwitchChannel": 2, "field-key": "exp"},
        "t": {"Type": "Temperature", "field-key": "t"},
        "p": {"Type": "Pressure", "field-key": "p"},
        "none": {"Type": "Frequency", "SwitchChannel": 4, "field-key": "none"},
    }
    done = once(tmp_path, [meter(stub.library, channels)], environment(stub))
    fields = {k: v for line in parse_lines(done.stdout) for k, v in line["fields"].items()}
    assert fields == {"f": 281.6303, "vac": 994.0068, "air": pytest.approx(994.0068 / 1.000273), "p2": 153.25,
                      "exp": 12, "t": 24.5}  # fmt: skip
    assert "GetPowerNum 3: ErrBigSignal (-4)" in done.stderr
    assert "GetPressure: ErrWlmMissing (-1005)" in done.stderr
    assert "GetFrequencyNum 4: ErrNotAvailable (-6)" in done.stderr
    assert done.stderr.count("E! ") == 3, done.stderr
    assert stub.called() == ["GetFrequencyNum 1", "GetWavelengthNum 2", "GetWavelengthNum 2", "GetPowerNum 2",
                             "GetPowerNum 3", "GetExposureNum 2", "GetTemperature", "GetPressure",
                             "GetFrequencyNum 4"]  # fmt: skip


def test_the_older_loggers_entry_reads_unchanged_from_the_library_the_system_finds(tmp_path: Path, stub: Stub) -> None:
    stub.set(GetFrequencyNum_1=281.63, GetFrequencyNum_2=300.1)
    done = once(tmp_path, [OLDER_ENTRY], environment(stub))  # no Library: libwlmData.so, found on LD_LIBRARY_PATH
    assert done.returncode == 0, done.stderr
    (line,) = parse_lines(done.stdout)
    assert line["measurement"] == "frequency"
    assert line["tags"] == {"device": "HighFinesse WS/7 wavemeter", "unit": "THz"}
    assert line["fields"] == {"frequency": 281.63}  # switch channel 1, as the older logger read


def test_what_the_library_prints_is_never_read_as_a_reply(tmp_path: Path, stub: Stub) -> None:
    """A vendor library may print debug lines on stdout; the worker's replies go on a descriptor of their own."""
    stub.set(GetFrequencyNum_1=281.63, GetPowerNum_1=12.5, chatter=1)
    channels = {"f": {"Type": "Frequency", "field-key": "f"}, "p": {"Type": "Power", "field-key": "p"}}
    done = once(tmp_path, [meter(stub.library, channels)], environment(stub))
    assert done.returncode == 0, done.stderr
    assert {k: v for line in parse_lines(done.stdout) for k, v in line["fields"].items()} == {"f": 281.63, "p": 12.5}


def test_no_wlm_application_is_one_clear_error(tmp_path: Path, stub: Stub) -> None:
    stub.set(Instantiate=0)
    env = environment(stub)
    done = once(tmp_path, [meter(stub.library, {"f": {"Type": "Frequency", "field-key": "f"}})], env)
    assert done.returncode == 1 and done.stdout == ""
    assert "no WLM application answers the library" in done.stderr and "Traceback" not in done.stderr
    missing = once(tmp_path, [meter(tmp_path / "nowhere.so", {"f": {"Type": "Frequency", "field-key": "f"}})], env)
    assert "cannot load the library" in missing.stderr and missing.returncode == 1


@pytest.mark.parametrize(("mode", "said"), [("hang", "did not answer GetFrequencyNum 1 within 1 s"),
                                            ("crash", "killed by SIGSEGV")])  # fmt: skip
def test_a_hang_or_crash_in_the_library_leaves_the_lab_reading_and_the_meter_comes_back(
    tmp_path: Path, stub: Stub, mode: str, said: str
) -> None:
    stub.set(GetFrequencyNum_1=281.63)
    box = LockboxSimulator().start()
    lockbox = {"Device": "Lockbox", "Model": "rp-lockbox", "Address": "127.0.0.1", "Timeout": 1,
               "SCPIConnectionParams": {"Port": box.port}, "measurement": "lockbox",
               "Channels": {"in1": {"Type": "FastAnalogIn", "DeviceChannel": 1, "field-key": "in1"}}}  # fmt: skip
    config = write_config(tmp_path, [meter(stub.library, {"f": {"Type": "Frequency", "field-key": "f"}}), lockbox])
    exe = ExecdProcess(["run", "--config", str(config)], name="telegraf-lab", env=environment(stub))
    try:
        exe.trigger()
        assert {line["measurement"] for line in parse_lines("\n".join(exe.read_lines(2)))} == {"wavemeter", "lockbox"}
        stub.set(mode=mode)
        exe.trigger()
        (line,) = parse_lines("\n".join(exe.read_lines(1)))
        assert line["measurement"] == "lockbox"  # the other device, read as usual
        exe.wait_stderr(said)
        stub.set(GetFrequencyNum_1=281.64)
        exe.trigger()  # a new worker, the library loaded again
        lines = parse_lines("\n".join(exe.read_lines(2)))
        assert {line["measurement"]: line["fields"] for line in lines}["wavemeter"] == {"f": 281.64}
        assert exe.close_stdin() < 5 and exe.proc.returncode == 0
    finally:
        exe.kill()
        box.stop()


def test_simulate_reads_without_any_library(tmp_path: Path) -> None:
    config = write_config(tmp_path, [{**OLDER_ENTRY, "Library": str(tmp_path / "no-such-library.so")}])
    done = subprocess.run([sys.executable, "-m", "telegraf_inputs.cli", "run", "--config", str(config),
                           "--simulate", "--once"], capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    (line,) = parse_lines(done.stdout)
    assert line["fields"]["frequency"] == pytest.approx(281.6, rel=1e-6)


def test_a_whole_meter_type_has_no_switch_channel(tmp_path: Path) -> None:
    entry = meter(tmp_path / "x.so", {"t": {"Type": "Temperature", "SwitchChannel": 2, "field-key": "t"}})
    done = subprocess.run([sys.executable, "-m", "telegraf_inputs.cli", "check", str(write_config(tmp_path, [entry]))],
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 2 and 'Type "Temperature" is of the whole wavemeter' in done.stderr


def test_a_failing_channel_is_one_line_when_it_starts_and_one_when_it_recovers(tmp_path: Path, stub: Stub) -> None:
    stub.set(GetFrequencyNum_1=281.63, GetPowerNum_1=-3)  # ErrLowSignal: too little light
    config = write_config(tmp_path, [meter(stub.library, {"f": {"Type": "Frequency", "field-key": "f"},
                                                           "p": {"Type": "Power", "field-key": "p"}})])  # fmt: skip
    exe = ExecdProcess(["run", "--config", str(config)], name="telegraf-lab", env=environment(stub))
    try:
        for _ in range(3):
            exe.trigger()
            (line,) = parse_lines("\n".join(exe.read_lines(1)))
            assert line["fields"] == {"f": 281.63}  # the failing channel takes nothing of the other with it
        stub.set(GetFrequencyNum_1=281.63, GetPowerNum_1=12.5)
        exe.trigger()
        assert {k for line in parse_lines("\n".join(exe.read_lines(2))) for k in line["fields"]} == {"f", "p"}
        exe.wait_stderr("recovered after 3 failed gather(s)")
        assert exe.close_stdin() < 5
    finally:
        exe.kill()
    failing = [line for line in exe.stderr if "ErrLowSignal" in line]
    assert len(failing) == 1 and failing[0].startswith("E! "), exe.stderr


def test_every_model_of_the_older_logger_is_read() -> None:
    from telegraf_inputs import registry

    older = [
        "Keysight DAQ973A",
        "SMC HRS012-AN-10-T",
        "PurpleAir",
        "KJLC 354",
        "KJLC ACG",
        "Met One DR-528",
        "SRS CTC100",
        "Cryomech CPA1110",
        "HighFinesse",
        "rp-lockbox",
        "Thorlabs KPA101",
        "Thorlabs MDT693B",
        "Thorlabs PM100",
        "pydase",
        "SRS SIM922",
    ]  # its Models at HEAD (the reference's history, section 4)
    assert [model for model in older if registry.family_of(model) is None] == []
