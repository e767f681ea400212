"""Part 6: the soak: the three first executables at once, thousands of gathers, faults on a schedule,
every line checked."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from line_protocol_parser import parse_line

from common import API_KEY
from common import DAQ
from common import PA
from common import SMC
from common import Checks
from common import Execd
from common import Footprint
from common import Rig
from common import Table
from common import daq_entry
from common import pa_entry
from common import smc_entry
from common import write_config

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


def pairs(lines: list[str]) -> Pairs:
    """The (device, ch) of each line."""
    out = set()
    for line in lines:
        tags = dict(t.split("=", 1) for t in line.split(" ", 1)[0].split(",")[1:] if "=" in t)
        out.add((tags.get("device"), tags.get("ch")))
    return out


def inject(rig: Rig, targets: list[Target], healthy: dict[str, bool], rng: random.Random, rate: float,
           result: SoakResult) -> tuple[dict[str, Pairs], dict[str, str]]:  # fmt: skip
    """Faults on a share ``rate`` of the healthy connections: the lines each spoils, and each fault's name."""
    injected: dict[str, Pairs] = {}
    names: dict[str, str] = {}
    for t in targets:
        if healthy[t.sim] and rng.random() < rate:
            name = rng.choice(sorted(t.faults))
            injected[t.sim] = t.faults[name](rig, t, rng)
            names[t.sim] = name
            result.faults[name] += 1
    return injected, names


def check_lines(result: SoakResult, g: Any, i: int, since_ns: int, what: str) -> Pairs:
    """Every line of gather ``i`` parsed and its time checked (from ``since_ns``); the (device, ch) that came."""
    present = set()
    for line in g.lines:
        result.lines += 1
        try:
            parsed = parse_line(line)
        except Exception as exc:  # the parser's LineFormatError
            result.invalid.append(f"{line!r}: {exc}")
            continue
        present.add((parsed["tags"].get("device"), parsed["tags"].get("ch")))
        # a line comes out when its device has been read: a connection that was left out of the
        # gather before (failing, reopening) may still deliver that gather's read in this one
        if not since_ns <= parsed["time"] <= g.ended_ns:
            age = (g.started_ns - parsed["time"]) / 1e6
            result.stale.append(f"gather {i} ({age:.0f} ms before its trigger; after {what}): {line}")
    return present


def tally_log(result: SoakResult, exe: Execd) -> None:
    result.errors_logged = sum(line.startswith("E! ") for line in exe.stderr)
    result.warnings_logged = sum(line.startswith("W! ") for line in exe.stderr)
    result.tracebacks = sum("Traceback" in line for line in exe.stderr)
    result.longest_log_line = max((len(line.encode()) for line in exe.stderr), default=0)


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
            injected, names = inject(rig, targets, healthy, rng, rate, result)
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
            present = check_lines(result, g, i, previous_start_ns - slack_ns, str(names or "no fault"))
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
        tally_log(result, exe)
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
