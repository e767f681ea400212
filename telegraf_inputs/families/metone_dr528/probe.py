"""discover's question for a DR-528: ``4`` + CR, the older logger's record request, 115200 8N1.

It only sends the last record (a header line and a data line); the entry reads the labels the header
names for 0.3 µm counts, air temperature and humidity, where the header has them.
"""

from __future__ import annotations

from typing import Any

from ...discover import Probe

WANTED = {"0.3(CF)": "0.3_um_count", "AT(C)": "temperature", "RH(%)": "humidity"}


def identify(reply: bytes) -> dict[str, Any] | None:
    lines = [line for line in reply.decode("ascii", "replace").splitlines() if line.strip()]
    if len(lines) < 2:
        return None
    labels = [label.strip() for label in lines[-2].split(",")]
    found = [label for label in labels[1:] if label in WANTED]
    if len(labels) < 3 or not found or len(lines[-1].split(",")) != len(labels):
        return None
    return {"Model": "Met One DR-528", "measurement": "particlecounts",
            "Channels": {label: {"Type": label, "field-key": WANTED[label]} for label in found}}  # fmt: skip


PROBES = (Probe("serial", b"4\r", identify, read_to=b"\n", count=2, line=(115200, 8, "N", 1)),)
