"""Keysight DAQ970A / DAQ973A data acquisition systems, over VISA (SCPI)."""

from ...registry import Family

FAMILY = Family(
    name="daq970a",
    title="Keysight DAQ970A / DAQ973A data acquisition system",
    models=("Keysight DAQ970A", "Keysight DAQ973A"),
    driver="driver:DRIVER",
)
