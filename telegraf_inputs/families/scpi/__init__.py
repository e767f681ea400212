"""Any SCPI or ASCII instrument that answers a text query with a value, read by configuration alone."""

from ...registry import Family

FAMILY = Family(
    name="scpi",
    title="Any SCPI or ASCII instrument, by configuration (Query and how to parse its reply)",
    models=("SCPI", "Generic SCPI"),
    driver="driver:DRIVER",
)
