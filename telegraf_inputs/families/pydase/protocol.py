"""What both ends of pydase's REST API share: access paths and serialized values.

``GET /api/v1/get_value?access_path=<path>`` answers the serialized attribute:
``{"full_access_path", "type", "value", "readonly", "doc"}``; a Quantity's
value is ``{"magnitude": number, "unit": text}``.  An error is HTTP 400 with a
serialized exception: ``{"type": "Exception", "name": "AttributeError",
"value": message}``.  An access path reads like Python: ``sub[2].attr``,
``sub["key"].attr``.
"""

from __future__ import annotations

import json
import re

DEFAULT_PORT = 8001
API = "/api/v1/get_value"
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
NUMBER_TYPES = ("float", "int", "bool")


def access_path(attribute: str, subclass: str | None = None, index: int | str | None = None) -> str:
    """``Subclass[SubclassIndex].Attribute`` as pydase writes access paths."""
    path = subclass or ""
    if index is not None:
        path += f"[{index}]" if isinstance(index, int) else f"[{json.dumps(index)}]"
    return f"{path}.{attribute}" if path else attribute


def exception_text(body: object) -> str:
    """A serialized exception's name and message (TypeError if the body is not one)."""
    if not isinstance(body, dict):
        raise TypeError("not a serialized exception")
    return f"{body.get('name', 'Exception')}: {str(body.get('value', ''))[:300]}"
