"""A real pydase service holding what the simulator holds: python -m tests.families.pydase.real_service PORT.

Each value of the simulator's ``default_service()`` becomes what a pydase user would write: a
Quantity from ``pydase.units`` (``u.Quantity`` or ``u.units.Quantity``, whichever sends the unit as
the simulator does), a list or dict of DataService subclasses, a property whose getter raises.  pydase reads
every attribute once when it starts, so the raising property raises only once the service answers.
"""

from __future__ import annotations

import socket
import sys
import threading
import time
from typing import Any

import pydase
import pydase.units as u

from telegraf_inputs.families.pydase.simulator import Keyed, Quantity, Raises, Sub, default_service

ANSWERING = threading.Event()


def build(value: Any) -> Any:
    if isinstance(value, Quantity):
        # u.Quantity(5.0, "V") is pint's own Quantity: pydase sends its unit's long name, "volt"; one made
        # with pydase's registry (5.0 * u.units.V, u.units.Quantity) goes in its short form, "V", "°C"
        for make in (u.Quantity, u.units.Quantity):
            quantity = make(value.magnitude, value.unit)
            if str(quantity.u) == value.unit:
                return quantity
        raise ValueError(f"no pydase Quantity is sent with the unit {value.unit!r}")
    if isinstance(value, list):
        return [build(v) for v in value]
    if isinstance(value, Keyed):
        return {k: build(v) for k, v in value.items()}
    if isinstance(value, Sub | dict):
        return service_class(getattr(value, "kind", "Service"), value)()
    return value


def service_class(kind: str, attributes: dict[str, Any]) -> type:
    def __init__(self: Any) -> None:  # noqa: N807 (a method, built here)
        pydase.DataService.__init__(self)
        for name, value in attributes.items():
            if not isinstance(value, Raises):
                setattr(self, name, build(value))

    namespace: dict[str, Any] = {"__init__": __init__}
    for name, value in attributes.items():
        if isinstance(value, Raises):
            namespace[name] = property(lambda self, error=value.error: _raise(error))
    return type(kind, (pydase.DataService,), namespace)


def _raise(error: Exception) -> float:
    if ANSWERING.is_set():
        raise error
    return 0.0


def arm_when_answering(port: int) -> None:
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            ANSWERING.set()
            return
        except OSError:
            time.sleep(0.05)


def main() -> None:
    port = int(sys.argv[1])
    service = build(default_service())
    threading.Thread(target=arm_when_answering, args=(port,), daemon=True).start()
    pydase.Server(service, host="127.0.0.1", web_port=port).run()


if __name__ == "__main__":
    main()
