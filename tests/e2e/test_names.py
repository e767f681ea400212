"""Every name the config check accepts is read back by the real Telegraf exactly as it was meant."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from telegraf_inputs.lineprotocol import Metric, encode
from tests.helpers import accepted_names

# the characters line protocol treats specially, and a few that it does not
ALPHABET = "ab\\,= \"'#=té"


def accepted(specials: str) -> st.SearchStrategy[str]:
    return accepted_names(specials, ALPHABET, max_size=8)  # type: ignore[no-any-return]


def read_back(telegraf: str, tmp_path: Path, lines: list[str]) -> list[dict]:
    """The metrics Telegraf reads from ``lines`` on an execd program's stdout, as its JSON serializer writes them."""
    tmp_path = Path(tempfile.mkdtemp(dir=tmp_path))  # one folder per call: Hypothesis calls with one tmp_path
    emit = tmp_path / "emit.py"
    emit.write_text(f"import sys\nfor _ in sys.stdin:\n    sys.stdout.write({json.dumps(''.join(lines))})\n"
                    "    sys.stdout.flush()\n")  # fmt: skip
    out = tmp_path / "out.json"
    conf = tmp_path / "telegraf.conf"
    conf.write_text(
        f"""
[agent]
  interval = "1s"
  flush_interval = "1s"
  omit_hostname = true
[[inputs.execd]]
  command = [{json.dumps(sys.executable)}, {json.dumps(str(emit))}]
  signal = "STDIN"
  data_format = "influx"
[[outputs.file]]
  files = [{json.dumps(str(out))}]
  data_format = "json"
"""
    )
    proc = subprocess.Popen([telegraf, "--config", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        end = time.monotonic() + 20
        while time.monotonic() < end and (not out.exists() or out.read_text().count("\n") < len(lines)):
            time.sleep(0.1)
    finally:
        proc.terminate()
        proc.wait(15)
    return [json.loads(line) for line in out.read_text().splitlines()[: len(lines)]]


measurements = accepted(", ").filter(lambda m: not m.startswith("#"))  # '#' first is refused at start-up too


@settings(
    max_examples=5,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: each example runs Telegraf
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.lists(st.tuples(measurements, accepted(",= "), accepted(",= "), accepted(",= ")), min_size=5, max_size=25))
def test_names_round_trip_through_telegraf(telegraf: str, tmp_path: Path, names) -> None:
    metrics = [
        Metric(measurement, {field: i}, {key: value}, 1_000_000_000 + i)
        for i, (measurement, key, value, field) in enumerate(names)
    ]
    got = read_back(telegraf, tmp_path, [encode(m) + "\n" for m in metrics])
    assert len(got) == len(metrics)
    by_value = {list(m["fields"].values())[0]: m for m in got}  # each metric carries its own index as value
    for i, metric in enumerate(metrics):
        back = by_value[i]
        assert (back["name"], back["tags"], back["fields"]) == (metric.measurement, dict(metric.tags), metric.fields)
