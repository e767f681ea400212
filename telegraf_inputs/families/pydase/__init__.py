"""pydase services: numeric attributes over pydase's REST API."""

from ...registry import Family

FAMILY = Family(
    name="pydase",
    title="Any pydase service (its REST API, pydase 0.8.5 and later)",
    models=("pydase",),
    driver="driver:DRIVER",
)
