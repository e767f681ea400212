"""Part 11: nothing spent while idle."""

from __future__ import annotations

import os
import time

from common import LAB
from common import Checks
from common import Execd
from common import Rig
from common import Table
from common import daq_entry
from common import lines_at_least
from common import process_cpu_s
from common import write_config

# --------------------------------------------------------------------------- 11. nothing spent while idle


def bench_idle(rig: Rig, window_s: float, checks: Checks) -> Table:
    """CPU of the process while no gather is asked for (Telegraf's interval 1 h): it should sleep."""
    table = Table(
        f"11. Idle: CPU of the process over {window_s:g} s with no gather asked for (interval 1 h)",
        ["lab", "CPU ms per second idle", "after one gather"],
        notes=["The main loop waits on events: a trigger, a stop, stdout gone, or the next deadline of a read in "
               "progress. Before that change it woke every 50 ms: 2 ms of CPU per second here."],
    )  # fmt: skip
    sims = [rig("daq", name=f"idle{i}", scan_s=0.0) for i in range(3)]
    config = write_config([daq_entry(f"daq{i}", sims[i]["address"], [101, 102]) for i in range(3)])
    exe = Execd(LAB, config, "--health")
    try:
        time.sleep(1.0)
        before = process_cpu_s(exe.pid)
        time.sleep(window_s)
        idle = (process_cpu_s(exe.pid) - before) / window_s
        exe.gather(lines_at_least(9))
        time.sleep(0.5)
        before = process_cpu_s(exe.pid)
        time.sleep(window_s)
        after = (process_cpu_s(exe.pid) - before) / window_s
    finally:
        exe.close()
    table.rows.append(["3 DAQs, 6 channels, --health", f"{idle * 1e3:.2f}", f"{after * 1e3:.2f}"])
    resolution = 1 / os.sysconf("SC_CLK_TCK") / window_s
    checks.add("idle: no CPU while no gather is asked for", max(idle, after) <= resolution + 1e-9,
               f"{max(idle, after) * 1e3:.2f} ms/s, resolution {resolution * 1e3:.2f} ms/s")  # fmt: skip
    return table
