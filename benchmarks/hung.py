"""Part 8: a hung instrument beside a healthy one."""

from __future__ import annotations

import time

from common import DAQ
from common import Checks
from common import Execd
from common import Rig
from common import Table
from common import daq_entry
from common import median
from common import ms
from common import p99
from common import write_config

# --------------------------------------------------------------------------- 8. a hung device beside a healthy one


def bench_hung_device(rig: Rig, latency: float, gathers: int, checks: Checks, judge_time: bool) -> Table:
    """The healthy device's trigger-to-line latency, with and without a hung instrument in the same process."""
    healthy = rig("daq", name="hung-healthy", scan_s=latency)
    hung = rig("daq", name="hung-silent")
    rig("fault", name="hung-silent", silent=True)  # accepts the connection, never answers
    alone = write_config([daq_entry("healthy", healthy["address"], range(101, 121))])
    beside = write_config(
        [
            daq_entry("healthy", healthy["address"], range(101, 121)),
            daq_entry("hung", hung["address"], [101], Timeout=2000),
        ]
    )
    runs = {"alone": Execd(DAQ, alone), "beside a hung instrument": Execd(DAQ, beside)}
    walls: dict[str, list[float]] = {name: [] for name in runs}
    try:
        for i in range(gathers + 3):  # in turn; triggered every 0.25 s, faster than the hung one's Timeout of 2 s
            for name, exe in runs.items():
                started = time.monotonic()
                g = exe.gather(lambda lines: sum("device=healthy" in line for line in lines) >= 20)
                if i >= 3:
                    walls[name].append(g.wall_s - latency)
                time.sleep(max(0.0, 0.125 - (time.monotonic() - started)))
    finally:
        for exe in runs.values():
            exe.close()
    table = Table(
        f"8. A hung instrument beside a healthy one (20 channels, L = {latency * 1e3:g} ms): {gathers} gathers",
        ["healthy device", "trigger to its lines − L, median ms", "p99 ms"],
    )
    for name, values in walls.items():
        table.rows.append([name, ms(median(values)), ms(p99(values))])
    ratio = p99(walls["beside a hung instrument"]) / p99(walls["alone"])
    median_ratio = median(walls["beside a hung instrument"]) / median(walls["alone"])
    table.rows.append(["ratio beside / alone", f"{median_ratio:.2f}", f"{ratio:.2f}"])
    if judge_time:  # a --quick smoke run measures too few gathers to judge
        checks.add("hung instrument: the healthy device's p99 latency within 2x of alone", ratio <= 2, f"{ratio:.2f}")
    return table
