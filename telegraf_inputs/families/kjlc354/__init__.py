"""Kurt J. Lesker KJLC 354 / 352 ion gauges (InstruTech IGM401 / IGM402), over RS-485 ASCII."""

from ...registry import Family

FAMILY = Family(
    name="kjlc354",
    title="Kurt J. Lesker KJLC 354 / 352 hot-cathode ion gauge (InstruTech IGM401 / IGM402)",
    models=("KJLC 354", "KJLC 352"),
    driver="driver:DRIVER",
)
