"""Part 3: the older logger's loop (rebuilt in older_way.py) against the executables, on the same simulators."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any

from common import API_KEY
from common import DAQ
from common import HERE
from common import PA
from common import SMC
from common import TOKEN
from common import Execd
from common import Rig
from common import Table
from common import daq_entry
from common import lines_at_least
from common import median
from common import ms
from common import pa_entry
from common import smc_entry
from common import task_cpu_ns
from common import us
from common import write_config

# --------------------------------------------------------------------------- 3. the older way


def older_way_loads(rig: Rig, latency: float) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Each load: the device entries per executable (the older way reads them all in one loop)."""
    daq1 = rig("daq", name="older1", scan_s=latency)
    daq2 = rig("daq", name="older2", scan_s=latency)
    chillers = [rig("smc", name=f"older-chiller{i}")["path"] for i in (1, 2)]
    pa = rig("purpleair", name="older-pa", api_key=API_KEY, sensors=[1001, 1002])
    daq = [
        daq_entry("daq1", daq1["address"], range(101, 121)),
        daq_entry("daq2", daq2["address"], range(101, 121)),
    ]
    smc = [smc_entry(f"chiller{i}", path, ["PV1", "SV1"], Timeout=0.2) for i, path in enumerate(chillers, 1)]
    fields = ("0.3_um_count", "pm2.5_atm", "humidity")
    purpleair = [
        pa_entry(
            "outdoor",
            {f"{i}-{f}": (i, f) for i in (1001, 1002) for f in fields},
            DeviceSpecificParams={"BaseURL": pa["base_url"]},
        )
    ]
    return {
        "DAQ: 2 instruments × 20 channels": {DAQ: daq},
        "SMC: 2 chillers × PV1, SV1": {SMC: smc},
        "PurpleAir: 2 sensors × 3 fields": {PA: purpleair},
        "all of the above": {DAQ: daq, SMC: smc, PA: purpleair},
    }


def bench_older_way(rig: Rig, latency: float, cycles: int) -> Table:
    table = Table(
        f"3. The older way (one loop, one HTTP write per value) vs the executables, DAQ L = {latency * 1e3:g} ms, "
        f"{cycles} cycles",
        [
            "load",
            "readings",
            "older cycle median ms",
            "ours median ms",
            "cycle ratio older/ours",
            "older CPU/reading µs",
            "ours CPU/reading µs",
            "CPU ratio",
            "HTTP writes/cycle older",
        ],
    )
    receiver = rig("receiver", token=TOKEN)
    for load, per_exe in older_way_loads(rig, latency).items():
        entries = [e for group in per_exe.values() for e in group]
        readings = sum(len(e["Channels"]) for e in entries)
        before = rig("received", id=receiver["id"])
        run = subprocess.run(
            [sys.executable, str(HERE / "older_way.py"), write_config(entries), receiver["url"], TOKEN, str(cycles)],
            capture_output=True,
            text=True,
            check=True,
        )
        old = json.loads(run.stdout)["cycles"]
        writes = (rig("received", id=receiver["id"])["requests"] - before["requests"]) / cycles
        assert all(c["readings"] == readings for c in old), old
        exes = [
            (Execd(name, write_config(group)), sum(len(e["Channels"]) for e in group))
            for name, group in per_exe.items()
        ]
        try:
            for _ in range(3):
                _multi_gather(exes)
            ours = [_multi_gather(exes) for _ in range(cycles)]
        finally:
            for exe, _ in exes:
                exe.close()
        old_wall = median([c["wall_s"] for c in old])
        old_cpu = median([c["cpu_s"] for c in old]) / readings
        our_wall = median([w for w, _ in ours])
        our_cpu = median([c for _, c in ours]) / readings
        table.rows.append(
            [
                load,
                str(readings),
                ms(old_wall),
                ms(our_wall),
                f"{old_wall / our_wall:.1f}",
                us(old_cpu),
                us(our_cpu),
                f"{old_cpu / our_cpu:.1f}",
                f"{writes:g}",
            ]
        )
    table.notes.append(
        "Ours: the executables of the load triggered together; the cycle ends when the last batch is read. "
        "Their batches go to Telegraf, which writes them in one request per flush, off the gather path. "
        "The older way's chiller reads wait out the port Timeout (0.2 s here, 1 s in the older logger's files) "
        "because `readline()` waits for a newline the chiller never sends."
    )
    return table


def _multi_gather(exes: list[tuple[Execd, int]]) -> tuple[float, float]:
    """Trigger every executable at once; (wall until the last batch, CPU summed over them)."""
    cpu = [task_cpu_ns(exe.pid) for exe, _ in exes]
    start = time.perf_counter()
    for exe, _ in exes:
        exe.trigger()
    for exe, n in exes:
        exe.collect(lines_at_least(n))
    wall = time.perf_counter() - start
    return wall, sum(task_cpu_ns(exe.pid) - c for (exe, _), c in zip(exes, cpu, strict=True)) / 1e9
