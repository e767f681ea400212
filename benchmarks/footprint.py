"""Part 13: what a gather costs beyond its own work, and what each family costs in memory, and why.

13a, the fixed cost: the same devices file read by the executable in execd mode
(stdin trigger, worker threads, stdout) and by ``inprocess.py``, which does the
same reads, readings and encoding on one thread with nothing around them.  The
difference per gather is what the runtime adds.

13b, memory: each family's command on one device after its gathers (the
devices of part 10, and of parts 1, 7 and 12 for the DAQ970A, the chiller and
PurpleAir), then ``telegraf-lab run`` on all fifteen at once.  13c: the modules
behind it, each with what importing it costs on top of the bare executable.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any

import families
from common import DAQ
from common import HERE
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
from common import pa_entry
from common import smc_entry
from common import status_kib
from common import task_cpu_ns
from common import write_config

FIXED_COST_MS = 0.2  # what a gather may cost beyond its reads, readings and lines (issue: as cheap as Telegraf's own)
LAB_OVER_LARGEST = 1.3  # the lab's process against the largest single family's


def in_one_thread(config: str, gathers: int) -> dict[str, Any]:
    done = subprocess.run([sys.executable, str(HERE / "inprocess.py"), config, str(gathers)], capture_output=True,
                          text=True, timeout=300, check=False)  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"inprocess.py {config}: exit {done.returncode}: {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def channels(entries: list[dict[str, Any]]) -> int:
    return sum(len(entry["Channels"]) for entry in entries)


def executable_gathers(name: str, config: str, lines: int, gathers: int) -> tuple[float, int, int]:
    """CPU per gather after 5 to warm up (all the process spent over the gathers, the work after each gather's
    last line included, divided by their number), then RSS and peak RSS (KiB)."""
    exe = Execd(name, config)
    try:
        for _ in range(5):
            exe.gather(lines_at_least(lines))
        time.sleep(0.1)
        before = task_cpu_ns(exe.pid)
        for _ in range(gathers):
            exe.gather(lines_at_least(lines))
        time.sleep(0.1)  # what a gather does after its last line counts too (idle costs nothing: part 11)
        per_gather = (task_cpu_ns(exe.pid) - before) / 1e9 / gathers
        return per_gather, status_kib(exe.pid, "VmRSS"), status_kib(exe.pid, "VmHWM")
    finally:
        exe.close()


def bench_fixed_cost(rig: Rig, gathers: int, rounds: int, checks: Checks, judge: bool) -> Table:
    table = Table(
        f"13a. Fixed cost of a gather: `telegraf-lab run` against the same reads on one thread, {gathers} gathers, "
        f"median of {rounds} round(s)",
        ["devices", "lines", "executable CPU/gather ms", "same reads on one thread ms", "fixed cost ms", "target"],
        notes=["Executable: all its threads spent over the gathers (schedstat, the work after each batch's last "
               "line included), per gather. One thread: benchmarks/inprocess.py on the same file and simulator: "
               "each device's reads, its readings turned into metrics and the lines encoded, with no stdin, worker "
               "thread or stdout. Fixed cost: the difference. Rounds alternate the two."],
    )  # fmt: skip
    daq = rig("daq", name="fixed-daq", scan_s=0.0)
    cpa = rig("cpa", name="fixed-cpa")
    cases = {
        "DAQ970A, 1 channel": [daq_entry("daq", daq["address"], [101])],
        "Cryomech CPA, 6 channels": [families.cpa_entry(cpa["address"])],
    }
    for what, entries in cases.items():
        config = write_config(entries)
        lines = channels(entries)
        ours, thread = [], []
        for _ in range(rounds):  # in turn, so that both see the same machine
            ours.append(executable_gathers(LAB, config, lines, gathers)[0])
            alone = in_one_thread(config, gathers + 5)
            assert set(alone["lines"]) == {lines}, alone["lines"]
            thread.append(sum(alone["cpu_s"][5:]) / gathers)
        fixed = median(ours) - median(thread)
        table.rows.append([what, str(lines), ms(median(ours)), ms(median(thread)), ms(fixed), f"≤ {FIXED_COST_MS:g}"])
        if judge:
            checks.add(f"fixed cost of a gather, {what}: ≤ {FIXED_COST_MS:g} ms CPU", fixed * 1e3 <= FIXED_COST_MS,
                       f"{fixed * 1e3:.3f} ms")  # fmt: skip
    return table


def every_family(rig: Rig) -> dict[str, dict[str, Any]]:
    """One device per family, on its own simulator: part 10's, and the DAQ970A, chiller and PurpleAir LAN."""
    if len(families.ENTRIES) < len(families.FAMILY_ROWS):  # part 10 did not run: set its devices up the same way
        for make in families.FAMILY_ROWS:
            make(rig, 0.0, 1)
    daq = rig("daq", name="memory-daq", scan_s=0.0)
    chiller = rig("smc", name="memory-smc", baudrate=19200)["path"]
    air = rig("purpleair", name="memory-pa", api_key="unused", sensors=[7])["lan"]["7"]
    line: dict[str, Any] = {"SerialConnectionParams": {"baudrate": 19200, "bytesize": 8, "stopbits": 2, "parity": "N"}}
    lan = pa_entry("air", {"pm25": (0, "pm2.5_atm"), "rh": (0, "humidity")}, Address=air)
    for channel in lan["Channels"].values():
        channel.pop("PurpleAirSensorIndex")
    lan.pop("PurpleAirAPIKey")
    return {
        DAQ: daq_entry("daq", daq["address"], range(101, 121)),
        SMC: smc_entry("chiller", chiller, ["PV1", "SV1"], **line),
        PA: lan,
        **families.ENTRIES,
    }


def bench_memory(rig: Rig, gathers: int, checks: Checks) -> tuple[Table, Table]:
    by_command = every_family(rig)
    rows: dict[str, tuple[int, int, dict[str, Any]]] = {}
    for command, entry in by_command.items():
        config = write_config([entry])
        _, rss, peak = executable_gathers(command, config, len(entry["Channels"]), gathers)
        rows[command] = (rss, peak, in_one_thread(config, 1))
    lab = [{**entry, "Device": f"{command} {entry['Device']}"} for command, entry in by_command.items()]
    _, lab_rss, lab_peak = executable_gathers(LAB, write_config(lab), channels(lab), gathers)
    largest = max(rss for rss, _, _ in rows.values())
    base = median([alone["base_rss_kib"] for _, _, alone in rows.values()])
    table = Table(
        f"13b. Memory: each family's command on one device, then `telegraf-lab run` on all {len(lab)}, "
        f"after {gathers} gathers",
        ["command", "RSS MiB", "peak MiB", "over the bare executable MiB", "modules its devices file brings in"],
        notes=[f"Bare executable: the imports every command makes before it reads the devices file "
               f"(CPython, the runtime, logging, line protocol): {base / 1024:.1f} MiB, measured by "
               "benchmarks/inprocess.py. Modules: the top-level modules the file's reads imported beyond those "
               "(13c says what each costs). A family's driver imports only when a device of it is in the file."],
    )  # fmt: skip
    for command, (rss, peak, alone) in sorted(rows.items(), key=lambda item: item[1][0]):
        table.rows.append([f"`{command}`", mib(rss), mib(peak), mib(rss - base), ", ".join(alone["modules"]) or "–"])
    ratio = lab_rss / largest
    table.rows.append([f"`{LAB} run`, all {len(lab)} families", mib(lab_rss), mib(lab_peak), mib(lab_rss - base),
                       "the union of the above"])  # fmt: skip
    table.rows.append(["lab / largest single family", f"{ratio:.2f}", f"{lab_peak / largest:.2f}", "",
                       f"target ≤ {LAB_OVER_LARGEST:g}"])  # fmt: skip
    checks.add(f"memory: the lab's process ≤ {LAB_OVER_LARGEST:g} × the largest single family's RSS",
               ratio <= LAB_OVER_LARGEST, f"{ratio:.2f}")  # fmt: skip
    return table, import_costs(rows)


def import_costs(rows: dict[str, tuple[int, int, dict[str, Any]]]) -> Table:
    """What each module a devices file brought in costs to import, on top of the bare executable."""
    users: dict[str, list[str]] = {}
    for command, (_, _, alone) in rows.items():
        for module in alone["modules"]:
            users.setdefault(module, []).append(command.removeprefix("telegraf-"))
    probe = (
        "import sys\nfrom inprocess import rss_kib\nfrom telegraf_inputs import cli, runtime\n"
        "before = rss_kib()\nfor name in sys.argv[1:]:\n    __import__(name)\nprint(rss_kib() - before)\n"
    )
    cost = {}
    for module in users:
        done = subprocess.run([sys.executable, "-c", probe, module], capture_output=True, text=True, cwd=HERE,
                              timeout=60, check=True)  # fmt: skip
        cost[module] = int(done.stdout)
    table = Table(
        "13c. Why: what importing each of those modules costs on top of the bare executable",
        ["module", "KiB to import (with what it imports)", "families"],
        notes=["Each in a fresh interpreter after the bare executable's imports; modules that import one another "
               "overlap, so the column does not add up."],
    )  # fmt: skip
    for module in sorted(cost, key=lambda m: -cost[m]):
        table.rows.append([f"`{module}`", str(cost[module]), ", ".join(sorted(users[module]))])
    return table


def mib(kib: float) -> str:
    return f"{kib / 1024:.1f}"
