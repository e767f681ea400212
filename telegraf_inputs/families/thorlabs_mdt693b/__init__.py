"""Thorlabs MDT693B 3-axis piezo controller, over its USB virtual serial port (ASCII with a prompt)."""

from ...registry import Family

FAMILY = Family(
    name="thorlabs_mdt693b",
    title="Thorlabs MDT693B 3-axis piezo controller",
    models=("Thorlabs MDT693B",),
    driver="driver:DRIVER",
)
