"""discover's question for a KPA101: APT's MGMSG_HW_REQ_INFO, 115200 8N1; the reply names the model and serial."""

from __future__ import annotations

import struct
from typing import Any

from ...discover import Probe
from .protocol import HEADER, HW_GET_INFO, HW_REQ_INFO, short_message

INFO_LENGTH = 84


def identify(reply: bytes) -> dict[str, Any] | None:
    if len(reply) < HEADER + INFO_LENGTH:
        return None
    message_id, length = struct.unpack("<HH", reply[:4])
    if message_id != HW_GET_INFO or length != INFO_LENGTH or not reply[4] & 0x80:
        return None
    serial, model = struct.unpack("<I8s", reply[HEADER : HEADER + 12])
    if not model.rstrip(b"\0").startswith(b"KPA101"):
        return None
    return {
        "Model": "Thorlabs KPA101",
        "SerialNumber": serial,
        "SerialConnectionParams": None,
        "measurement": "beamposition",
        "Channels": {t: {"Type": t, "field-key": t, "tags": {"unit": "V"}} for t in ("XDiff", "YDiff", "Sum")},
    }


PROBES = (Probe("serial", short_message(HW_REQ_INFO), identify, read_to=None, length=HEADER + INFO_LENGTH,
                line=(115200, 8, "N", 1), usb=((0x0403, 0xFAF0),), serials=r"69\d{6}A?"),)  # fmt: skip
