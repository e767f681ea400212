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
import os
import platform
import re
import time
from pathlib import Path

from common import HERE
from common import Checks
from common import Rig
from common import Table
from families import bench_families
from footprint import bench_fixed_cost
from footprint import bench_memory
from https_keepalive import bench_https
from hung import bench_hung_device
from idle import bench_idle
from lifetime import bench_execd_vs_once
from lifetime import bench_long_run
from native import bench_native
from one_process import bench_one_process
from overhead import bench_overhead
from overhead import bench_parallel
from soak import bench_soak
from versus_older import bench_older_way

# --------------------------------------------------------------------------- main


# --------------------------------------------------------------------------- main


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
