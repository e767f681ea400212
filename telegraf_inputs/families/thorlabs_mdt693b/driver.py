"""Thorlabs MDT693B 3-axis piezo controllers over their USB virtual serial port.

A channel reads an axis's output voltage (``Type`` ``Vout``, ``Axis`` x, y or
z, as the older logger's files have it), its limits, or the output limit
switch.  Each reply is read to the prompt ``>`` that ends it, never by waiting
out the timeout, and must hold one bracketed value within 0-150 V.
"""

from __future__ import annotations

from ...config import Declaration
from ...keys import Text
from ...serial_lines import AskedDevice, AskingDriver, AskingSession, serial_keys
from .protocol import AXES, VOCABULARY, WIRE


class PiezoDevice(AskedDevice):
    """An MDT693B on its port."""


DECLARATION = Declaration(
    measurement="piezo",
    device=serial_keys(baudrate=115200, doc="the USB virtual serial port's line (115200 8N1; the older logger's "
                       "example gave none, which meant 9600 there and could not talk to the controller)"),
    channel=(
        Text("Type", VOCABULARY.doc(), required=True, choices=VOCABULARY.types()),
        Text("Axis", "x, y or z (for Vout, Vmin, Vmax)", choices=AXES),
    ),
)  # fmt: skip


class PiezoSession(AskingSession):
    hint = "; check the USB cable and that SerialConnectionParams match the controller (115200 8N1)"
    wire = WIRE


class Mdt693bDriver(AskingDriver):
    """Thorlabs MDT693B."""

    declaration = DECLARATION
    session = PiezoSession
    device = PiezoDevice
    vocabulary = VOCABULARY


DRIVER = Mdt693bDriver()
