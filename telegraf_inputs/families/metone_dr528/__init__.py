"""Met One DR-528 handheld particle counter, over RS-232 (ASCII CSV records)."""

from ...registry import Family

FAMILY = Family(
    name="metone_dr528",
    title="Met One DR-528 handheld particle counter",
    models=("Met One DR-528",),
    driver="driver:DRIVER",
)
