"""SRS SIM922 diode temperature monitor, on its own serial port or in a SIM900 mainframe."""

from ...registry import Family

FAMILY = Family(
    name="srs_sim922",
    title="Stanford Research Systems SIM922 diode temperature monitor (direct, or in a SIM900 mainframe)",
    models=("SRS SIM922", "SRSSIM922"),
    driver="driver:DRIVER",
)
