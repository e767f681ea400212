"""Part 7: one telegraf-lab process for the lab against one process per family."""

from __future__ import annotations

import json
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

from common import API_KEY
from common import DAQ
from common import LAB
from common import PA
from common import SMC
from common import Checks
from common import Execd
from common import Rig
from common import Table
from common import daq_entry
from common import lines_at_least
from common import median
from common import ms
from common import p99
from common import pa_entry
from common import smc_entry
from common import status_kib
from common import write_config
from lifetime import spawn_once

# --------------------------------------------------------------------------- 7. one process for the lab


def lab_of(rig: Rig, latency: float, suffix: str) -> dict[str, list[dict[str, Any]]]:
    """A lab of every one of the three first families, on simulators of its own (one serial line must not be
    shared by two processes)."""
    daq = rig("daq", name=f"lab-daq{suffix}", scan_s=latency)
    simple = rig("smc", name=f"lab-smc-simple{suffix}", baudrate=19200)["path"]
    modbus = rig("smc", name=f"lab-smc-modbus{suffix}", baudrate=19200, protocol="modbus")["path"]
    cloud = rig("purpleair", name=f"lab-pa{suffix}", api_key=API_KEY, sensors=[1001, 1002])
    line = {"SerialConnectionParams": {"baudrate": 19200, "bytesize": 8, "stopbits": 2, "parity": "N"}}
    return {
        DAQ: [daq_entry("daq", daq["address"], range(101, 121))],
        SMC: [
            smc_entry("chiller-simple", simple, ["PV1", "SV1"], **line),
            smc_entry("chiller-modbus", modbus, ["PV1", "PRESSURE", "STATUS"], protocol="modbus", **line),
        ],
        PA: [
            pa_entry(
                "air",
                {"a": (1001, "pm2.5_atm"), "b": (1001, "humidity"), "c": (1002, "pm2.5_atm")},
                DeviceSpecificParams={"BaseURL": cloud["base_url"]},
            )
        ],
    }


@dataclass
class InTurn:
    """Each process's RSS and CPU per gather, sampled after warming up, and its peak RSS and exit status."""

    rss: dict[str, list[int]] = field(default_factory=dict)
    cpu: dict[str, list[float]] = field(default_factory=dict)
    hwm: dict[str, int] = field(default_factory=dict)
    codes: dict[str, int] = field(default_factory=dict)


def gather_in_turn(processes: dict[str, Execd], want: dict[str, int], gathers: int) -> InTurn:
    """``gathers`` gathers of every process, in turn, so that every process sees the same machine."""
    seen = InTurn({name: [] for name in processes}, {name: [] for name in processes})
    try:
        for i in range(gathers):
            for name, exe in processes.items():
                g = exe.gather(lines_at_least(want[name]))
                if i >= gathers // 5:  # after warming up
                    seen.cpu[name].append(g.cpu_s)
                    if i % 5 == 0 or i == gathers - 1:
                        seen.rss[name].append(status_kib(exe.pid, "VmRSS"))
        seen.hwm = {name: status_kib(exe.pid, "VmHWM") for name, exe in processes.items()}
    finally:
        seen.codes = {name: exe.close() for name, exe in processes.items()}
    return seen


def bench_one_process(
    rig: Rig, latency: float, gathers: int, spawns: int, checks: Checks, judge_time: bool
) -> tuple[Table, Table]:
    """``telegraf-lab run`` for a lab of every family against one process per family, side by side."""
    by_family, for_one = lab_of(rig, latency, "-split"), lab_of(rig, latency, "-one")
    config = write_config([e for entries in by_family.values() for e in entries])
    counts = {name: sum(len(e["Channels"]) for e in entries) for name, entries in by_family.items()}
    one_config = write_config([e for entries in for_one.values() for e in entries])
    processes = {LAB: Execd(LAB, one_config)} | {name: Execd(name, config) for name in by_family}
    want = {LAB: sum(counts.values()), **counts}
    seen = gather_in_turn(processes, want, gathers)
    rss, cpu, hwm = seen.rss, seen.cpu, seen.hwm
    table_a = Table(
        f"7a. One `telegraf-lab` process for the lab against one process per family: {gathers} gathers",
        ["process", "devices", "lines/gather", "RSS median KiB", "peak RSS KiB", "CPU/gather median ms"],
    )
    for name in by_family:
        table_a.rows.append([f"`{name}`", str(len(by_family[name])), str(counts[name]), f"{median(rss[name]):.0f}",
                             str(hwm[name]), ms(median(cpu[name]))])  # fmt: skip
    three_rss = sum(median(rss[name]) for name in by_family)
    three_cpu = sum(median(cpu[name]) for name in by_family)
    table_a.rows.append(["the three side by side", str(sum(len(e) for e in by_family.values())), str(want[LAB]),
                         f"{three_rss:.0f}", str(sum(hwm[name] for name in by_family)), ms(three_cpu)])  # fmt: skip
    table_a.rows.append(
        ["`telegraf-lab run` (all three)", str(len(json.loads(Path(config).read_text()))), str(want[LAB]),
         f"{median(rss[LAB]):.0f}", str(hwm[LAB]), ms(median(cpu[LAB]))]
    )  # fmt: skip
    ratio = median(rss[LAB]) / three_rss
    peak_ratio = hwm[LAB] / sum(hwm[n] for n in by_family)
    table_a.rows.append(
        ["ratio one / three", "", "", f"{ratio:.2f}", f"{peak_ratio:.2f}", f"{median(cpu[LAB]) / three_cpu:.2f}"]
    )
    checks.add(
        "one process: RSS of telegraf-lab ≤ 60 % of the three per-family processes", ratio <= 0.60, f"{ratio:.2f}"
    )
    checks.add("one process: every process exits 0 when stdin closes", set(seen.codes.values()) == {0},
               str(seen.codes))  # fmt: skip
    return table_a, bench_start_up(by_family[DAQ], latency, spawns, checks, judge_time)


def bench_start_up(daq: list[dict[str, Any]], latency: float, spawns: int, checks: Checks, judge_time: bool) -> Table:
    """7b: ``--once`` of telegraf-lab against the family's own command, on one DAQ970A."""
    one_daq = write_config(daq)
    walls: dict[str, list[float]] = {LAB: [], DAQ: []}
    for _ in range(spawns):  # alternate, so that both see the same machine
        for name in walls:
            wall, _, lines = spawn_once(one_daq, name)
            assert lines == 20
            walls[name].append(wall)
    table_b = Table(
        f"7b. Start-up: `--once` on one DAQ970A (20 channels, L = {latency * 1e3:g} ms), {spawns} runs each, in turn",
        ["command", "wall median ms", "p99 ms"],
    )
    table_b.rows.append(["`telegraf-lab run --once`", ms(median(walls[LAB])), ms(p99(walls[LAB]))])
    table_b.rows.append(["`telegraf-daq970a --once`", ms(median(walls[DAQ])), ms(p99(walls[DAQ]))])
    start_ratio = median(walls[LAB]) / median(walls[DAQ])
    table_b.rows.append(["ratio", f"{start_ratio:.2f}", ""])
    if judge_time:  # a few runs of a --quick smoke run say nothing about time
        checks.add(
            "one process: telegraf-lab --once start-up within 10 % of telegraf-daq970a --once",
            start_ratio <= 1.10,
            f"{start_ratio:.2f}",
        )
    return table_b
