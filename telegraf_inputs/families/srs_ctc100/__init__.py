"""SRS CTC100 cryogenic temperature controller, over its USB virtual serial port (ASCII)."""

from ...registry import Family

FAMILY = Family(
    name="srs_ctc100",
    title="Stanford Research Systems CTC100 cryogenic temperature controller",
    models=("SRS CTC100",),
    driver="driver:DRIVER",
)
