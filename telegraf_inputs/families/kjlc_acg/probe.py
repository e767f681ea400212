"""discover's question for a KJLC ACG: none is sent; the gauge streams its frames, 9600 8N1, and one is waited for."""

from __future__ import annotations

from typing import Any

from ...discover import Probe
from .protocol import FRAME_LENGTH, find_frame


def identify(reply: bytes) -> dict[str, Any] | None:
    try:
        frame = find_frame(reply)
    except Exception:  # noqa: BLE001 (not a frame: not this family)
        return None
    if frame is None:
        return None
    return {"Model": "KJLC ACG", "measurement": "pressure",
            "Channels": {"P": {"Type": "Pressure", "field-key": "pressure", "tags": {"unit": "Torr"}}}}  # fmt: skip


PROBES = (Probe("serial", b"", identify, read_to=None, length=3 * FRAME_LENGTH),)
