"""Part 10: each family's gather against the wire (a raw client on the same simulator, or the bytes' time on
the line) and against the older logger's way of reading it; also the devices files of part 13."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from common import LAB
from common import SCPI
from common import Execd
from common import Rig
from common import Table
from common import lines_at_least
from common import median
from common import ms
from common import write_config

# --------------------------------------------------------------------------- 10. a row per family


@dataclass
class FamilyRow:
    """One family's gather beside the least the wire needs and beside the older way of reading it."""

    family: str
    load: str
    wire_s: list[float]  # the least any client must wait (raw exchanges, or bytes over the line)
    ours_s: list[float]
    ours_cpu_s: list[float]
    older_s: list[float]  # the older logger's way of reading the same channels
    older_what: str


SCPI_QUERIES = {f"MEAS:VOLT? (@{n})": f"+{n / 100:.6E}" for n in range(101, 109)}


def _scpi_older_way(address: str, queries: Sequence[str], cycles: int) -> list[float]:
    """The older logger's way with an instrument: pyvisa's query(), one query per round trip."""
    import pyvisa

    inst = pyvisa.ResourceManager("@py").open_resource(address, read_termination="\n", write_termination="\n")
    try:
        walls = []
        for _ in range(cycles):
            start = time.perf_counter()
            for query in queries:
                float(inst.query(query))
            walls.append(time.perf_counter() - start)
        return walls
    finally:
        inst.close()


ENTRIES: dict[str, dict[str, Any]] = {}  # each command's latest device entry (part 13 reads them again)


def gather_beside(
    name: str, entry: dict[str, Any], gathers: int, raw: Callable[[int], object] | None = None, pause_s: float = 0.0
) -> tuple[list[float], list[float], list[float]]:
    """``name`` in execd mode on ``entry``: 3 gathers to warm up, then ``gathers``, each followed by ``raw(n)``
    (the same readings by the thinnest client, on the same simulator, timed here). Wall and CPU of each
    gather, and the raw client's walls."""
    ENTRIES[name] = entry
    exe = Execd(name, write_config([entry]))
    count = len(entry["Channels"])
    walls, cpus, raws = [], [], []
    try:
        for _ in range(3):
            exe.gather(lines_at_least(count))
        for n in range(gathers):
            time.sleep(pause_s)
            g = exe.gather(lines_at_least(count))
            walls.append(g.wall_s)
            cpus.append(g.cpu_s)
            if raw is not None:
                start = time.perf_counter()
                raw(n)
                raws.append(time.perf_counter() - start)
    finally:
        exe.close()
    return walls, cpus, raws


def line_client(sock: socket.socket, messages: Sequence[bytes]) -> Callable[[int], None]:
    """A raw text client on ``sock``: each message sent, and its reply line read."""
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    reader = sock.makefile("rb")

    def exchange(_: int) -> None:
        for message in messages:
            sock.sendall(message)
            reader.readline()

    return exchange


def row_scpi(rig: Rig, latency: float, gathers: int) -> FamilyRow:
    sim = rig("scpi", name="family-scpi", answers=SCPI_QUERIES, latency_s=latency)
    channels = {f"ch{i}": {"Query": q, "tags": {"ch": str(i)}} for i, q in enumerate(SCPI_QUERIES)}
    entry = {"Device": "meter", "Model": "SCPI", "Address": sim["address"], "measurement": "bench",
             "DeviceSpecificParams": {"JoinQueries": True}, "Channels": channels}  # fmt: skip
    with socket.create_connection(("127.0.0.1", sim["port"])) as raw:
        joined = [(";".join(SCPI_QUERIES) + "\n").encode()]
        walls, cpus, wires = gather_beside(SCPI, entry, gathers, line_client(raw, joined))
    older = _scpi_older_way(sim["address"], list(SCPI_QUERIES), max(3, gathers // 4))
    return FamilyRow("scpi", f"{len(channels)} queries, JoinQueries, L = {latency * 1e3:g} ms per message", wires,
                     walls, cpus, older, "one query per round trip (pyvisa query())")  # fmt: skip


def _older_serial(path: str, baud: int, timeout: float, requests: list[bytes], cycles: int,
                  read: Callable[[Any], object]) -> list[float]:  # fmt: skip
    """The older logger's way with a serial instrument: pyserial, one request and ``read`` per channel."""
    import serial

    port = serial.Serial(path, baudrate=baud, timeout=timeout)
    try:
        walls = []
        for _ in range(cycles):
            start = time.perf_counter()
            for request in requests:
                port.reset_input_buffer()
                port.write(request)
                read(port)
            walls.append(time.perf_counter() - start)
        return walls
    finally:
        port.close()


def serial_row(
    rig: Rig,
    gathers: int,
    family: str,
    entry: Callable[[str], dict[str, Any]],
    older: Callable[[str], list[float]],
    older_what: str,
    load: str,
    gaps_s: float = 0.0,
    pause_s: float = 0.0,
    **sim: Any,
) -> FamilyRow:
    """A serial family's row: its executable on the simulator's pty; wire = its gather's bytes at the baud rate."""
    made = rig("serial", name=f"family-{family}", kind=family, **sim)
    config = entry(made["path"])
    walls, cpus, _ = gather_beside(f"telegraf-{family.replace('_', '-')}", config, gathers, pause_s=pause_s)
    traffic = rig("traffic", name=f"family-{family}")
    wire = traffic["bytes"] / (gathers + 3) * made["char_time"] + gaps_s  # the bytes of one gather, both ways
    return FamilyRow(family, load, [wire], walls, cpus, older(made["path"]), older_what)


def row_kjlc354(rig: Rig, latency: float, gathers: int) -> FamilyRow:
    def entry(path: str) -> dict[str, Any]:
        return {"Device": "gauge", "Model": "KJLC 354", "Address": path, "Timeout": 1, "measurement": "bench",
                "SerialConnectionParams": {"baudrate": 19200, "bytesize": 8, "stopbits": 1, "parity": "N"},
                "DeviceSpecificParams": {"InternalAddress": "01"},
                "Channels": {"P": {"Type": "Pressure", "field-key": "pressure"}}}  # fmt: skip

    def older(path: str) -> list[float]:  # readline() waits for a LF the gauge never sends
        return _older_serial(path, 19200, 1.0, [b"#01RD\r"], 3, lambda port: port.readline())

    return serial_row(rig, gathers, "kjlc354", entry, older,
                      "readline() per channel, Timeout 1 s", "1 gauge, Pressure, 19200 baud", pause_s=0.06)  # fmt: skip


def row_srs_sim922(rig: Rig, latency: float, gathers: int) -> FamilyRow:
    def entry(path: str) -> dict[str, Any]:
        channels = {f"ch{n}": {"DeviceChannel": n, "tags": {"ch": str(n)}} for n in (1, 2, 3, 4)}
        return {"Device": "sim922", "Model": "SRS SIM922", "Address": path, "Timeout": 1, "measurement": "bench",
                "Channels": channels}  # fmt: skip

    def older(path: str) -> list[float]:  # one TVAL? n per channel, read with readline() (the reply ends in LF)
        requests = [f"TVAL? {n}\n".encode() for n in (1, 2, 3, 4)]
        return _older_serial(path, 9600, 1.0, requests, 5, lambda port: port.readline())

    return serial_row(rig, gathers, "srs_sim922", entry, older,
                      "TVAL? n and readline() per channel", "4 channels, 9600 baud")  # fmt: skip


def row_srs_ctc100(rig: Rig, latency: float, gathers: int) -> FamilyRow:
    names = ("In1", "In2", "In3", "Out1")

    def entry(path: str) -> dict[str, Any]:
        channels = {n: {"Type": "Temperature", "tags": {"CTC100ChannelName": n}} for n in names}
        return {"Device": "ctc", "Model": "SRS CTC100", "Address": path, "Timeout": 1, "measurement": "bench",
                "Channels": channels}  # fmt: skip

    def older(path: str) -> list[float]:  # <name>? and readline() per channel (the reply ends in LF)
        return _older_serial(path, 9600, 1.0, [f"{n}?\n".encode() for n in names], 5, lambda port: port.readline())

    return serial_row(rig, gathers, "srs_ctc100", entry, older, "<name>? and readline() per channel",
                      "4 channels, 9600 baud")  # fmt: skip


def row_thorlabs_mdt693b(rig: Rig, latency: float, gathers: int) -> FamilyRow:
    def entry(path: str) -> dict[str, Any]:
        channels = {a: {"Type": "Vout", "Axis": a, "tags": {"axis": a}} for a in "xyz"}
        return {"Device": "piezo", "Model": "Thorlabs MDT693B", "Address": path, "Timeout": 1, "measurement": "bench",
                "Channels": channels}  # fmt: skip

    def older(path: str) -> list[float]:  # read_until(CR), then the one-byte prompt: the reply's real end
        requests = [f"{a}voltage?\n".encode() for a in "xyz"]
        return _older_serial(path, 115200, 1.0, requests, 5, lambda port: (port.read_until(b"\r"), port.read(1)))

    return serial_row(rig, gathers, "thorlabs_mdt693b", entry, older, "read_until(CR) + prompt per channel",
                      "3 axes, 115200 baud")  # fmt: skip


def row_metone_dr528(rig: Rig, latency: float, gathers: int) -> FamilyRow:
    labels = ("0.3(CF)", "0.5(CF)", "AT(C)", "RH(%)")

    def entry(path: str) -> dict[str, Any]:
        return {"Device": "counter", "Model": "Met One DR-528", "Address": path, "Timeout": 1, "measurement": "bench",
                "Channels": {label: {"tags": {"ch": label}} for label in labels}}  # fmt: skip

    def older(
        path: str,
    ) -> list[float]:  # one request, readlines() until the Timeout passes (1 s here, 10 s in its file)
        return _older_serial(path, 115200, 1.0, [b"4\r"], 3, lambda port: port.readlines())

    return serial_row(rig, gathers, "metone_dr528", entry, older, "readlines() to the Timeout (1 s)",
                      "4 labels of one record, 115200 baud")  # fmt: skip


def row_kjlc_acg(rig: Rig, latency: float, gathers: int) -> FamilyRow:
    def entry(path: str) -> dict[str, Any]:
        return {"Device": "acg", "Model": "KJLC ACG", "Address": path, "Timeout": 1, "measurement": "bench",
                "Channels": {"P": {"Type": "Pressure"}}}  # fmt: skip

    def older(path: str) -> list[float]:  # read_all() of whatever the stream left in the buffer: no wait, no flush
        import serial

        port = serial.Serial(path, baudrate=9600, timeout=1.0)
        try:
            walls = []
            for _ in range(20):
                time.sleep(0.05)
                start = time.perf_counter()
                port.read_all()
                walls.append(time.perf_counter() - start)
            return walls
        finally:
            port.close()

    row = serial_row(rig, gathers, "kjlc_acg", entry, older, "read_all() of the buffered stream",
                     "1 gauge, the next frame, 9600 baud")  # fmt: skip
    row.wire_s = [9 / 960 + 0.010]  # one frame's bytes, and on average half the 20 ms between frames
    return row


def _modbus_read(sock: socket.socket, transaction: int, start: int, count: int) -> bytes:
    """One FC04 read on a raw socket: the request, and the reply read to its announced length."""
    pdu = bytes([4]) + start.to_bytes(2, "big") + count.to_bytes(2, "big")
    sock.sendall(transaction.to_bytes(2, "big") + b"\x00\x00\x00\x06\x01" + pdu)
    data = b""
    while len(data) < 7 or len(data) < 6 + int.from_bytes(data[4:6], "big"):
        data += sock.recv(1024)
    return data


CPA_REGISTERS = {"CoolantIntTemperature": 40, "CoolantOutTemperature": 41, "OilTemperature": 42,
                 "HeTemperature": 43, "LowPressure": 44, "HighPressure": 46}  # fmt: skip


def cpa_entry(address: str) -> dict[str, Any]:
    channels = {t: {"Type": t, "tags": {"ch": t}} for t in CPA_REGISTERS}
    return {"Device": "cpa", "Model": "Cryomech CPA1110", "Address": address, "measurement": "bench",
            "Channels": channels}  # fmt: skip


def row_cryomech_cpa(rig: Rig, latency: float, gathers: int) -> FamilyRow:
    sim = rig("cpa", name="family-cpa", latency_s=latency)
    registers = CPA_REGISTERS
    entry = cpa_entry(sim["address"])
    with socket.create_connection(("127.0.0.1", sim["port"])) as raw:
        # the thinnest client reads the same registers; the older logger's way, one request per channel, after
        walls, cpus, wires = gather_beside(
            "telegraf-cryomech-cpa", entry, gathers, lambda n: _modbus_read(raw, n, 1, 55)
        )
        older = []
        for n in range(max(3, gathers // 4)):
            start = time.perf_counter()
            for register in registers.values():
                _modbus_read(raw, n, register, 1)
            older.append(time.perf_counter() - start)
    return FamilyRow("cryomech_cpa", f"6 channels, L = {latency * 1e3:g} ms per request", wires, walls, cpus, older,
                     "one FC04 request per channel")  # fmt: skip


def row_rp_lockbox(rig: Rig, latency: float, gathers: int) -> FamilyRow:
    """The older logger's client waited for a chunk ending in CR LF, as this does: the same traffic, compared."""
    sim = rig("lockbox", name="family-lockbox")
    queries = ["ANALOG:IN1:VOLT?", "PID:IN1:OUT1:KP?", "PID:IN1:OUT1:KI?", "PID:IN1:OUT1:KD?"]
    channels = {"ain": {"Type": "FastAnalogIn", "DeviceChannel": 1, "tags": {"ch": "ain"}},
                **{t: {"Type": t, "PID": "11", "tags": {"ch": t}} for t in ("PGain", "IGain", "DGain")}}  # fmt: skip
    entry = {"Device": "lockbox", "Model": "rp-lockbox", "Address": "127.0.0.1",
             "SCPIConnectionParams": {"Port": sim["port"]}, "measurement": "bench", "Channels": channels}  # fmt: skip
    with socket.create_connection(("127.0.0.1", sim["port"])) as raw:
        messages = [query.encode() + b"\r\n" for query in queries]
        walls, cpus, wires = gather_beside("telegraf-rp-lockbox", entry, gathers, line_client(raw, messages))
    return FamilyRow("rp_lockbox", "4 queries on 127.0.0.1", wires, walls, cpus, wires,
                     "one query per round trip, read to CR LF (as here)")  # fmt: skip


def row_pydase(rig: Rig, latency: float, gathers: int) -> FamilyRow:
    """Wire: the same GETs by a raw keep-alive http.client; the older logger's Socket.IO client is not rebuilt."""
    import http.client
    from urllib.parse import quote

    sim = rig("pydase", name="family-pydase")
    paths = [("temperature", None, None), ("power", "channels", 0), ("power", "channels", 1)]
    channels = {f"c{i}": {"Type": "pydaseAttribute", "tags": {"ch": str(i)}, "pydaseServerStructure": {
        k: v for k, v in (("Attribute", a), ("Subclass", s), ("SubclassIndex", x)) if v is not None}}
        for i, (a, s, x) in enumerate(paths)}  # fmt: skip
    entry = {"Device": "svc", "Model": "pydase", "Address": "127.0.0.1", "Port": sim["port"], "measurement": "bench",
             "Channels": channels}  # fmt: skip
    targets = ["/api/v1/get_value?access_path=" + quote(p, safe="")
               for p in ("temperature", "channels[0].power", "channels[1].power")]  # fmt: skip
    raw = http.client.HTTPConnection("127.0.0.1", sim["port"], timeout=5)

    def get_all(_: int) -> None:
        for target in targets:
            raw.request("GET", target)
            raw.getresponse().read()

    try:
        walls, cpus, wires = gather_beside("telegraf-pydase", entry, gathers, get_all)
    finally:
        raw.close()
    return FamilyRow("pydase", "3 attributes, HTTP on 127.0.0.1", wires, walls, cpus, wires,
                     "not rebuilt (Socket.IO client); the raw GETs again")  # fmt: skip


def row_thorlabs_pm100(rig: Rig, latency: float, gathers: int) -> FamilyRow:
    sim = rig("pm100", name="family-pm100")
    queries = ["MEAS:POW?", "SENS:CORR:WAV?", "SENS:POW:RANG:AUTO?"]
    channels = {t: {"Type": t, "tags": {"ch": t}} for t in ("Power", "Wavelength", "PowerAutoRange")}
    entry = {"Device": "pm", "Model": "Thorlabs PM100", "Address": sim["address"], "measurement": "bench",
             "Channels": channels}  # fmt: skip
    with socket.create_connection(("127.0.0.1", sim["port"])) as raw:
        messages = [query.encode() + b"\n" for query in queries]
        walls, cpus, wires = gather_beside("telegraf-thorlabs-pm100", entry, gathers, line_client(raw, messages))
    older = _scpi_older_way(sim["address"], queries, max(3, gathers // 4))
    return FamilyRow("thorlabs_pm100", "3 queries, SCPI socket on 127.0.0.1", wires, walls, cpus, older,
                     "pyvisa query() per channel")  # fmt: skip


def row_thorlabs_kpa101(rig: Rig, latency: float, gathers: int) -> FamilyRow:
    def entry(path: str) -> dict[str, Any]:
        return {"Device": "kpa", "Model": "Thorlabs KPA101", "Address": path, "Timeout": 1, "measurement": "bench",
                "Channels": {t: {"Type": t, "tags": {"ch": t}} for t in ("XDiff", "YDiff", "Sum")}}  # fmt: skip

    def older(path: str) -> list[float]:  # amodevices: one request, the 6-byte header and the data it announces
        return _older_serial(path, 115200, 1.0, [bytes([0x71, 0x08, 0x03, 0x00, 0x50, 0x01])], 5,
                             lambda port: port.read(6 + 12))  # fmt: skip

    return serial_row(rig, gathers, "thorlabs_kpa101", entry, older, "one request, header and data read",
                      "3 channels, 115200 baud")  # fmt: skip


FAMILY_ROWS: list[Callable[[Rig, float, int], FamilyRow]] = [
    row_scpi,
    row_thorlabs_pm100,
    row_pydase,
    row_rp_lockbox,
    row_cryomech_cpa,
    row_kjlc354,
    row_srs_sim922,
    row_srs_ctc100,
    row_thorlabs_mdt693b,
    row_metone_dr528,
    row_kjlc_acg,
    row_thorlabs_kpa101,
]


MEASURED_ELSEWHERE = {"daq970a", "smc_hrs", "purpleair"}  # parts 1 to 9 measure these three


def generic_row(family: Any, gathers: int) -> list[str]:
    """A family without a row of its own: its sample.json read by ``telegraf-lab run --simulate``, its
    simulator in the same process (so the CPU is both's); no wire or older way to set beside it."""
    from telegraf_inputs import docs

    config = write_config(docs.sample(family))
    exe = Execd(LAB, config, "--simulate", "--family", family.name)
    try:
        count = len(exe.gather(lambda lines: bool(lines), settle=1.0).lines)  # every device read once
        for _ in range(3):
            exe.gather(lines_at_least(count))
        measured = [exe.gather(lines_at_least(count)) for _ in range(gathers)]
    finally:
        exe.close()
    walls, cpus = [g.wall_s for g in measured], [g.cpu_s for g in measured]
    return [family.name, f"its sample.json, {count} lines, --simulate (generic row)", "–", ms(median(walls)), "–",
            "–", "–", ms(median(cpus)), "–"]  # fmt: skip


def bench_families(rig: Rig, latency: float, gathers: int) -> Table:
    from telegraf_inputs import registry

    table = Table(
        f"10. Each family's gather against the wire and against the older way, {gathers} gathers",
        ["family", "load", "wire median ms", "ours median ms", "ours / wire", "older way median ms",
         "older / ours", "ours CPU/gather ms", "older way"],
    )  # fmt: skip
    own = {make.__name__.removeprefix("row_"): make for make in FAMILY_ROWS}
    for family in registry.families():
        if family.name in MEASURED_ELSEWHERE:
            continue
        if family.name not in own:
            table.rows.append(generic_row(family, gathers))
            continue
        r = own[family.name](rig, latency, gathers)
        table.rows.append(
            [r.family, r.load, ms(median(r.wire_s)), ms(median(r.ours_s)), f"{median(r.ours_s) / median(r.wire_s):.2f}",
             ms(median(r.older_s)), f"{median(r.older_s) / median(r.ours_s):.1f}", ms(median(r.ours_cpu_s)),
             r.older_what]
        )  # fmt: skip
    table.notes.append(
        "Wire: the least any client must wait for the same readings (a raw client's exchange on the same "
        "simulator, or the bytes' time on the serial line at its baud rate plus the instrument's reply time). "
        "Ours: the executable in execd mode, trigger to last line. Older way: the older logger's traffic for "
        "the family (see the last column). A family without a row of its own gets a generic one: its "
        "sample.json read with --simulate, nothing beside it."
    )
    return table
