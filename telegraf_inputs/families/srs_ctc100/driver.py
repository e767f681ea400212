"""SRS CTC100 cryogenic temperature controllers over their USB virtual serial port.

Each channel names the CTC100 channel as the older logger's files do, in its
tags: ``CTC100ChannelName`` (``CTC100SensorName`` in its first files of
November 2022), and ``CTC100CustomCommand`` for Type ``Custom``.  Those stay
tags of the written lines, as they were.  A gather asks each distinct query
once; a reply is read to its CR LF and must be a number; NaN (an open sensor)
is a warning, never a value.
"""

from __future__ import annotations

import math

from ...base import Asked, Reading
from ...config import ChannelConfig, Declaration
from ...keys import Text
from ...lineprotocol import FieldValue
from ...serial_lines import AskedDevice, AskingDriver, AskingSession, BadReply, serial_keys
from .protocol import VOCABULARY, WIRE, remote_name


class CtcDevice(AskedDevice):
    """A CTC100 on its port."""


DECLARATION = Declaration(
    measurement="temperature",
    device=serial_keys(doc="the USB virtual serial port's line, as set on the CTC100 (9600 8N1)"),
    channel=(
        Text("Type", VOCABULARY.doc(), required=True, choices=VOCABULARY.types()),
    ),
)  # fmt: skip


def _query(ch: ChannelConfig) -> str:
    kind: str = ch.values["Type"]
    template = VOCABULARY.kinds[kind].request
    if template is None:
        command = ch.tags.get("CTC100CustomCommand", "").strip()
        if not command:
            raise ch.node.error('Type "Custom" needs the query in tags.CTC100CustomCommand', "tags")
        if any(c in command for c in "\r\n") or not command.isascii():
            raise ch.node.error("tags.CTC100CustomCommand must be one line of ASCII", "tags")
        return command
    name, old = ch.tags.get("CTC100ChannelName"), ch.tags.get("CTC100SensorName")
    if name is not None and old is not None and remote_name(name) != remote_name(old):
        raise ch.node.error(
            f"tags.CTC100ChannelName {name!r} and tags.CTC100SensorName {old!r} name two channels; "
            "give one (CTC100SensorName is its name in the older logger's first files)",
            "tags",
        )
    chosen = name if name is not None else old
    if chosen is None or not remote_name(chosen):
        raise ch.node.error(f'Type "{kind}" needs the CTC100 channel in tags.CTC100ChannelName (e.g. "In1")', "tags")
    query = template.format(name=remote_name(chosen))
    if not query.isascii():
        raise ch.node.error(
            f"the CTC100 channel name {chosen!r} is not ASCII; use its name as set on the panel", "tags"
        )
    return query


class CtcSession(AskingSession):
    hint = "; check the USB cable and that SerialConnectionParams match the CTC100"
    wire = WIRE

    def reading(self, ch: Asked, result: FieldValue | BadReply, when: int) -> Reading:
        if isinstance(result, float) and not math.isfinite(result):
            return Reading(ch.config, result, when, problem=f"{ch.request!r} reads {result} (sensor open?)")
        return super().reading(ch, result, when)


class Ctc100Driver(AskingDriver):
    """SRS CTC100."""

    declaration = DECLARATION
    session = CtcSession
    device = CtcDevice
    request = staticmethod(_query)


DRIVER = Ctc100Driver()
