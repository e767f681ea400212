"""SMC HRS-series thermo-chillers, over RS-232C or RS-485 (simple protocol or MODBUS RTU)."""

from ...registry import Family

#: "SMC HRS012-AN-10-T", "SMC-HRS030-AF-20" (the 2022 spelling), "smc hrsh090-..."; group 1 is the model
#: number.  Letters in both cases and no inline flags: it is also the JSON Schema's (ECMA-262) pattern.
MODEL_REGEX = r"\s*[Ss][Mm][Cc][\s_-]*([Hh][Rr][Ss][Hh]?\d{3}[A-Za-z0-9-]*)\s*"

FAMILY = Family(
    name="smc_hrs",
    title="SMC HRS-series thermo-chiller",
    models=("SMC HRS012-AN-10-T", "SMC-HRS012-AN-10-T"),
    model_pattern=MODEL_REGEX,
    pattern_doc="SMC HRS<nnn>-... (any HRS/HRSH model)",
    driver="driver:DRIVER",
)
