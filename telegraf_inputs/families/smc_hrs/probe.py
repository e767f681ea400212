"""discover's question for an SMC HRS chiller: a MODBUS read of its first registers, station 1.

Read-only (function 03), at 9600 8N1 (the family's default) and then 9600 8N2 (the older logger's files);
the reply's CRC must hold.  The entry reads the discharge temperature and the
alarm flags.
"""

from __future__ import annotations

from typing import Any

from ...discover import Probe
from .protocol import BLOCK_COUNT, BLOCK_START, modbus_read_request, parse_modbus_reply


def identify(reply: bytes) -> dict[str, Any] | None:
    try:
        parse_modbus_reply(reply, 1, BLOCK_COUNT)
    except Exception:  # noqa: BLE001 (not a reply of station 1: not this family)
        return None
    return {"Model": "SMC HRS012-AN-10-T", "measurement": "temperature",
            "DeviceSpecificParams": {"InternalAddress": "01", "Protocol": "modbus"},
            "Channels": {"PV1": {"Type": "PV1", "tags": {"unit": "DegC"}},
                         "alarms": {"Type": "ALARMS", "field-key": "alarms"}}}  # fmt: skip


PROBES = tuple(Probe("serial", modbus_read_request(1, BLOCK_START, BLOCK_COUNT), identify, read_to=None,
                     length=5 + 2 * BLOCK_COUNT, line=(9600, 8, "N", stop)) for stop in (1, 2))  # fmt: skip
