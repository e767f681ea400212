"""Part 12: the same readings through Telegraf's own plugins, the pipeline a user would pick instead of ours.

For each family that Telegraf can read natively, two Telegraf pipelines run in turn on the same simulator at
the same interval:

- **ours**: ``[[inputs.execd]]`` running ``telegraf-lab run`` (``signal = "STDIN"``);
- **native**: ``[[inputs.modbus]]`` for the compressor; ``[[inputs.http]]`` with the ``json_v2`` parser (and a
  Starlark processor where values are derived) for PurpleAir on the LAN and for pydase.

Both write to ``[[outputs.file]]``.  Measured over a window, after a warm-up: the CPU time of Telegraf and
every process below it (the sum over their threads of /proc/PID/task/*/schedstat), and the readings (field
values) written in that window; RSS of the same processes at the end.  A native pipeline counts only if its
lines have the series and field types ours writes and the same values: the check says so.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from line_protocol_parser import parse_line

from common import HERE
from common import LAB
from common import Checks
from common import Rig
from common import Table
from common import executable
from common import status_kib
from common import task_cpu_ns
from common import write_config

INTERVAL = "100ms"
RELATIVE = 0.03  # values of the two pipelines agree to 3 % (the simulators drift between the runs)
TARGETS = {"cryomech_cpa": 1.2, "purpleair": 1.5, "pydase": 1.5}  # ours / native, CPU per reading (issue 29)


def telegraf_binary() -> str | None:
    """The project's Telegraf build (scripts/build-telegraf: execd, modbus, http, json_v2, starlark), or None."""
    found = shutil.which("telegraf") if os.environ.get("TELEGRAF_FROM_PATH") else None
    if found:
        return found
    try:
        built = subprocess.run([str(HERE.parent / "scripts" / "build-telegraf")], capture_output=True, text=True,
                               timeout=1800)  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return None
    return built.stdout.strip().splitlines()[-1] if built.returncode == 0 and built.stdout.strip() else None


def toml_string(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's for what appears here)."""
    return json.dumps(text)


def agent(output: Path) -> str:
    return f"""
[agent]
  interval = "{INTERVAL}"
  round_interval = false
  collection_jitter = "0s"
  flush_interval = "{INTERVAL}"
  flush_jitter = "0s"
  metric_batch_size = 1000
  metric_buffer_limit = 100000
  omit_hostname = true
  quiet = true

[[outputs.file]]
  files = [{toml_string(str(output))}]
  data_format = "influx"
"""


def execd(config: str) -> str:
    command = [executable(LAB), "run", "--config", config]
    return f"""
[[inputs.execd]]
  command = [{", ".join(toml_string(part) for part in command)}]
  signal = "STDIN"
  restart_delay = "1s"
  data_format = "influx"
"""


# --------------------------------------------------------------------------- the three families


@dataclass
class Case:
    family: str
    load: str
    entry: dict[str, Any]  # our devices entry
    native: str  # the native plugins' TOML
    native_what: str
    values_close: bool = True  # the simulator's values move slowly: they are compared too


CPA_REGISTERS = {"CoolantIntTemperature": 40, "CoolantOutTemperature": 41, "OilTemperature": 42,
                 "HeTemperature": 43, "LowPressure": 44, "HighPressure": 46}  # fmt: skip


def cpa_case(rig: Rig) -> Case:
    sim = rig("cpa", name="native-cpa")
    entry = {"Device": "cpa", "Model": "Cryomech CPA1110", "Address": sim["address"], "measurement": "bench",
             "Channels": {t: {"Type": t, "tags": {"ch": t}} for t in CPA_REGISTERS}}  # fmt: skip
    metrics = "".join(
        f"""
  [[inputs.modbus.metric]]
    slave_id = 1
    byte_order = "ABCD"
    measurement = "bench"
    fields = [{{ register = "input", address = {register}, name = "value", type = "INT16", scale = 0.1 }}]
    [inputs.modbus.metric.tags]
      device = "cpa"
      ch = "{name}"
"""
        for name, register in CPA_REGISTERS.items()
    )
    native = f"""
[[inputs.modbus]]
  name = "cpa"
  controller = "tcp://127.0.0.1:{sim["port"]}"
  timeout = "2s"
  configuration_type = "metric"
  optimization = "max_insert"
  tagexclude = ["name", "slave_id", "type"]
{metrics}"""
    return Case("cryomech_cpa", "6 channels, one FC04 read", entry, native, "inputs.modbus (metric style, one read)")


PA_CHANNELS = {  # key: (Type, field-key, unit tag)
    "count": ("0.3_um_count", "0.3_um_count", "particles/dl"),
    "pm": ("pm2.5_atm", "pm2.5", "ug/m3"),
    "a": ("pm2.5_atm_a", "pm2.5_a", "ug/m3"),
    "b": ("pm2.5_atm_b", "pm2.5_b", "ug/m3"),
    "t": ("temperature", "temperature", "DegF"),
    "rh": ("humidity", "humidity", "%"),
    "p": ("pressure", "pressure", "hPa"),
    "aqi10": ("aqi_pm10.0", "aqi_pm10", ""),
}

# The derived values ours writes, in Starlark: means of the two lasers, the US AQI of PM10 (EPA breakpoints,
# the concentration truncated to 1 ug/m3), one metric per channel with its tags.
PA_STARLARK = """
load("math.star", "math")

AQI_PM10 = [(0, 54, 0, 50), (55, 154, 51, 100), (155, 254, 101, 150), (255, 354, 151, 200),
            (355, 424, 201, 300), (425, 604, 301, 500)]

def aqi(c, table):
    c = math.floor(max(c, 0.0))
    band = table[-1]
    for row in table:
        if c <= row[1]:
            band = row
            break
    return int(math.round((band[3] - band[2]) / (band[1] - band[0]) * (c - band[0]) + band[2]))

def one(source, field, value, unit):
    m = Metric("particlecounts")
    m.tags["device"] = "PurpleAir lab"
    m.tags["sensor"] = "lab"
    if unit:
        m.tags["unit"] = unit
    m.fields[field] = value
    m.time = source.time
    return m

def apply(metric):
    f = metric.fields
    pm10 = (f["pm10_0_atm"] + f["pm10_0_atm_b"]) / 2
    return [
        one(metric, "0.3_um_count", (f["p_0_3_um"] + f["p_0_3_um_b"]) / 2, "particles/dl"),
        one(metric, "pm2.5", (f["pm2_5_atm"] + f["pm2_5_atm_b"]) / 2, "ug/m3"),
        one(metric, "pm2.5_a", f["pm2_5_atm"], "ug/m3"),
        one(metric, "pm2.5_b", f["pm2_5_atm_b"], "ug/m3"),
        one(metric, "temperature", f["current_temp_f"], "DegF"),
        one(metric, "humidity", f["current_humidity"], "%"),
        one(metric, "pressure", f["pressure"], "hPa"),
        one(metric, "aqi_pm10", aqi(pm10, AQI_PM10), ""),
    ]
"""

PA_JSON_FIELDS = ("p_0_3_um", "p_0_3_um_b", "pm2_5_atm", "pm2_5_atm_b", "pm10_0_atm", "pm10_0_atm_b",
                  "current_temp_f", "current_humidity", "pressure")  # fmt: skip


def purpleair_case(rig: Rig, folder: Path) -> Case:
    sim = rig("purpleair", name="native-pa", api_key="unused", sensors=[0])
    lan = sim["lan"]["0"]
    entry = {"Device": "PurpleAir lab", "Model": "PurpleAir", "Address": lan, "Timeout": 2,
             "measurement": "particlecounts", "tags": {"sensor": "lab"},
             "Channels": {key: {"Type": kind, "field-key": field, **({"tags": {"unit": unit}} if unit else {})}
                          for key, (kind, field, unit) in PA_CHANNELS.items()}}  # fmt: skip
    script = folder / "purpleair.star"
    script.write_text(PA_STARLARK)
    fields = "".join(
        f"""
    [[inputs.http.json_v2.field]]
      path = "{name}"
      type = "float"
"""
        for name in PA_JSON_FIELDS
    )
    native = f"""
[[inputs.http]]
  urls = [{toml_string(lan + "/json?live=true")}]
  timeout = "2s"
  name_override = "purpleair_raw"
  tagexclude = ["url"]
  data_format = "json_v2"
  [[inputs.http.json_v2]]
    timestamp_path = "DateTime"
    timestamp_format = "2006/01/02T15:04:05z"
{fields}
[[processors.starlark]]
  namepass = ["purpleair_raw"]
  script = {toml_string(str(script))}
"""
    return Case("purpleair", "LAN sensor, 8 channels (means, AQI)", entry, native,
                "inputs.http + json_v2 + processors.starlark (means, AQI)")  # fmt: skip


PYDASE_PATHS = {"0": ("temperature", None, None), "1": ("power", "channels", 0), "2": ("power", "channels", 1)}


def pydase_case(rig: Rig) -> Case:
    from urllib.parse import quote

    sim = rig("pydase", name="native-pydase")
    channels = {f"c{ch}": {"Type": "pydaseAttribute", "tags": {"ch": ch}, "pydaseServerStructure": {
        k: v for k, v in (("Attribute", a), ("Subclass", s), ("SubclassIndex", x)) if v is not None}}
        for ch, (a, s, x) in PYDASE_PATHS.items()}  # fmt: skip
    entry = {"Device": "svc", "Model": "pydase", "Address": "127.0.0.1", "Port": sim["port"], "measurement": "bench",
             "Channels": channels}  # fmt: skip
    native = ""
    for ch, (attribute, sub, index) in PYDASE_PATHS.items():
        path = attribute if sub is None else f"{sub}[{index}].{attribute}"
        url = f"http://127.0.0.1:{sim['port']}/api/v1/get_value?access_path={quote(path, safe='')}"
        native += f"""
[[inputs.http]]
  urls = [{toml_string(url)}]
  timeout = "2s"
  name_override = "bench"
  tagexclude = ["url"]
  data_format = "json_v2"
  [inputs.http.tags]
    device = "svc"
    ch = "{ch}"
  [[inputs.http.json_v2]]
    [[inputs.http.json_v2.field]]
      path = "value"
      type = "float"
"""
    return Case("pydase", "3 attributes", entry, native, "3 × inputs.http + json_v2", values_close=False)


# --------------------------------------------------------------------------- measuring a pipeline


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        try:
            for tid in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{tid}/children") as f:
                    queue.extend(int(child) for child in f.read().split())
        except (FileNotFoundError, ProcessLookupError):
            pass
    return found


def tree_cpu_ns(pid: int) -> int:
    return sum(task_cpu_ns(p) for p in descendants(pid))


def tree_rss_kib(pid: int) -> int:
    total = 0
    for p in descendants(pid):
        try:
            total += status_kib(p, "VmRSS")
        except (FileNotFoundError, ProcessLookupError, KeyError):
            pass
    return total


def readings(path: Path) -> int:
    """Field values written so far (complete lines only)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return 0
    return sum(len(parse_line(line.decode())["fields"]) for line in data.split(b"\n")[:-1] if line.strip())


@dataclass
class Window:
    cpu_per_reading_ms: float
    readings: int
    rss_mib: float
    lines: list[dict[str, Any]]


def run_pipeline(telegraf: str, config_text: str, folder: Path, warmup_s: float, window_s: float) -> Window:
    """Telegraf on ``config_text``; CPU and readings over ``window_s`` after ``warmup_s``."""
    output = folder / "out.lp"
    output.unlink(missing_ok=True)
    config = folder / "telegraf.conf"
    config.write_text(agent(output) + config_text)
    log = open(folder / "telegraf.log", "w")  # noqa: SIM115 (closed below, after the process)
    proc = subprocess.Popen([telegraf, "--config", str(config)], stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL)  # fmt: skip
    try:
        time.sleep(warmup_s)
        cpu0, n0 = tree_cpu_ns(proc.pid), readings(output)
        time.sleep(window_s)
        cpu1, n1 = tree_cpu_ns(proc.pid), readings(output)
        rss = tree_rss_kib(proc.pid) / 1024
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
    text = output.read_text() if output.exists() else ""
    lines = [parse_line(line) for line in text.splitlines() if line.strip()]
    if n1 <= n0:
        tail = (folder / "telegraf.log").read_text()[-2000:]
        raise RuntimeError(f"no readings written in the window; Telegraf said: {tail}")
    return Window((cpu1 - cpu0) / 1e6 / (n1 - n0), n1 - n0, rss, lines)


def schema(lines: list[dict[str, Any]]) -> dict[tuple[Any, ...], Any]:
    """Series and field -> the latest value (type and value compared; time is not)."""
    out: dict[tuple[Any, ...], Any] = {}
    for line in lines:
        for name, value in line["fields"].items():
            out[(line["measurement"], tuple(sorted(line["tags"].items())), name, type(value).__name__)] = value
    return out


def same_data(ours: dict[tuple[Any, ...], Any], native: dict[tuple[Any, ...], Any], values: bool) -> tuple[bool, str]:
    if ours.keys() != native.keys():
        only = sorted(map(str, ours.keys() ^ native.keys()))[:3]
        return False, f"series or field types differ: {only}"
    if not values:
        return True, ""
    for key, value in ours.items():
        other = native[key]
        if isinstance(value, bool) or isinstance(value, str):
            close = value == other
        else:  # the simulators drift a little between the two runs: a wrong field or scale is far outside this
            close = abs(value - other) <= max(RELATIVE * abs(value), 2 if isinstance(value, int) else 1e-9)
        if not close:
            return False, f"{key}: ours {value!r}, native {other!r}"
    return True, ""


def bench_native(rig: Rig, rounds: int, warmup_s: float, window_s: float, checks: Checks, judge: bool) -> Table:
    """Part 12; ``judge``: hold the ratios to their targets (the full run: quick windows are too short)."""
    table = Table(
        f"12. Against Telegraf's own plugins: CPU per reading of the whole pipeline (Telegraf and child), "
        f"interval {INTERVAL}, {window_s:g} s windows, median of {rounds} round(s)",
        ["family", "load", "native pipeline", "ours CPU ms/reading", "native CPU ms/reading", "ours / native",
         "target", "ours RSS MiB", "native RSS MiB", "same data"],
    )  # fmt: skip
    telegraf = telegraf_binary()
    if telegraf is None:
        table.notes.append("Not run: no Telegraf could be built here (scripts/build-telegraf needs Go).")
        checks.add("native plugins: a Telegraf with modbus, http, json_v2 and starlark", False, "not built")
        return table
    folder = Path(tempfile.mkdtemp(prefix="bench-native-"))
    makers: list[Callable[[], Case]] = [lambda: cpa_case(rig), lambda: purpleair_case(rig, folder),
                                        lambda: pydase_case(rig)]  # fmt: skip
    try:
        for make in makers:
            case = make()
            pipelines = {"ours": execd(write_config([case.entry])), "native": case.native}
            results: dict[str, list[Window]] = {"ours": [], "native": []}
            for _ in range(rounds):
                for name, text in pipelines.items():
                    results[name].append(run_pipeline(telegraf, text, folder, warmup_s, window_s))
            ours = statistics.median(w.cpu_per_reading_ms for w in results["ours"])
            native = statistics.median(w.cpu_per_reading_ms for w in results["native"])
            same, why = same_data(
                schema(results["ours"][-1].lines), schema(results["native"][-1].lines), case.values_close
            )
            ratio = ours / native
            target = TARGETS[case.family]
            table.rows.append([
                case.family, case.load, case.native_what, f"{ours:.3f}", f"{native:.3f}", f"{ratio:.2f}",
                f"≤ {target:g}", f"{statistics.median(w.rss_mib for w in results['ours']):.0f}",
                f"{statistics.median(w.rss_mib for w in results['native']):.0f}", "yes" if same else f"no: {why}",
            ])  # fmt: skip
            checks.add(f"native plugins, {case.family}: the native pipeline writes what ours writes", same, why)
            if judge:
                checks.add(f"native plugins, {case.family}: ours / native CPU per reading ≤ {target:g}",
                           ratio <= target, f"{ratio:.2f}")  # fmt: skip
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    table.notes.append(
        "Readings: field values written to the output file within the window. CPU: Telegraf and every process "
        "below it (ours: the telegraf-lab child). A native pipeline counts only where its lines have the same "
        "series and field types as ours, and values within 3 % (the runs are seconds apart; pydase's simulated "
        "values swing, so there series and types only): the last column."
    )
    return table
