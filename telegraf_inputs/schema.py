"""The JSON Schema of devices files, written from the families' declarations.

``telegraf-lab schema`` prints it; the copy shipped in ``schema/devices.schema.json``
is that output (a test keeps the two equal), so the schema an editor checks
against and the checks at start-up cannot drift apart.
"""

from __future__ import annotations

from typing import Any

from . import registry
from .keys import case_insensitive_pattern

SCHEMA_ID = "https://example.invalid/telegraf-lab-inputs/devices.schema.json"


def _model_condition(family: registry.Family) -> dict[str, Any]:
    patterns = [case_insensitive_pattern(family.models, loose_spaces=True)]
    if family.model_pattern is not None:
        patterns.append("^(?:" + family.model_pattern + ")$")
    return {
        "properties": {"Model": {"type": "string", "anyOf": [{"pattern": p} for p in patterns]}},
        "required": ["Model"],
    }


def build_schema() -> dict[str, Any]:
    """The whole schema: a list of devices; each device checked by the family its Model picks."""
    families = registry.families()
    defs: dict[str, Any] = {
        "tags": {
            "type": "object",
            "description": "tags added to every line (string or number values; keys starting with _ are comments)",
            "additionalProperties": {"type": ["string", "number"], "minLength": 1},
        },
        "converter": {
            "type": "object",
            "description": "value = sum of c_k * value^k, after the Multiplier",
            "required": ["Type", "Coefficients"],
            "propertyNames": {"anyOf": [{"pattern": "^_"}, {"enum": ["Type", "Coefficients"]}]},
            "properties": {
                "Type": {"type": "string", "pattern": case_insensitive_pattern(["polynomial"])},
                "Coefficients": {
                    "type": "object",
                    "description": "exponent (0 ... 20) -> coefficient",
                    "minProperties": 1,
                    "propertyNames": {"pattern": "^([0-9]|1[0-9]|20|_.*)$"},
                    "additionalProperties": {"type": "number"},
                },
            },
        },
    }
    for family in families:
        defs[family.name] = {
            "description": family.title,
            **family.load_driver().declaration.device_keys().schema(),
        }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "devices file of telegraf-lab-inputs",
        "description": "A list of device entries. Entries of models no installed family reads are allowed and "
        "skipped (with a warning). Written by `telegraf-lab schema` from the families' declarations.",
        "type": "array",
        "items": {
            "type": "object",
            "required": ["Device", "Model"],
            "properties": {"Device": {"type": "string", "minLength": 1}, "Model": {"type": "string"}},
            "allOf": [{"if": _model_condition(f), "then": {"$ref": f"#/$defs/{f.name}"}} for f in families],
        },
        "$defs": defs,
    }
