"""discover's question for a PurpleAir sensor on the LAN: ``GET /json`` (free, no key); it names the sensor."""

from __future__ import annotations

import json
from typing import Any

from ...discover import Probe


def identify(reply: bytes) -> dict[str, Any] | None:
    try:
        body = json.loads(reply)
    except ValueError:
        return None
    if not isinstance(body, dict) or "SensorId" not in body or "current_temp_f" not in body:
        return None
    return {"Model": "PurpleAir", "measurement": "purpleair",
            "Channels": {"pm": {"Type": "pm2.5_atm", "field-key": "pm2_5"},
                         "t": {"Type": "temperature", "field-key": "temperature_f"},
                         "h": {"Type": "humidity", "field-key": "humidity"}}}  # fmt: skip


PROBES = (Probe("http", b"", identify, path="/json"),)
