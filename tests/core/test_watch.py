"""`telegraf-lab watch` in a real terminal: tmux runs it, capture-pane reads the screen."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from telegraf_inputs.families.scpi.simulator import ScpiSimulator
from tests.helpers import executable

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (.ci/run installs it)")


@pytest.fixture
def session() -> Iterator[str]:
    name = f"watch-{uuid.uuid4().hex[:8]}"
    yield name
    subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)


def screen(name: str) -> str:
    return subprocess.run(["tmux", "capture-pane", "-p", "-t", name], capture_output=True, text=True).stdout


def wait_screen(name: str, text: str, timeout_s: float = 15) -> str:
    end = time.monotonic() + timeout_s
    shown = ""
    while time.monotonic() < end:
        shown = screen(name)
        if text in shown:
            return shown
        time.sleep(0.2)
    raise AssertionError(f"{text!r} never shown; the screen:\n{shown}")


def test_watch_shows_the_values_updates_them_and_marks_a_failing_device(tmp_path: Path, session: str) -> None:
    cryostat = ScpiSimulator({"KRDG? A": "+077.125"}).start()
    gauge = ScpiSimulator({"PRES?": "+1.5E-06"}).start()
    try:
        entries = [
            {"Device": "cryostat", "Model": "SCPI", "Address": cryostat.address, "Timeout": 0.3,
             "DeviceSpecificParams": {"ErrorQuery": ""},
             "Channels": {"A": {"Query": "KRDG? A", "field-key": "kelvin", "tags": {"unit": "K"}}}},
            {"Device": "gauge", "Model": "SCPI", "Address": gauge.address, "Timeout": 0.3,
             "DeviceSpecificParams": {"ErrorQuery": ""},
             "Channels": {"p": {"Query": "PRES?", "field-key": "pressure", "tags": {"unit": "mbar"}}}},
        ]  # fmt: skip
        config = tmp_path / "devices.json"
        config.write_text(json.dumps(entries))
        command = " ".join([*executable("telegraf-lab"), "watch", "--config", str(config), "--interval", "0.5"])
        subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "160", "-y", "30", command], check=True)
        first = wait_screen(session, "77.125")
        for text in ("cryostat", "kelvin", "gauge", "pressure", "1.5e-06", "mbar", "age"):
            assert text in first, first
        cryostat.answers["KRDG? A"] = "+004.250"  # the next gathers show the new value
        wait_screen(session, "4.25")
        gauge.stop()  # the gauge goes away: its row says why, the cryostat's goes on
        failing = wait_screen(session, "refused")  # the reason, folded into its cell: "Connection refused"
        rows = failing.splitlines()
        at = next(i for i, line in enumerate(rows) if "gauge" in line)
        reason = " ".join(line.split("│")[-2].strip() for line in rows[at : at + 6] if line.count("│") > 2)
        assert "cannot connect" in reason and "Connection refused" in reason, reason
        cryostat.answers["KRDG? A"] = "+005.500"
        wait_screen(session, "5.5")
    finally:
        cryostat.stop()
        gauge.stop()
