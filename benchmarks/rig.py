"""The benchmarks' bench: simulators and an InfluxDB write receiver, in a process of their own.

Keeping the simulators out of the measuring process means their threads never
compete with the measurement for the GIL, and their CPU time never counts as
the executable's.  ``run.py`` starts this file and sends it one JSON object
per line on stdin ({"op": ..., **arguments}); each gets one JSON line back on
stdout: {"ok": result} or {"error": text}.
"""

from __future__ import annotations

import http.server
import json
import shutil
import ssl
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from telegraf_inputs.families.daq970a.simulator import Daq970aSimulator
from telegraf_inputs.families.daq970a.simulator import Faults as DaqFaults
from telegraf_inputs.families.purpleair.simulator import Faults as PaFaults
from telegraf_inputs.families.purpleair.simulator import PurpleAirSimulator
from telegraf_inputs.families.scpi.simulator import ScpiSimulator
from telegraf_inputs.families.smc_hrs.simulator import Faults as HrsFaults
from telegraf_inputs.families.smc_hrs.simulator import HrsSimulator


class WriteReceiver:
    """Answers InfluxDB 2.x ``POST /api/v2/write`` with 204 and counts requests and lines."""

    def __init__(self, token: str) -> None:
        self.requests = 0
        self.lines = 0
        self.refused = 0
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as InfluxDB serves it

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                ok = self.path.startswith("/api/v2/write?") and self.headers.get("Authorization") == f"Token {token}"
                if ok:
                    receiver.requests += 1
                    receiver.lines += sum(1 for line in body.splitlines() if line.strip())
                else:
                    receiver.refused += 1
                self.send_response(204 if ok else 401)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()


class Rig:
    """The operations run.py may call, by name."""

    def __init__(self) -> None:
        self.sims: dict[str, Any] = {}
        self.receivers: list[WriteReceiver] = []
        self.links = Path(tempfile.mkdtemp(prefix="bench-serial-"))
        self.vanished: set[str] = set()

    def daq(self, name: str, modules: dict[str, str] | None = None, scan_s: float = 0.0) -> dict[str, Any]:
        slots = {int(k): v for k, v in modules.items()} if modules else None
        sim = Daq970aSimulator(modules=slots, scan_time_s=scan_s).start()
        self.sims[name] = sim
        return {"address": sim.address, "port": sim.port}

    def smc(self, name: str, **kw: Any) -> dict[str, Any]:
        sim = HrsSimulator(link=self.links / name, **kw).start()
        self.sims[name] = sim
        return {"path": sim.path}

    def purpleair(
        self, name: str, api_key: str, sensors: list[int], tls: list[str] | None = None, keep_alive: bool = True
    ) -> dict[str, Any]:
        context = None
        if tls is not None:  # [certificate file, key file]: serve HTTPS
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
        sim = PurpleAirSimulator(api_key, tls=context, keep_alive=keep_alive).start()
        for index in sensors:
            sim.add_sensor(index)
        self.sims[name] = sim
        return {"base_url": sim.base_url, "lan": {str(i): sim.lan_url(i) for i in sensors}}

    def scpi(self, name: str, answers: dict[str, str], latency_s: float = 0.0) -> dict[str, Any]:
        sim = ScpiSimulator(answers, latency_s=latency_s).start()
        self.sims[name] = sim
        return {"address": sim.address, "port": sim.port}

    def serial(self, name: str, kind: str, **kw: Any) -> dict[str, Any]:
        """A serial family's simulator on a pty: ``kind`` is its family folder, ``kw`` its settings."""
        import importlib

        module = importlib.import_module(f"telegraf_inputs.families.{kind}.simulator")
        cls = next(v for k, v in vars(module).items() if k.endswith("Simulator") and k != "LineSimulator")
        sim = cls(link=self.links / name, **kw).start()
        self.sims[name] = sim
        return {"path": sim.path, "char_time": sim.char_time}

    def cpa(self, name: str, latency_s: float = 0.0) -> dict[str, Any]:
        from telegraf_inputs.families.cryomech_cpa.simulator import CpaSimulator

        sim = CpaSimulator(latency_s=latency_s).start()
        self.sims[name] = sim
        return {"address": sim.address, "port": sim.port}

    def lockbox(self, name: str) -> dict[str, Any]:
        from telegraf_inputs.families.rp_lockbox.simulator import LockboxSimulator

        sim = LockboxSimulator().start()
        self.sims[name] = sim
        return {"port": sim.port}

    def pydase(self, name: str) -> dict[str, Any]:
        from telegraf_inputs.families.pydase.simulator import PydaseSimulator

        sim = PydaseSimulator().start()
        self.sims[name] = sim
        return {"port": sim.port}

    def pm100(self, name: str) -> dict[str, Any]:
        from telegraf_inputs.families.thorlabs_pm100.simulator import Pm100Simulator

        sim = Pm100Simulator().start()
        self.sims[name] = sim
        return {"address": sim.address, "port": sim.port}

    def traffic(self, name: str) -> dict[str, int]:
        """How many requests a serial simulator got, and the bytes of them and their replies."""
        log = self.sims[name].log
        return {"requests": len(log), "bytes": sum(len(q) + len(r or b"") for q, r in log)}

    def connections(self, name: str) -> int:
        """How many connections a PurpleAir simulator has accepted."""
        return int(self.sims[name].connections)

    def receiver(self, token: str) -> dict[str, Any]:
        self.receivers.append(WriteReceiver(token))
        return {"url": self.receivers[-1].url, "id": len(self.receivers) - 1}

    def received(self, id: int) -> dict[str, int]:  # noqa: A002 (the RPC argument's name)
        r = self.receivers[id]
        return {"requests": r.requests, "lines": r.lines, "refused": r.refused}

    def fault(self, name: str, **faults: Any) -> None:
        """Set fault switches on a simulator's ``faults`` (JSON lists become what the field holds)."""
        target = self.sims[name].faults
        for key, value in faults.items():
            if not hasattr(target, key):
                raise AttributeError(f"{type(self.sims[name]).__name__}.faults has no {key!r}")
            if key == "error_on_read":
                value = tuple(value)
            elif key == "overload":
                value = set(value)
            setattr(target, key, value)

    def vanish(self, name: str) -> None:
        """A serial adapter unplugged: its path disappears until ``clear``."""
        self.sims[name].vanish()
        self.vanished.add(name)

    def clear(self, name: str) -> None:
        """Every fault off; a vanished serial adapter is plugged back in."""
        sim = self.sims[name]
        if isinstance(sim, Daq970aSimulator):
            sim.instrument.faults = DaqFaults()
        elif isinstance(sim, HrsSimulator):
            if name in self.vanished:
                self.vanished.discard(name)
                sim.reappear()
            sim.faults = HrsFaults()
        else:
            sim.faults = PaFaults()

    def stop(self) -> None:
        for sim in self.sims.values():
            sim.stop()
        for r in self.receivers:
            r.server.shutdown()
        shutil.rmtree(self.links, ignore_errors=True)


def main() -> int:
    rig = Rig()
    for line in sys.stdin:
        request = json.loads(line)
        op = request.pop("op")
        try:
            reply: dict[str, Any] = {"ok": getattr(rig, op)(**request)}
        except Exception as exc:  # reported to run.py, which stops with it
            reply = {"error": f"{op}: {type(exc).__name__}: {exc}"}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()
        if op == "stop":
            break
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
