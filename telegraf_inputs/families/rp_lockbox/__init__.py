"""Red Pitaya lock box (rp-lockbox): its SCPI server on TCP port 5000."""

from ...registry import Family

FAMILY = Family(
    name="rp_lockbox",
    title="Red Pitaya lock box (rp-lockbox SCPI server)",
    models=("rp-lockbox",),
    driver="driver:DRIVER",
)
