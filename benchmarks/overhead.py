"""Parts 1 and 2: what a gather costs beyond the instrument's own time, with 1 to 120 channels, and devices
on separate connections read side by side."""

from __future__ import annotations

import socket
import time

from common import CHANNELS_120
from common import DAQ
from common import SLOTS_OF_40
from common import Execd
from common import Rig
from common import Table
from common import daq_entry
from common import lines_at_least
from common import median
from common import ms
from common import p99
from common import us
from common import write_config

# --------------------------------------------------------------------------- 1. overhead per gather


def bench_overhead(rig: Rig, latency: float, gathers: int) -> Table:
    table = Table(
        f"1. Overhead per gather, DAQ970A, L = {latency * 1e3:g} ms, {gathers} gathers",
        [
            "channels",
            "wall − L median ms",
            "wall − L p99 ms",
            "raw client − L median ms",
            "wall / raw client",
            "CPU/gather median ms",
            "CPU/gather p99 ms",
            "CPU per channel µs",
        ],
    )
    for n in (1, 20, 120):
        sim = rig("daq", name=f"overhead{n}", modules=SLOTS_OF_40, scan_s=latency)
        config = write_config([daq_entry("daq", sim["address"], CHANNELS_120[:n])])
        exe = Execd(DAQ, config)
        try:
            for _ in range(5):
                exe.gather(lines_at_least(n))
            with socket.create_connection(("127.0.0.1", sim["port"])) as raw:
                reader = raw.makefile("rb")
                walls, cpus, raws = [], [], []
                for _ in range(gathers):
                    g = exe.gather(lines_at_least(n))
                    assert len(g.lines) == n, g.lines
                    walls.append(g.wall_s)
                    cpus.append(g.cpu_s)
                    # the same scan, read by the thinnest client possible: one send, one line back
                    start = time.perf_counter()
                    raw.sendall(b"READ?\n")
                    reader.readline()
                    raws.append(time.perf_counter() - start)
        finally:
            exe.close()
        over = [w - latency for w in walls]
        table.rows.append(
            [
                str(n),
                ms(median(over)),
                ms(p99(over)),
                ms(median(raws) - latency),
                f"{median(walls) / median(raws):.2f}",
                ms(median(cpus)),
                ms(p99(cpus)),
                us(median(cpus) / n),
            ]
        )
    table.notes.append(
        "The raw client sends `READ?` on its own socket and reads the reply line: what any client must wait for. "
        "Both are measured in alternation against the same simulated instrument."
    )
    return table


# --------------------------------------------------------------------------- 2. parallel devices


def bench_parallel(rig: Rig, latency: float, gathers: int) -> Table:
    table = Table(
        f"2. Devices on separate connections, each read taking L = {latency * 1e3:g} ms, {gathers} gathers",
        ["devices K", "gather wall / L median", "gather wall / L p99", "a sequential loop would take"],
    )
    sims = [rig("daq", name=f"parallel{i}", scan_s=latency) for i in range(8)]
    for k in (1, 2, 4, 8):
        config = write_config([daq_entry(f"daq{i}", sims[i]["address"], [101]) for i in range(k)])
        exe = Execd(DAQ, config)
        try:
            for _ in range(3):
                exe.gather(lines_at_least(k))
            walls = [exe.gather(lines_at_least(k)).wall_s / latency for _ in range(gathers)]
        finally:
            exe.close()
        table.rows.append([str(k), f"{median(walls):.2f}", f"{p99(walls):.2f}", f"{k:.2f}"])
    return table
