"""Thorlabs PM100 optical power meters (PM100D, PM100A, PM100USB), SCPI over VISA."""

from ...registry import Family

FAMILY = Family(
    name="thorlabs_pm100",
    title="Thorlabs PM100 optical power meter (PM100D / PM100A / PM100USB)",
    models=("Thorlabs PM100",),
    driver="driver:DRIVER",
)
