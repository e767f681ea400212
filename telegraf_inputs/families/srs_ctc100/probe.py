"""discover's question for a CTC100: ``*IDN?``, 9600 8N1; its entry reads the first input, In 1."""

from __future__ import annotations

from typing import Any

from ...discover import Probe


def identify(reply: bytes) -> dict[str, Any] | None:
    if b",CTC100," not in reply.split(b"\n")[0]:
        return None
    return {
        "Model": "SRS CTC100",
        "measurement": "cryotemperature",
        "Channels": {"In1": {"Type": "Temperature", "field-key": "in1", "tags": {"CTC100ChannelName": "In 1"}}},
    }


PROBES = (Probe("serial", b"*IDN?\n", identify, read_to=b"\n"),)
