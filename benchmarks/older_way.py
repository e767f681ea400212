"""The older way, rebuilt for comparison: one loop, each device in turn, one HTTP write per value.

This is how the logger this project replaces worked (see
../shared/reference/older-logger.md in the project's notes): it reads the
devices file, opens every device, and in each cycle reads the devices one
after the other and writes each channel's value in its own synchronous
InfluxDB 2.x write, stamped with the time of the write.  Its device traffic is
the older logger's: ``ROUT:SCAN`` then ``READ?`` per DAQ device; per chiller
channel one simple-protocol query whose reply is read with ``readline()``
(which waits out the port's timeout, since the reply has no newline); one
``GET /v1/sensors/<index>`` per PurpleAir channel.

The writes use one kept-alive HTTP connection, as influxdb-client's
synchronous API does; the timing is generous to the old design, not harsh.

Usage: python older_way.py DEVICES.json WRITE_URL TOKEN CYCLES
Prints one JSON object: per cycle its wall and CPU seconds and reading count.
"""

from __future__ import annotations

import http.client
import json
import sys
import time
import urllib.request
from typing import Any
from urllib.parse import urlparse

STX, ETX, ACK = b"\x02", b"\x03", 0x06


def escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=").replace(" ", "\\ ")


class Daq:
    def __init__(self, entry: dict[str, Any]) -> None:
        import pyvisa

        rm = pyvisa.ResourceManager("@py")
        self.inst = rm.open_resource(
            entry["Address"], read_termination="\n", write_termination="\n", timeout=entry.get("Timeout", 10000)
        )
        self.inst.query("*IDN?")
        self.channels = list(entry["Channels"].items())
        for _, ch in self.channels:
            self.inst.write(f"CONF:VOLT:DC (@{ch['DeviceChannel']})")
        self.inst.write("FORM:READ:CHAN ON")
        self.scan = ",".join(str(ch["DeviceChannel"]) for _, ch in self.channels)

    def read(self) -> list[tuple[dict[str, Any], float]]:
        self.inst.write(f"ROUT:SCAN (@{self.scan})")
        parts = self.inst.query("READ?").strip().split(",")
        by_number = {int(float(c)): float(v) for v, c in zip(parts[0::2], parts[1::2], strict=True)}
        return [(ch, by_number[ch["DeviceChannel"]]) for _, ch in self.channels]


class Chiller:
    def __init__(self, entry: dict[str, Any]) -> None:
        import serial

        line = entry.get("SerialConnectionParams", {})
        self.port = serial.Serial(
            entry["Address"],
            baudrate=line.get("baudrate", 9600),
            bytesize=line.get("bytesize", 8),
            parity=line.get("parity", "N"),
            stopbits=line.get("stopbits", 1),
            timeout=entry.get("Timeout", 1),
        )
        self.station = entry.get("DeviceSpecificParams", {}).get("InternalAddress", "01")
        self.channels = list(entry["Channels"].values())

    def read(self) -> list[tuple[dict[str, Any], float]]:
        out = []
        for ch in self.channels:
            self.port.write(STX + f"{self.station}R{ch['Type']}".encode() + ETX)
            reply = self.port.readline()  # no newline in the reply: returns after the timeout
            if len(reply) < 12 or reply[3] != ACK:
                raise OSError(f"bad reply {reply!r}")
            out.append((ch, int(reply[7:12]) / 10))
        return out


class PurpleAir:
    def __init__(self, entry: dict[str, Any]) -> None:
        self.key = entry["PurpleAirAPIKey"]
        self.base = entry["DeviceSpecificParams"]["BaseURL"]
        self.channels = list(entry["Channels"].values())

    def read(self) -> list[tuple[dict[str, Any], float]]:
        out = []
        for ch in self.channels:
            request = urllib.request.Request(
                f"{self.base}/sensors/{ch['PurpleAirSensorIndex']}", headers={"X-API-Key": self.key}
            )
            with urllib.request.urlopen(request, timeout=10) as reply:
                sensor = json.load(reply)["sensor"]
            out.append((ch, float(sensor[ch.get("Type", "0.3_um_count")])))
        return out


def open_device(entry: dict[str, Any]) -> Daq | Chiller | PurpleAir:
    model = entry["Model"]
    if "DAQ97" in model:
        return Daq(entry)
    if "HRS" in model:
        return Chiller(entry)
    return PurpleAir(entry)


def main(argv: list[str]) -> int:
    config, write_url, token, cycles = argv[0], argv[1], argv[2], int(argv[3])
    entries = json.loads(open(config).read())
    devices = [(entry, open_device(entry)) for entry in entries]
    url = urlparse(write_url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    headers = {"Authorization": f"Token {token}", "Content-Type": "text/plain; charset=utf-8"}
    path = "/api/v2/write?org=lab&bucket=lab&precision=ns"
    results = []
    for _ in range(cycles):
        start_wall, start_cpu = time.perf_counter(), time.process_time()
        readings = errors = 0
        for entry, device in devices:
            try:
                values = device.read()
            except Exception:  # the older logger skipped a failing device for the cycle
                errors += 1
                continue
            for ch, value in values:
                tags = {"device": entry["Device"], **entry.get("tags", {}), **ch.get("tags", {})}
                tag_text = "".join(f",{escape(k)}={escape(str(v))}" for k, v in sorted(tags.items()))
                field = escape(ch.get("field-key", "value"))
                value *= ch.get("Multiplier", 1)
                line = f"{escape(entry['measurement'])}{tag_text} {field}={value!r} {time.time_ns()}"
                conn.request("POST", path, body=line.encode(), headers=headers)
                reply = conn.getresponse()
                reply.read()
                if reply.status != 204:
                    raise SystemExit(f"write refused: HTTP {reply.status}")
                readings += 1
        results.append(
            {
                "wall_s": time.perf_counter() - start_wall,
                "cpu_s": time.process_time() - start_cpu,
                "readings": readings,
                "errors": errors,
            }
        )
    print(json.dumps({"cycles": results}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
