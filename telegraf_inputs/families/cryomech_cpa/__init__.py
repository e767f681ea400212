"""Cryomech CPA helium compressors (CPA 2.x and 3.x digital panels), over Modbus TCP."""

from ...registry import Family

FAMILY = Family(
    name="cryomech_cpa",
    title="Cryomech CPA helium compressor (CPA 2.x / 3.x digital panel)",
    models=("Cryomech CPA1110",),
    model_pattern=r"\s*[Cc][Rr][Yy][Oo][Mm][Ee][Cc][Hh][\s_-]*[Cc][Pp][Aa][\s_-]*\d{3,4}[A-Za-z0-9-]*\s*",
    pattern_doc="Cryomech CPA<nnnn> (any CPA compressor with a CPA 2.x or 3.x panel)",
    driver="driver:DRIVER",
)
