"""The stub of the vendor's library (stub.c), built once per test run with cc as the vendor names its Linux
build, and the files it answers from and logs its calls to."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from telegraf_inputs.simulators import LateFaults

HERE = Path(__file__).parent


@functools.cache
def build() -> Path:
    """The stub as ``libwlmData.so`` in a folder of its own (for LD_LIBRARY_PATH)."""
    compiler = shutil.which("cc")
    assert compiler is not None, "the tests build a stub of the vendor's library with cc"
    built = Path(tempfile.mkdtemp(prefix="wlm-stub-")) / "libwlmData.so"
    subprocess.run([compiler, "-shared", "-fPIC", "-o", str(built), str(HERE / "stub.c")], check=True)
    return built


class Stub:
    """The stub's answers file and calls log in ``folder``, and the environment pointing the stub at them."""

    def __init__(self, folder: Path) -> None:
        self.library = build()
        self.answers, self.calls = folder / "stub-answers.txt", folder / "stub-calls.txt"
        self.answers.write_text("")
        self.env = {"STUB_ANSWERS": str(self.answers), "STUB_CALLS": str(self.calls),
                    "LD_LIBRARY_PATH": str(self.library.parent)}  # fmt: skip

    def set(self, **answers: float | str) -> None:
        """Write the answers: ``GetFrequencyNum_1=281.5`` stands for ``GetFrequencyNum 1=281.5``."""
        self.answers.write_text("".join(f"{k.replace('_', ' ')}={v}\n" for k, v in answers.items()))

    def called(self) -> list[str]:
        return self.calls.read_text().splitlines() if self.calls.exists() else []

    def delay_next(self, seconds: float) -> None:
        if seconds:
            with self.answers.open("a") as f:
                f.write(f"delay={seconds}\n")

    def pending_delay(self) -> float:
        lines = [line for line in self.answers.read_text().splitlines() if line.startswith("delay=")]
        return float(lines[0].removeprefix("delay=")) if lines else 0.0


class StubFaults(LateFaults):
    """The in-step test's late or stalled reply, as the stub's next Get call returning late (a library call
    has no halves: a stall is a late return too)."""

    stub: Stub

    def __init__(self, stub: Stub) -> None:
        object.__setattr__(self, "stub", stub)

    @property  # type: ignore[override]
    def late_next_s(self) -> float:
        return self.stub.pending_delay()

    @late_next_s.setter
    def late_next_s(self, seconds: float) -> None:
        self.stub.delay_next(seconds)

    stall_next_s = late_next_s  # type: ignore[assignment]


def environment(stub: Stub) -> dict[str, str]:
    return {**os.environ, **stub.env}
