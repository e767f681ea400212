"""The DAQ970A simulator run standalone, spoken to over a plain TCP socket."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from telegraf_inputs.families.daq970a.simulator import Daq970aSimulator, normalise_header


@contextmanager
def scpi(port: int) -> Iterator[Callable[[str], str]]:
    """A plain socket to the simulator; yields ask(message) -> the reply line."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        stream = conn.makefile("rw", newline="\n")

        def ask(message: str) -> str:
            stream.write(message + "\n")
            stream.flush()
            return stream.readline().strip()

        yield ask


def test_long_and_short_forms_normalise_alike() -> None:
    assert normalise_header("SENSe:VOLTage:DC:NPLCycles") == normalise_header("VOLT:NPLC") == "VOLT:NPLC"
    assert normalise_header(":SYSTem:ERRor:NEXT?") == "SYST:ERR?"
    assert normalise_header("CONFigure:TEMPerature") == "CONF:TEMP"


def test_standalone_simulator_answers_scpi_and_takes_fault_commands() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "telegraf_inputs.families.daq970a.simulator", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        banner = proc.stdout.readline()
        port = int(re.search(r"TCPIP0::127\.0\.0\.1::(\d+)::SOCKET", banner).group(1))
        with scpi(port) as ask:
            assert ask("*IDN?").startswith("Keysight Technologies,DAQ970A,")
            assert ask("BOGus:COMMand;:SYST:ERR?") == '-113,"Undefined header"'
            assert ask("CONF:VOLT:DC 10,(@101,102);:FORM:READ:CHAN ON;:SIM:OVER (@102);:READ?").endswith(
                ",101,+9.90000000E+37,102"
            )
            assert ask("SYST:ERR?") == '+0,"No error"'
    finally:
        proc.terminate()
        proc.wait(5)


def test_forty_channel_modules_fill_a_120_channel_scan() -> None:
    with Daq970aSimulator(modules={1: "DAQM908A", 2: "DAQM908A", 3: "DAQM908A"}) as sim:
        with scpi(sim.port) as ask:
            scan = "(@101:140,201:240,301:340)"
            assert ask(f"CONF:VOLT:DC {scan};:SYST:ERR?") == '+0,"No error"'
            reply = ask(f"ROUT:SCAN {scan};:FORM:READ:CHAN ON;:READ?").split(",")
            assert [int(c) for c in reply[1::2]] == [*range(101, 141), *range(201, 241), *range(301, 341)]
            # single-ended: no current channels and no 4-wire pairs
            assert ask("CONF:CURR:DC (@121);:SYST:ERR?") == '-221,"Settings conflict"'
            assert ask("CONF:FRES (@101);:SYST:ERR?") == '-221,"Settings conflict"'


def test_scan_time_holds_each_scan_but_not_other_queries() -> None:
    with Daq970aSimulator(scan_time_s=0.3) as sim:
        with scpi(sim.port) as ask:

            def timed(message: str) -> float:
                start = time.monotonic()
                ask(message)
                return time.monotonic() - start

            assert timed("CONF:VOLT:DC (@101);:ROUT:SCAN (@101);:*IDN?") < 0.3
            assert timed("READ?") >= 0.3
