"""Kurt J. Lesker ACG capacitance manometer: a stream of binary frames over RS-232."""

from ...registry import Family

FAMILY = Family(
    name="kjlc_acg",
    title="Kurt J. Lesker ACG capacitance manometer (INFICON CDG RS-232 protocol)",
    models=("KJLC ACG",),
    driver="driver:DRIVER",
)
