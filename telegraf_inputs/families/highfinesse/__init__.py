"""HighFinesse / Ångstrom wavelength meters, through the vendor's library (wlmData) beside the WLM application."""

from ...registry import Family

FAMILY = Family(
    name="highfinesse",
    title="HighFinesse / Ångstrom wavelength meters (WS/6, WS/7, WS Ultimate...)",
    models=("HighFinesse",),
    driver="driver:DRIVER",
)
