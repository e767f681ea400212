"""Parts 4 and 5: execd against spawning --once per interval, start-up, and a long-running executable's
memory and descriptors."""

from __future__ import annotations

import resource
import subprocess
import sys
import time

from common import DAQ
from common import LAB
from common import Checks
from common import Execd
from common import Footprint
from common import Rig
from common import Table
from common import daq_entry
from common import executable
from common import lines_at_least
from common import median
from common import ms
from common import process_cpu_s
from common import status_kib
from common import write_config

# --------------------------------------------------------------------------- 4 and 5. execd vs --once, start-up


def spawn_once(config: str, name: str = DAQ) -> tuple[float, float, int]:
    """Run ``--once``; (wall, CPU of the child, lines printed)."""
    command = [executable(name), *(["run"] if name == LAB else []), "--config", config, "--once"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    run = subprocess.run(command, capture_output=True, stdin=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if run.returncode != 0:
        raise RuntimeError(f"--once failed: {run.stderr.decode()[-500:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, len(run.stdout.splitlines())


def bench_execd_vs_once(rig: Rig, latency: float, spawns: int) -> tuple[Table, Table]:
    sim = rig("daq", name="once", scan_s=latency)
    config = write_config([daq_entry("daq", sim["address"], range(101, 121))])
    exe = Execd(DAQ, config)
    execd_walls, execd_cpus, once_walls, once_cpus = [], [], [], []
    try:
        for _ in range(3):
            exe.gather(lines_at_least(20))
        for _ in range(spawns):  # alternate, so that both see the same machine
            wall, cpu, lines = spawn_once(config)
            assert lines == 20
            once_walls.append(wall)
            once_cpus.append(cpu)
            for _ in range(5):
                g = exe.gather(lines_at_least(20))
                execd_walls.append(g.wall_s)
                execd_cpus.append(g.cpu_s)
    finally:
        exe.close()
    table4 = Table(
        f"4. execd vs spawning `--once` per interval, DAQ970A 20 channels, L = {latency * 1e3:g} ms",
        ["mode", "wall/gather median ms", "CPU/gather median ms", "samples"],
    )
    table4.rows.append(
        [
            "execd (one process, a newline per gather)",
            ms(median(execd_walls)),
            ms(median(execd_cpus)),
            str(len(execd_walls)),
        ]
    )
    table4.rows.append(["`--once` spawned per gather", ms(median(once_walls)), ms(median(once_cpus)), str(spawns)])
    table4.rows.append(
        [
            "ratio once / execd",
            f"{median(once_walls) / median(execd_walls):.1f}",
            f"{median(once_cpus) / median(execd_cpus):.1f}",
            "",
        ]
    )
    python_start = []
    for _ in range(max(3, spawns // 2)):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        python_start.append(time.perf_counter() - start)
    table5 = Table(
        "5a. Start-up: `--once` against a running simulator",
        ["what", "wall median ms"],
    )
    table5.rows.append(["`python -c pass` (the interpreter alone)", ms(median(python_start))])
    table5.rows.append(["`telegraf-daq970a --once`, 20 channels, minus L", ms(median(once_walls) - latency)])
    table5.rows.append(["ratio", f"{(median(once_walls) - latency) / median(python_start):.1f}"])
    return table4, table5


def bench_long_run(rig: Rig, gathers: int, checks: Checks) -> Table:
    sim = rig("daq", name="long")
    config = write_config([daq_entry("daq", sim["address"], range(101, 121))])
    exe = Execd(DAQ, config)
    footprint = Footprint()
    try:
        for i in range(gathers):
            exe.gather(lines_at_least(20))
            footprint.sample(exe.pid, i, gathers)
        hwm = status_kib(exe.pid, "VmHWM")
        cpu = process_cpu_s(exe.pid)
    finally:
        code = exe.close()
    window = Footprint.window(gathers)
    table = Table(
        f"5b. A long-running DAQ970A executable (20 channels, L = 0): {gathers} gathers",
        ["", f"first {window} gathers", f"last {window} gathers", "growth"],
    )
    compared = footprint.compare(gathers)
    assert compared is not None
    rss_first, rss_last, fds_first, fds_last = compared
    table.rows.append(["RSS median KiB", f"{rss_first:.0f}", f"{rss_last:.0f}", f"{rss_last - rss_first:+.0f}"])
    table.rows.append(["open fds max", str(fds_first), str(fds_last), ""])
    table.notes.append(
        f"Peak RSS (VmHWM) after {gathers} gathers: {hwm} KiB; CPU in all: {cpu:.1f} s; exit status {code}."
    )
    footprint.check(checks, "long run", gathers)
    checks.add("long run: exit 0 when stdin closes", code == 0, f"exit status {code}")
    return table
