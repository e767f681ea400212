"""PurpleAir particle sensors: the cloud API (v1), or a sensor's own JSON on the LAN."""

from ...registry import Family

FAMILY = Family(
    name="purpleair",
    title="PurpleAir particle sensor",
    models=("PurpleAir",),
    driver="driver:DRIVER",
)
