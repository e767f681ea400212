"""HighFinesse wavelength meters through telegraf-lab, the vendor library's place taken by a stub built from C
by these tests (stub_wlmdata.c: the vendor's exported prototypes, answering what the test writes in a file),
loaded through the same code as the real library: ctypes in the worker process."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from telegraf_inputs.families.rp_lockbox.simulator import LockboxSimulator
from tests.helpers import ExecdProcess, parse_lines, write_config

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the stub library is built with cc")
HERE = Path(__file__).parent
#: the older logger's HighFinesse entry (its example devices file, as the reference records it): no Address
OLDER_ENTRY = {
    "Device": "HighFinesse WS/7 wavemeter",
    "Model": "HighFinesse",
    "Timeout": 10,
    "tags": {},
    "measurement": "frequency",
    "Channels": {"Frequency": {"Type": "Frequency", "field-key": "frequency", "tags": {"unit": "THz"}}},
}


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The stub, built as the vendor names its Linux library."""
    compiler = shutil.which("cc")
    assert compiler is not None, "the tests build a stub of the vendor's library with cc"
    folder = tmp_path_factory.mktemp("wlm")
    built = folder / "libwlmData.so"
    subprocess.run([compiler, "-shared", "-fPIC", "-o", str(built), str(HERE / "stub_wlmdata.c")], check=True)
    return built


@pytest.fixture
def answers(tmp_path: Path, library: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    """The file the stub answers from, and the environment that points the stub (and the system) at it."""
    path = tmp_path / "answers.txt"
    path.write_text("")
    yield path, {**os.environ, "STUB_WLM_FILE": str(path), "LD_LIBRARY_PATH": str(library.parent)}


def once(tmp_path: Path, entries: list[dict[str, Any]], env: dict[str, str]) -> subprocess.CompletedProcess:
    config = write_config(tmp_path, entries)
    return subprocess.run([sys.executable, "-m", "telegraf_inputs.cli", "run", "--config", str(config), "--once"],
                          capture_output=True, text=True, timeout=60, env=env)  # fmt: skip


def meter(library: Path, channels: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"Device": "wavemeter", "Model": "HighFinesse", "Library": str(library), "Timeout": 1,
            "Channels": channels, **extra}  # fmt: skip


def test_each_type_reads_its_call_and_an_error_code_is_named_never_written(
    tmp_path: Path, library: Path, answers: tuple[Path, dict[str, str]]
) -> None:
    path, env = answers
    path.write_text("GetFrequencyNum 1=281.6303\nGetWavelengthNum 2=994.0068\nAirIndex=1.000273\n"
                    "GetPowerNum 2=153.25\nGetPowerNum 3=-4\nGetExposureNum 2=12\nGetTemperature=24.5\n"
                    "GetPressure=-1005\n")  # fmt: skip
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
    done = once(tmp_path, [meter(library, channels)], env)
    fields = {k: v for line in parse_lines(done.stdout) for k, v in line["fields"].items()}
    assert fields == {"f": 281.6303, "vac": 994.0068, "air": pytest.approx(994.0068 / 1.000273), "p2": 153.25,
                      "exp": 12, "t": 24.5}  # fmt: skip
    assert "GetPowerNum 3: ErrBigSignal (-4)" in done.stderr
    assert "GetPressure: ErrWlmMissing (-1005)" in done.stderr
    assert "GetFrequencyNum 4: ErrNotAvailable (-6)" in done.stderr
    assert done.stderr.count("E! ") == 3, done.stderr


def test_the_older_loggers_entry_reads_unchanged_from_the_library_the_system_finds(
    tmp_path: Path, answers: tuple[Path, dict[str, str]]
) -> None:
    path, env = answers
    path.write_text("GetFrequencyNum 1=281.63\nGetFrequencyNum 2=300.1\n")
    done = once(tmp_path, [OLDER_ENTRY], env)  # no Library: libwlmData.so, found on LD_LIBRARY_PATH
    assert done.returncode == 0, done.stderr
    (line,) = parse_lines(done.stdout)
    assert line["measurement"] == "frequency"
    assert line["tags"] == {"device": "HighFinesse WS/7 wavemeter", "unit": "THz"}
    assert line["fields"] == {"frequency": 281.63}  # switch channel 1, as the older logger read


def test_no_wlm_application_is_one_clear_error(
    tmp_path: Path, library: Path, answers: tuple[Path, dict[str, str]]
) -> None:
    path, env = answers
    path.write_text("Instantiate=0\n")
    done = once(tmp_path, [meter(library, {"f": {"Type": "Frequency", "field-key": "f"}})], env)
    assert done.returncode == 1 and done.stdout == ""
    assert "no WLM application answers the library" in done.stderr and "Traceback" not in done.stderr
    missing = once(tmp_path, [meter(tmp_path / "nowhere.so", {"f": {"Type": "Frequency", "field-key": "f"}})], env)
    assert "cannot load the library" in missing.stderr and missing.returncode == 1


@pytest.mark.parametrize(("mode", "said"), [("hang", "did not answer GetFrequencyNum 1 within 1 s"),
                                            ("crash", "killed by SIGSEGV")])  # fmt: skip
def test_a_hang_or_crash_in_the_library_leaves_the_lab_reading_and_the_meter_comes_back(
    tmp_path: Path, library: Path, answers: tuple[Path, dict[str, str]], mode: str, said: str
) -> None:
    path, env = answers
    path.write_text("GetFrequencyNum 1=281.63\n")
    box = LockboxSimulator().start()
    lockbox = {"Device": "Lockbox", "Model": "rp-lockbox", "Address": "127.0.0.1", "Timeout": 1,
               "SCPIConnectionParams": {"Port": box.port}, "measurement": "lockbox",
               "Channels": {"in1": {"Type": "FastAnalogIn", "DeviceChannel": 1, "field-key": "in1"}}}  # fmt: skip
    config = write_config(tmp_path, [meter(library, {"f": {"Type": "Frequency", "field-key": "f"}}), lockbox])
    exe = ExecdProcess(["run", "--config", str(config)], name="telegraf-lab", env=env)
    try:
        exe.trigger()
        assert {line["measurement"] for line in parse_lines("\n".join(exe.read_lines(2)))} == {"wavemeter", "lockbox"}
        path.write_text(f"mode={mode}\n")
        exe.trigger()
        (line,) = parse_lines("\n".join(exe.read_lines(1)))
        assert line["measurement"] == "lockbox"  # the other device, read as usual
        exe.wait_stderr(said)
        path.write_text("GetFrequencyNum 1=281.64\n")
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
