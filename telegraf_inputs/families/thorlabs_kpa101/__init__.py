"""Thorlabs KPA101 beam position aligner (quadrant detector), APT binary protocol over USB serial."""

from ...registry import Family

FAMILY = Family(
    name="thorlabs_kpa101",
    title="Thorlabs KPA101 beam position aligner (K-Cube quadrant detector)",
    models=("Thorlabs KPA101",),
    driver="driver:DRIVER",
)
