"""The network simulators run standalone, as a user starts one to try a devices file: ``python -m
telegraf_inputs.families.<family>.simulator --port P`` (and its own options) serves on that port and says so."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Callable

import pytest

from telegraf_inputs import registry


def free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as s:
        return int(s.getsockname()[1])


def talks(port: int) -> None:
    socket.create_connection(("127.0.0.1", port), timeout=5).close()


def lan_sensor(port: int) -> None:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/lan/7/json", timeout=5) as reply:  # noqa: S310
        assert reply.status == 200 and "pm2_5_atm" in json.loads(reply.read())


def scpi_answer(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"MEAS:TEMP?\n")
        assert s.makefile("rb").readline() == b"21.5\n"


NETWORK: dict[str, tuple[list[str], Callable[[int], None]]] = {
    "pydase": ([], talks),
    "rp_lockbox": ([], talks),
    "thorlabs_pm100": ([], talks),
    "cryomech_cpa": (["--panel", "2", "--unit", "3"], talks),
    "purpleair": (["--sensor", "7", "--key", "k"], lan_sensor),
    "scpi": (["--answer", "MEAS:TEMP?=21.5"], scpi_answer),
    "daq970a": ([], talks),
}


def test_every_network_family_is_here() -> None:
    serial = {
        "smc_hrs",
        "kjlc354",
        "kjlc_acg",
        "metone_dr528",
        "srs_ctc100",
        "srs_sim922",
        "thorlabs_kpa101",
        "thorlabs_mdt693b",
    }  # fmt: skip (tests/families/test_serial_runtime.py starts these)
    library = {"highfinesse"}  # its simulated library answers inside the library's worker: no port to serve
    assert set(NETWORK) | serial | library == {family.name for family in registry.families()}


@pytest.mark.parametrize("family", sorted(NETWORK))
def test_the_standalone_simulator_serves_on_the_port_it_is_given(family: str) -> None:
    options, check = NETWORK[family]
    port = free_port()
    command = [sys.executable, "-m", f"telegraf_inputs.families.{family}.simulator", *options, "--port", str(port)]
    sim = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert sim.stdout is not None
        banner = sim.stdout.readline()
        assert str(port) in banner, (banner, sim.stderr.read() if sim.poll() is not None and sim.stderr else "")
        check(port)
    finally:
        sim.terminate()
        sim.wait(10)


def test_a_malformed_option_is_a_usage_error() -> None:
    done = subprocess.run([sys.executable, "-m", "telegraf_inputs.families.scpi.simulator", "--answer", "X?"],
                          capture_output=True, text=True, timeout=30)  # fmt: skip
    assert done.returncode == 2 and "expected QUERY=REPLY" in done.stderr and "Traceback" not in done.stderr
