"""Every HTTP reply complete within Timeout, its headers included: a server that trickles its headers one byte
every half second holds no HTTP family's device past its Timeout (pydase and PurpleAir share the client)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from telegraf_inputs.families.pydase.simulator import PydaseSimulator
from telegraf_inputs.simulators import TcpServer
from tests.helpers import parse_lines, run_once, write_config


class TrickledHeaders(TcpServer):
    """Answers every request with a status line, then one header byte every 0.5 s (for at most 30 s)."""

    requests = 0

    def serve(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        conn.recv(65536)
        self.requests += 1
        conn.sendall(b"HTTP/1.1 200 OK\r\n")
        end = time.monotonic() + 30
        for byte in b"Content-Type: application/json\r\n" * 40:
            if time.monotonic() > end:
                return
            conn.sendall(bytes([byte]))
            time.sleep(0.5)


@pytest.fixture
def rogue() -> Iterator[TrickledHeaders]:
    server = TrickledHeaders().start()
    yield server
    server.stop()


@pytest.fixture
def healthy() -> Iterator[PydaseSimulator]:
    sim = PydaseSimulator().start()
    yield sim
    sim.stop()


def attribute(name: str) -> dict:
    return {"Type": "pydaseAttribute", "pydaseServerStructure": {"Attribute": name}, "field-key": name}


@pytest.mark.parametrize("family", ["pydase", "purpleair"])
def test_trickled_headers_end_at_the_timeout_and_the_healthy_device_is_read(
    tmp_path: Path, rogue: TrickledHeaders, healthy: PydaseSimulator, family: str
) -> None:
    if family == "pydase":
        slow = {"Device": "slow", "Model": "pydase", "Address": "127.0.0.1", "Port": rogue.port, "Timeout": 1,
                "measurement": "oven", "Channels": {"t": attribute("temperature")}}  # fmt: skip
    else:
        slow = {"Device": "slow", "Model": "PurpleAir", "Address": f"http://127.0.0.1:{rogue.port}", "Timeout": 1,
                "measurement": "air", "Channels": {"h": {"Type": "humidity"}}}  # fmt: skip
    good = {"Device": "good", "Model": "pydase", "Address": "127.0.0.1", "Port": healthy.port, "Timeout": 1,
            "measurement": "oven", "Channels": {"t": attribute("temperature")}}  # fmt: skip
    start = time.monotonic()
    result = run_once(["run", "--config", str(write_config(tmp_path, [slow, good]))], name="telegraf-lab", timeout=60)
    took = time.monotonic() - start
    assert rogue.requests >= 1
    assert took < 8, f"the trickled headers held the run for {took:.1f} s with Timeout 1 s"
    assert result.returncode == 1
    assert {line["tags"]["device"] for line in parse_lines(result.stdout)} == {"good"}
    (error,) = [line for line in result.stderr.splitlines() if line.startswith("E! ") and "'slow'" in line]
    assert "timed out" in error or "within the timeout of 1 s" in error, error
