"""What a gather costs, side by side, and how it scales.  One command:

    python benchmarks/run.py            # the full suite, about 25 minutes on 2 cores
    python benchmarks/run.py --quick    # every part with small counts (a smoke run)

Every part runs the installed executables as Telegraf runs them (a newline on
stdin per gather, line protocol back on stdout) against the package's own
simulators, which run in a separate process (rig.py) with a configured device
latency L.  Results are printed as Markdown tables; ``--write-readme`` also
puts them into benchmarks/README.md.  The exit status is 1 if a check failed
(the soak's correctness checks, memory or descriptors growing).

CPU time of an executable is read from /proc: per gather, the sum over its
threads of /proc/PID/task/*/schedstat (nanoseconds of run time); for a whole
process, utime + stime.  Wall time is taken in this process, from just before
the trigger newline is written to just after the batch's last byte is read.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import random
import re
import resource
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common import (
    API_KEY,
    CHANNELS_120,
    CONFIGS,
    DAQ,
    HERE,
    LAB,
    PA,
    SLOTS_OF_40,
    SMC,
    TOKEN,
    Checks,
    Execd,
    Rig,
    Table,
    daq_entry,
    executable,
    lines_at_least,
    median,
    ms,
    open_fds,
    p99,
    pa_entry,
    process_cpu_s,
    smc_entry,
    status_kib,
    task_cpu_ns,
    us,
    write_config,
)
from families import bench_families
from footprint import bench_fixed_cost, bench_memory
from line_protocol_parser import parse_line
from native import bench_native

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


@dataclass
class Footprint:
    """A process's RSS and open descriptors, sampled every 10 gathers, first window against last."""

    samples: list[tuple[int, int, int]] = field(default_factory=list)  # (gather, RSS KiB, fds)

    def sample(self, pid: int, i: int, gathers: int) -> None:
        if i % 10 == 0 or i == gathers - 1:
            self.samples.append((i, status_kib(pid, "VmRSS"), open_fds(pid)))

    @staticmethod
    def window(gathers: int) -> int:
        return min(1000, max(10, gathers // 10))

    def compare(self, gathers: int) -> tuple[float, float, int, int] | None:
        """(median RSS first, median RSS last, max fds first, max fds last), or None without samples."""
        window = self.window(gathers)
        first = [s for s in self.samples if s[0] < window]
        last = [s for s in self.samples if s[0] >= gathers - window]
        if not first or not last:
            return None
        return (
            median([r for _, r, _ in first]),
            median([r for _, r, _ in last]),
            max(f for _, _, f in first),
            max(f for _, _, f in last),
        )

    def check(self, checks: Checks, what: str, gathers: int) -> None:
        compared = self.compare(gathers)
        if compared is None or gathers < 2000:
            return  # too short to tell a leak from warming up
        rss_first, rss_last, fds_first, fds_last = compared
        growth = rss_last - rss_first
        checks.add(f"{what}: RSS flat (median growth ≤ 1024 KiB)", growth <= 1024, f"{growth:+.0f} KiB")
        checks.add(f"{what}: open fds flat", fds_last <= fds_first, f"{fds_first} -> {fds_last}")


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


# --------------------------------------------------------------------------- 7. one process for the lab


def bench_one_process(
    rig: Rig, latency: float, gathers: int, spawns: int, checks: Checks, judge_time: bool
) -> tuple[Table, Table]:
    """``telegraf-lab run`` for a lab of every family against one process per family, side by side."""

    def lab(suffix: str) -> dict[str, list[dict[str, Any]]]:
        """A lab of its own (one serial line must not be shared by two processes)."""
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

    by_family, for_one = lab("-split"), lab("-one")
    config = write_config([e for entries in by_family.values() for e in entries])
    counts = {name: sum(len(e["Channels"]) for e in entries) for name, entries in by_family.items()}
    one_config = write_config([e for entries in for_one.values() for e in entries])
    processes = {LAB: Execd(LAB, one_config)} | {name: Execd(name, config) for name in by_family}
    want = {LAB: sum(counts.values()), **counts}
    rss: dict[str, list[int]] = {name: [] for name in processes}
    cpu: dict[str, list[float]] = {name: [] for name in processes}
    try:
        for i in range(gathers):  # in turn, so that every process sees the same machine
            for name, exe in processes.items():
                g = exe.gather(lines_at_least(want[name]))
                if i >= gathers // 5:  # after warming up
                    cpu[name].append(g.cpu_s)
                    if i % 5 == 0 or i == gathers - 1:
                        rss[name].append(status_kib(exe.pid, "VmRSS"))
        hwm = {name: status_kib(exe.pid, "VmHWM") for name, exe in processes.items()}
    finally:
        codes = {name: exe.close() for name, exe in processes.items()}
    table_a = Table(
        f"7a. One `telegraf-lab` process for the lab against one process per family: {gathers} gathers",
        ["process", "devices", "lines/gather", "RSS median KiB", "peak RSS KiB", "CPU/gather median ms"],
    )
    for name in by_family:
        table_a.rows.append(
            [
                f"`{name}`",
                str(len(by_family[name])),
                str(counts[name]),
                f"{median(rss[name]):.0f}",
                str(hwm[name]),
                ms(median(cpu[name])),
            ]
        )
    three_rss = sum(median(rss[name]) for name in by_family)
    three_cpu = sum(median(cpu[name]) for name in by_family)
    table_a.rows.append(
        [
            "the three side by side",
            str(sum(len(e) for e in by_family.values())),
            str(want[LAB]),
            f"{three_rss:.0f}",
            str(sum(hwm[name] for name in by_family)),
            ms(three_cpu),
        ]
    )
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
    checks.add("one process: every process exits 0 when stdin closes", set(codes.values()) == {0}, str(codes))

    one_daq = write_config(by_family[DAQ])
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
    return table_a, table_b


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


# --------------------------------------------------------------------------- 9. HTTPS: keep-alive


def self_signed_certificate(folder: str) -> tuple[str, str]:
    """A certificate for 127.0.0.1 and its key, made here (files in ``folder``)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(__import__("ipaddress").ip_address("127.0.0.1"))]),
                       critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    cert_file, key_file = os.path.join(folder, "cert.pem"), os.path.join(folder, "key.pem")
    with open(cert_file, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_file, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))  # fmt: skip
    return cert_file, key_file


def bench_https(rig: Rig, gathers: int, checks: Checks) -> Table:
    """PurpleAir over HTTPS: one kept-alive connection against a new connection (and TLS handshake) per gather."""
    cert, key = self_signed_certificate(CONFIGS.name)
    env = {**os.environ, "REQUESTS_CA_BUNDLE": cert}  # the executable trusts the certificate made here
    env.pop("HTTPS_PROXY", None), env.pop("https_proxy", None)
    sensors = [1001, 1002, 1003]
    runs: dict[str, Execd] = {}
    names = {"keep-alive (one connection)": "https-keep", "a new connection per gather": "https-close"}
    for label, sim in names.items():
        api = rig("purpleair", name=sim, api_key=API_KEY, sensors=sensors, tls=[cert, key],
                  keep_alive=label.startswith("keep"))  # fmt: skip
        channels = {f"s{i}": (i, "pm2.5_atm") for i in sensors}
        config = write_config([pa_entry("air", channels, DeviceSpecificParams={"BaseURL": api["base_url"]})])
        runs[label] = Execd(PA, config, env=env)
    walls: dict[str, list[float]] = {label: [] for label in runs}
    cpus: dict[str, list[float]] = {label: [] for label in runs}
    try:
        for i in range(gathers + 3):
            for label, exe in runs.items():  # in turn, so that both see the same machine
                g = exe.gather(lines_at_least(len(sensors)), timeout=20)
                if i >= 3:
                    walls[label].append(g.wall_s)
                    cpus[label].append(g.cpu_s)
        connections = {label: rig("connections", name=names[label]) for label in runs}
    finally:
        for exe in runs.values():
            exe.close()
    table = Table(
        f"9. PurpleAir over HTTPS on 127.0.0.1 (self-signed certificate, 3 sensors): {gathers} gathers",
        ["connection", "wall/gather median ms", "CPU/gather median ms", "connections opened"],
    )
    for label in runs:
        table.rows.append([label, ms(median(walls[label])), ms(median(cpus[label])), str(connections[label])])
    keep, new = runs
    cpu_ratio = median(cpus[new]) / median(cpus[keep])
    table.rows.append(
        ["ratio new / keep-alive", f"{median(walls[new]) / median(walls[keep]):.2f}", f"{cpu_ratio:.2f}", ""]
    )
    checks.add("https: one connection kept alive through every gather", connections[keep] == 1, str(connections[keep]))
    return table


# --------------------------------------------------------------------------- 6. the soak

Pairs = set[tuple[str, str]]  # (device, channel tag) that must not be emitted


@dataclass
class Target:
    """One simulator, that is one connection, of a soaked executable."""

    sim: str
    devices: dict[str, list[str]]  # device -> its channel tags, in the order they are read
    faults: dict[str, Callable[[Rig, Target, random.Random], Pairs]]
    first_exchange: list[str] = field(default_factory=list)  # channels a one-reply fault spoils (serial)

    def every(self) -> Pairs:
        return {(d, ch) for d, chs in self.devices.items() for ch in chs}

    def first_device(self) -> Pairs:
        d, chs = next(iter(self.devices.items()))
        return {(d, ch) for ch in chs}

    def exchange(self) -> Pairs:
        d = next(iter(self.devices))
        return {(d, ch) for ch in self.first_exchange}


def setting(hits: Callable[[Target], Pairs], **faults: Any) -> Callable[[Rig, Target, random.Random], Pairs]:
    def apply(rig: Rig, t: Target, rng: random.Random) -> Pairs:
        rig("fault", name=t.sim, **faults)
        return hits(t)

    return apply


def daq_overload(rig: Rig, t: Target, rng: random.Random) -> Pairs:
    device, chs = next(iter(t.devices.items()))
    ch = rng.choice(chs)
    rig("fault", name=t.sim, overload=[int(ch.removeprefix("ch"))])
    return {(device, ch)}


def serial_unplugged(rig: Rig, t: Target, rng: random.Random) -> Pairs:
    rig("vanish", name=t.sim)
    return t.every()


DEADLINE = 0.3  # per device in the soak; the faults that pass it take 0.2 s longer


def soak_daq(rig: Rig) -> tuple[list[dict[str, Any]], list[Target]]:
    a, b = rig("daq", name="soak-daq-a"), rig("daq", name="soak-daq-b")
    canary = rig("daq", name="soak-daq-canary")
    extra = {"Timeout": 400, "Deadline": DEADLINE}
    entries = [
        daq_entry("daq-a1", a["address"], range(101, 106), **extra),
        daq_entry("daq-a2", a["address"], range(201, 206), **extra),  # the same instrument, other channels
        daq_entry("daq-b", b["address"], range(101, 121), **extra),
        daq_entry("zz-canary", canary["address"], [101], **extra),
    ]
    targets = []
    for sim, names in (("soak-daq-a", ["daq-a1", "daq-a2"]), ("soak-daq-b", ["daq-b"])):
        devices = {
            e["Device"]: [c["tags"]["ch"] for c in e["Channels"].values()] for e in entries if e["Device"] in names
        }
        faults = {
            "reply delayed past the deadline": setting(Target.every, delay_s=DEADLINE * len(names) + 0.2),
            "connection dropped": setting(Target.first_device, drop_next=True),
            "garbled reply": setting(Target.first_device, garble_next=True),
            "READ? refused with an error": setting(Target.first_device, error_on_read=[-222, "Data out of range"]),
            "overload on one channel": daq_overload,
            "endless reply": setting(Target.first_device, endless_next=True),
            "drip-fed reply": setting(Target.first_device, drip_next=0.05),
            "hung instrument (never answers)": setting(Target.every, silent=True),
            # one reply later than Timeout (400 ms), or stopping halfway for as long: nothing that comes after
            # may be read as the answer to a later question
            "reply late, past Timeout": setting(Target.first_device, late_next_s=0.6),
            "reply stalled halfway, past Timeout": setting(Target.first_device, stall_next_s=0.6),
        }
        targets.append(Target(sim, devices, faults))
    return entries, targets


def soak_smc(rig: Rig) -> tuple[list[dict[str, Any]], list[Target]]:
    line = {"baudrate": 19200, "bytesize": 8, "stopbits": 2, "parity": "N"}
    a = rig("smc", name="soak-smc-a", baudrate=19200, bcc=True)["path"]
    b = rig("smc", name="soak-smc-b", baudrate=19200, protocol="modbus")["path"]
    canary = rig("smc", name="soak-smc-canary", baudrate=19200)["path"]
    extra = {"SerialConnectionParams": line, "Deadline": DEADLINE}
    entries = [
        smc_entry("chiller-a", a, ["PV1", "SV1"], DeviceSpecificParams={"BCC": True}, **extra),
        smc_entry("chiller-b", b, ["PV1", "PRESSURE", "STATUS", "SV1"], protocol="modbus", **extra),
        smc_entry("zz-canary", canary, ["PV1"], **extra),
    ]
    one_reply = {
        "NAK reply": setting(Target.exchange, nak_next="2"),
        "garbled reply (a bit flipped)": setting(Target.exchange, garble_next=True),
        "bad BCC/CRC": setting(Target.exchange, bad_check_next=True),
        "reply from another station": setting(Target.exchange, wrong_station_next=True),
        "reply cut short": setting(Target.exchange, truncate_next=True),
        "no reply (chiller off)": setting(Target.every, silent=True),
        "reply delayed past the deadline": setting(Target.every, delay_s=DEADLINE + 0.2),
        "USB adapter unplugged": serial_unplugged,
        "reply late, past Timeout": setting(Target.every, late_next_s=1.5),
        "reply stalled halfway, past Timeout": setting(Target.every, stall_next_s=1.5),
    }
    return entries, [
        Target("soak-smc-a", {"chiller-a": ["PV1", "SV1"]}, one_reply, ["PV1"]),
        Target(
            "soak-smc-b", {"chiller-b": ["PV1", "PRESSURE", "STATUS", "SV1"]}, one_reply, ["PV1", "PRESSURE", "STATUS"]
        ),
    ]


def soak_purpleair(rig: Rig) -> tuple[list[dict[str, Any]], list[Target]]:
    cloud = rig("purpleair", name="soak-pa-cloud", api_key=API_KEY, sensors=[1001, 1002])
    lan = rig("purpleair", name="soak-pa-lan", api_key=API_KEY, sensors=[2001])
    canary = rig("purpleair", name="soak-pa-canary", api_key=API_KEY, sensors=[3001])
    extra = {"Timeout": 1, "Deadline": DEADLINE}
    cloud_channels = {"s1-pm": (1001, "pm2.5_atm"), "s1-rh": (1001, "humidity"), "s2-pm": (1002, "pm2.5_atm")}
    lan_channels = {"count": (0, "0.3_um_count"), "pm": (0, "pm2.5_atm")}
    entries = [
        pa_entry("pa-cloud", cloud_channels, DeviceSpecificParams={"BaseURL": cloud["base_url"]}, **extra),
        pa_entry("pa-lan", lan_channels, Address=lan["lan"]["2001"], **extra),
        pa_entry(
            "zz-canary", {"pm": (3001, "pm2.5_atm")}, DeviceSpecificParams={"BaseURL": canary["base_url"]}, **extra
        ),
    ]
    for entry in entries[1:2]:
        for ch in entry["Channels"].values():
            del ch["PurpleAirSensorIndex"]
    faults = {
        "HTTP 500": setting(Target.every, status=500, status_count=1),
        "HTTP 503": setting(Target.every, status=503, status_count=1),
        "HTTP 403 (key refused)": setting(Target.every, status=403, status_count=1),
        "reply that is not JSON": setting(Target.every, bad_json_next=True),
        "reply delayed past the deadline": setting(Target.every, delay_s=DEADLINE + 0.2),
        "endless body": setting(Target.every, endless_next=True),
        "drip-fed body": setting(Target.every, drip_next=0.05),
        "redirect to another origin": setting(Target.every, redirect_to="http://127.0.0.1:9/v1"),
        "HTTP 500 with a 100 KB error text": setting(Target.every, status=500, status_count=1, error_text_size=100_000),
        "reply late, past Timeout": setting(Target.every, late_next_s=1.5),
        "reply stalled halfway, past Timeout": setting(Target.every, stall_next_s=1.5),
    }
    return entries, [
        Target("soak-pa-cloud", {"pa-cloud": list(cloud_channels)}, faults),
        Target("soak-pa-lan", {"pa-lan": list(lan_channels)}, faults),
    ]


@dataclass
class SoakResult:
    name: str
    gathers: int = 0
    seconds: float = 0.0
    faults: Counter[str] = field(default_factory=Counter)
    lines: int = 0
    invalid: list[str] = field(default_factory=list)
    leaked: list[str] = field(default_factory=list)  # values emitted for a read that failed
    stale: list[str] = field(default_factory=list)  # time stamps outside the gather
    footprint: Footprint = field(default_factory=Footprint)
    exit_code: int | None = None
    errors_logged: int = 0
    warnings_logged: int = 0
    tracebacks: int = 0
    longest_log_line: int = 0
    crash: str = ""


def soak_one(
    rig: Rig, exe_name: str, spec: tuple[list[dict[str, Any]], list[Target]], gathers: int, seed: int, rate: float
) -> SoakResult:
    entries, targets = spec
    result = SoakResult(exe_name)
    rng = random.Random(seed)
    exe = Execd(exe_name, write_config(entries))

    # Each device's lines come out as soon as it is read, in no fixed order: a gather is complete when
    # every line that should come has come.  One that does not (a connection failing on its own, or
    # still reopening) is waited for a bounded time; such a connection is then left out of the faults.
    expected: Pairs = set()

    def pairs(lines: list[str]) -> Pairs:
        out = set()
        for line in lines:
            tags = dict(t.split("=", 1) for t in line.split(" ", 1)[0].split(",")[1:] if "=" in t)
            out.add((tags.get("device"), tags.get("ch")))
        return out

    def done(lines: list[str]) -> bool:
        return expected <= pairs(lines)

    canary = {
        (e["Device"], ch["tags"]["ch"]) for e in entries if e["Device"] == "zz-canary" for ch in e["Channels"].values()
    }
    wait_s = 3 * DEADLINE + 1

    # Stamps must fall within their gather; PurpleAir's are the sensor's last_seen, up to minutes old.
    slack_ns = 600 * 10**9 if exe_name == PA else 10**6
    start = time.monotonic()
    try:
        expected = canary | {p for t in targets for p in t.every()}
        for _ in range(100):  # until every connection is open and read
            warm = exe.gather(done, wait_s, strict=False, settle=DEADLINE * 3)
            previous_start_ns = warm.started_ns
            present = pairs(warm.lines)
            healthy = {t.sim: t.every() <= present for t in targets}
            if all(healthy.values()):
                break
        for i in range(gathers):
            injected: dict[str, Pairs] = {}
            names: dict[str, str] = {}
            for t in targets:
                if healthy[t.sim]:
                    if rng.random() < rate:
                        name = rng.choice(sorted(t.faults))
                        injected[t.sim] = t.faults[name](rig, t, rng)
                        names[t.sim] = name
                        result.faults[name] += 1
            expected = canary | {p for t in targets if healthy[t.sim] for p in t.every()}
            expected -= {p for absent in injected.values() for p in absent}
            # a faulted read must end, or pass its deadline (after which its result is dropped), before the
            # fault is switched off: the gather lasts that long
            settle = max((DEADLINE * len(t.devices) + 0.1 for t in targets if t.sim in injected), default=0.0)
            g = exe.gather(done, wait_s, strict=False, settle=settle)
            # A connection that came back incomplete may still be reading: it too gets its deadline before the
            # next trigger, so that no read of an earlier trigger is in flight when a fault is switched on.
            late = max((DEADLINE * len(t.devices) + 0.1 for t in targets if not t.every() <= pairs(g.lines)),
                       default=0.0)  # fmt: skip
            if late > settle:
                g.lines += exe.collect(lambda lines: True, settle=late - (time.time_ns() - g.started_ns) / 1e9)
                g.ended_ns = time.time_ns()
            present = set()
            for line in g.lines:
                result.lines += 1
                try:
                    parsed = parse_line(line)
                except Exception as exc:  # the parser's LineFormatError
                    result.invalid.append(f"{line!r}: {exc}")
                    continue
                pair = (parsed["tags"].get("device"), parsed["tags"].get("ch"))
                present.add(pair)
                # a line comes out when its device has been read: a connection that was left out of the
                # gather before (failing, reopening) may still deliver that gather's read in this one
                if not previous_start_ns - slack_ns <= parsed["time"] <= g.ended_ns:
                    age = (g.started_ns - parsed["time"]) / 1e6
                    result.stale.append(
                        f"gather {i} ({age:.0f} ms before its trigger; after {names or 'no fault'}): {line}"
                    )
            for sim, absent in injected.items():
                for pair in sorted(absent & present):
                    result.leaked.append(f"gather {i}: {pair} emitted although its read was spoiled ({names[sim]})")
                rig("clear", name=sim)
            for t in targets:
                healthy[t.sim] = t.every() <= present
            previous_start_ns = g.started_ns
            result.footprint.sample(exe.pid, i, gathers)
            result.gathers += 1
    except Exception as exc:  # a crash or a hang: reported as the soak's failure
        result.crash = f"after {result.gathers} gathers: {exc}"
    finally:
        result.seconds = time.monotonic() - start
        result.exit_code = exe.close()
        time.sleep(0.1)
        result.errors_logged = sum(line.startswith("E! ") for line in exe.stderr)
        result.warnings_logged = sum(line.startswith("W! ") for line in exe.stderr)
        result.tracebacks = sum("Traceback" in line for line in exe.stderr)
        result.longest_log_line = max((len(line.encode()) for line in exe.stderr), default=0)
    return result


def bench_soak(rig: Rig, gathers: int, seed: int, checks: Checks) -> Table:
    rate = 0.05
    specs = {DAQ: soak_daq(rig), SMC: soak_smc(rig), PA: soak_purpleair(rig)}
    results: dict[str, SoakResult] = {}

    def run(name: str, spec: tuple[list[dict[str, Any]], list[Target]], offset: int) -> None:
        results[name] = soak_one(rig, name, spec, gathers, seed + offset, rate)

    threads = [threading.Thread(target=run, args=(n, s, i)) for i, (n, s) in enumerate(specs.items())]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    window = Footprint.window(gathers)
    table = Table(
        f"6. Soak: {gathers} gathers per executable, the three at once, a fault on {rate:.0%} of healthy "
        "connections' gathers",
        [
            "executable",
            "gathers",
            "faults",
            "lines checked",
            "invalid lines",
            "values from failed reads",
            "time stamps outside the gather",
            f"RSS KiB first → last {window}",
            f"fds first → last {window}",
            "E!/W! logged",
            "exit",
        ],
    )
    for name, r in results.items():
        compared = r.footprint.compare(r.gathers)
        rss = f"{compared[0]:.0f} → {compared[1]:.0f}" if compared else "-"
        fds = f"{compared[2]} → {compared[3]}" if compared else "-"
        table.rows.append(
            [
                name,
                str(r.gathers),
                str(sum(r.faults.values())),
                str(r.lines),
                str(len(r.invalid)),
                str(len(r.leaked)),
                str(len(r.stale)),
                rss,
                fds,
                f"{r.errors_logged}/{r.warnings_logged}",
                str(r.exit_code),
            ]
        )
        table.notes.append(
            f"- {name} ({r.seconds:.0f} s): " + ", ".join(f"{k} ×{v}" for k, v in sorted(r.faults.items()))
        )
        checks.add(f"soak {name}: ran every gather", not r.crash and r.gathers == gathers, r.crash)
        checks.add(f"soak {name}: every line valid line protocol", not r.invalid, "; ".join(r.invalid[:3]))
        checks.add(f"soak {name}: no value from a failed read", not r.leaked, "; ".join(r.leaked[:3]))
        checks.add(f"soak {name}: time stamps within their gather", not r.stale, "; ".join(r.stale[:3]))
        checks.add(f"soak {name}: exit 0, no traceback", r.exit_code == 0 and not r.tracebacks, f"exit {r.exit_code}")
        checks.add(f"soak {name}: every log line under 4100 bytes", r.longest_log_line <= 4100, str(r.longest_log_line))
        r.footprint.check(checks, f"soak {name}", r.gathers)
    return table


# --------------------------------------------------------------------------- main


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


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{platform.system()} {platform.release()}, {cpu}, {os.cpu_count()} CPUs, {memory:.0f} GiB; "
        f"Python {platform.python_version()}"
    )


def write_readme(header: str, tables: list[Table], checks: str, partial: bool) -> None:
    """Put the results into benchmarks/README.md; with ``partial`` (--only), replace only the parts run."""
    readme = HERE / "README.md"
    old = readme.read_text()
    block = re.search(r"<!-- results:start -->\n(.*?)<!-- results:end -->", old, flags=re.S)
    assert block is not None, "benchmarks/README.md has no results markers"
    if partial:
        sections = re.split(r"(?m)^(?=### )", block.group(1))
        keep = [sec for sec in sections if sec.startswith("### ") and not sec.startswith("### Checks")]
        for table in tables:
            number = table.title.split(" ", 1)[0]  # "7a."
            keep = [sec for sec in keep if not sec.startswith(f"### {number} ")] + [table.markdown() + "\n"]
        keep.sort(key=lambda sec: [int(x) if x.isdigit() else x for x in re.findall(r"\d+|[a-z]", sec[4:8])])
        body = block.group(1).split("### ", 1)[0] + "".join(keep)
        body += f"\nParts {', '.join(t.title.split(' ', 1)[0].rstrip('.') for t in tables)} rerun: {header}\n" + checks
    else:
        body = header + "\n" + "\n".join(t.markdown() for t in tables) + "\n" + checks
    readme.write_text(old[: block.start(1)] + body + old[block.end(1) :])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small counts: a smoke run of every part")
    parser.add_argument("--latency", type=float, default=0.02, help="the simulated DAQ's latency L in s (0.02)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the soak's fault schedule")
    parser.add_argument("--write-readme", action="store_true", help="put the results into benchmarks/README.md")
    parser.add_argument("--only", nargs="*", help="run these parts only (1 to 13)")
    args = parser.parse_args(argv)
    quick = args.quick
    n = {
        "overhead": 30 if quick else 200,
        "parallel": 10 if quick else 100,
        "older": 3 if quick else 20,
        "spawns": 3 if quick else 20,
        "long": 300 if quick else 10_000,
        "soak": 300 if quick else 10_000,
        "lab": 30 if quick else 300,
        "lab_spawns": 3 if quick else 20,
        "hung": 20 if quick else 200,
        "https": 10 if quick else 200,
        "families": 10 if quick else 100,
    }
    parts = set(args.only or [str(p) for p in range(1, 14)])
    command = "python benchmarks/run.py" + (" --quick" if quick else "")
    header = f"Run on {datetime.date.today()} with `{command}` on: {machine()}.\n"
    print(header)
    checks = Checks()
    tables: list[Table] = []
    rig = Rig()
    started = time.monotonic()
    try:

        def show(table: Table) -> None:
            tables.append(table)
            print(table.markdown(), flush=True)

        if "1" in parts:
            show(bench_overhead(rig, args.latency, n["overhead"]))
        if "2" in parts:
            show(bench_parallel(rig, 0.05, n["parallel"]))
        if "3" in parts:
            show(bench_older_way(rig, args.latency, n["older"]))
        if "4" in parts or "5" in parts:
            for table in bench_execd_vs_once(rig, args.latency, n["spawns"]):
                show(table)
        if "5" in parts:
            show(bench_long_run(rig, n["long"], checks))
        if "6" in parts:
            show(bench_soak(rig, n["soak"], args.seed, checks))
        if "7" in parts:
            for table in bench_one_process(rig, args.latency, n["lab"], n["lab_spawns"], checks, not quick):
                show(table)
        if "8" in parts:
            show(bench_hung_device(rig, args.latency, n["hung"], checks, not quick))
        if "9" in parts:
            show(bench_https(rig, n["https"], checks))
        if "10" in parts:
            show(bench_families(rig, 0.005, n["families"]))
        if "11" in parts:
            show(bench_idle(rig, 3.0 if quick else 10.0, checks))
        if "12" in parts:
            show(bench_native(rig, 1 if quick else 3, 2.0 if quick else 5.0, 3.0 if quick else 30.0, checks, not quick))
        if "13" in parts:
            show(bench_fixed_cost(rig, 50 if quick else 300, 1 if quick else 3, checks, not quick))
            for table in bench_memory(rig, 10 if quick else 50, checks):
                show(table)
    finally:
        rig.stop()
    summary = [f"### Checks ({time.monotonic() - started:.0f} s in all)", ""]
    for what, ok, detail in checks.results:
        summary.append(f"- {'PASS' if ok else 'FAIL'} {what}" + (f": {detail}" if detail else ""))
    text = "\n".join(summary) + "\n"
    print(text)
    if args.write_readme:
        write_readme(header, tables, text, partial=bool(args.only))
    return 1 if checks.failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
