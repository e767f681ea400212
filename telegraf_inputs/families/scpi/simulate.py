"""--simulate for configured SCPI instruments: one made-up instrument per connection, answering its queries."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace

from ...base import DeviceSpec
from ...simulators import simulate_per_connection, stopwatch
from .driver import ScpiDevice
from .protocol import Parsing
from .simulator import DEFAULT_IDN, Answer, ScpiSimulator, reply_for

log = logging.getLogger("telegraf_inputs")


def _answer(query: str, parsings: list[Parsing], elapsed: Callable[[], float]) -> Answer:
    def answer() -> str:
        return reply_for(parsings, query, elapsed()) or "?"

    return answer


def simulate(devices: Sequence[DeviceSpec]) -> tuple[list[DeviceSpec], Callable[[], None]]:
    """Start the simulators; the devices pointed at them, and a function that stops them."""

    def start(group: list[ScpiDevice]) -> ScpiSimulator:
        by_query: dict[str, list[Parsing]] = {}
        for device in group:
            for ch in device.channels:
                by_query.setdefault(ch.query, []).append(ch.parsing)
        for query, parsings in by_query.items():
            if reply_for(parsings, query) is None:
                log.warning("--simulate: no made-up reply to %r suits its channels' Regex/Index/FieldType; "
                            "the simulator answers it with '?'", query)  # fmt: skip
        first = group[0]  # check_all made sure devices sharing a connection share its terminations
        idn = next((d.visa_idn for d in group if d.visa_idn), None)
        elapsed = stopwatch()
        return ScpiSimulator(
            {query: _answer(query, parsings, elapsed) for query, parsings in by_query.items()},
            error_query=next((d.error_query for d in group if d.error_query), None),
            read_termination=first.read_termination,
            write_termination=first.write_termination,
            idn=idn or DEFAULT_IDN,
        ).start()

    def point(device: ScpiDevice, sim: ScpiSimulator) -> DeviceSpec:
        address = sim.address_like(device.address)  # the transport the file names: raw socket, VXI-11 or HiSLIP
        return replace(device, address=address, visa_library="@py", line=None, connection=f"sim|{address}")

    return simulate_per_connection([d for d in devices if isinstance(d, ScpiDevice)], start, point)
