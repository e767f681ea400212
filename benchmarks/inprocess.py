"""A devices file read in one thread of this process: a gather's work without the runtime around it.

    python benchmarks/inprocess.py CONFIG GATHERS

Loads the file as ``telegraf-lab run`` does, opens one session per connection, then
``GATHERS`` times reads every device, turns the readings into metrics and encodes
the lines, all on this thread: no stdin, no worker threads, no stdout.  What the
executable spends beyond this per gather is its fixed cost (part 13).

Prints one JSON object: the CPU of each gather (s), lines per gather, RSS after
the imports every executable makes and after the gathers (KiB), and the
top-level modules the devices file brought in (what the family's memory is).
"""

from __future__ import annotations

import json
import sys
import time


def rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise KeyError("VmRSS")


def main(config: str, gathers: int) -> dict[str, object]:
    from telegraf_inputs import cli  # noqa: F401 (what every executable imports before the file)
    from telegraf_inputs import runtime  # noqa: F401 (what every executable imports before the file)

    base_rss = rss_kib()
    base_modules = set(sys.modules)
    from telegraf_inputs import registry
    from telegraf_inputs.base import by_connection
    from telegraf_inputs.runtime import Reporter
    from telegraf_inputs.runtime import encode_lines

    loaded = registry.load(config)
    sessions = []
    devices = []
    for group in loaded.groups:
        devices.extend(group.devices)
        for shared in by_connection(group.devices).values():
            sessions.append((group.driver.open(shared), shared))
    if not devices:
        raise SystemExit(f"{config}: no device of a supported Model")
    reporter = Reporter(devices)
    cpu, lines = [], []
    try:
        for _ in range(gathers):
            start = time.thread_time()
            out = b""
            for session, shared in sessions:
                for device in shared:
                    out += encode_lines(reporter.device_read(device, session.read(device)).metrics)
            cpu.append(time.thread_time() - start)
            lines.append(out.count(b"\n"))
    finally:
        for session, _ in sessions:
            session.close()
    added = sorted({name.split(".")[0] for name in set(sys.modules) - base_modules} - {"telegraf_inputs"})
    return {"cpu_s": cpu, "lines": lines, "base_rss_kib": base_rss, "rss_kib": rss_kib(), "modules": added}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], int(sys.argv[2]))))
