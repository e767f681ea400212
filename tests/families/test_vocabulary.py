"""Every family that declares its channel Types as a table (``VOCABULARY`` in its protocol module) is held to
it at both ends: each row's request, asked of the family's simulator, is answered with a reply the family's
own wire reads; a request of no row is the instrument's error; and the driver's Type choices are the rows."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest

from telegraf_inputs import registry
from telegraf_inputs.serial_sim import LineSimulator
from telegraf_inputs.simulators import LineServer
from telegraf_inputs.vocabulary import Kind, Slot, Vocabulary
from tests.conversations import simulator_class

FAMILIES = [(family.name, protocol) for family, protocol in registry.modules("protocol")
            if isinstance(getattr(protocol, "VOCABULARY", None), Vocabulary)]  # fmt: skip


def simulator_of(name: str) -> Any:
    """The family's simulator (tests/conversations.py finds its class)."""
    return simulator_class(name)()


def test_the_table_families_are_found() -> None:
    assert {name for name, _ in FAMILIES} >= {
        "thorlabs_mdt693b",
        "srs_ctc100",
        "thorlabs_pm100",
        "rp_lockbox",
        "kjlc354",
    }


@pytest.mark.parametrize(("name", "protocol"), FAMILIES, ids=[name for name, _ in FAMILIES])
def test_the_simulator_answers_every_row_with_what_the_driver_reads(name: str, protocol: ModuleType) -> None:
    vocabulary: Vocabulary = protocol.VOCABULARY
    sim = simulator_of(name)
    try:
        asked = [kind for kind in vocabulary.kinds.values() if kind.request is not None]
        assert asked
        for kind in asked:
            request = vocabulary.example(kind)
            found = vocabulary.match(request)
            assert found is not None and found[0].request == kind.request, (kind.type, request)
            reply = sim.answer(request)
            assert reply is not None, (kind.type, request)
            if isinstance(sim, LineSimulator):
                assert reply != sim.unlisted("nosuchquery?"), (kind.type, request, reply)
                wire = getattr(protocol, "WIRE", None)
                if wire is not None:  # the family's own wire reads it
                    wire.parse(reply.removesuffix(wire.reply_end) + wire.reply_end, request)
            elif kind.field in ("float", "integer"):  # a number, as the driver's FieldType takes it
                float(reply)
            elif kind.field == "boolean":
                assert reply.strip().upper() in ("0", "1", "ON", "OFF", "TRUE", "FALSE"), (kind.type, reply)
        if isinstance(sim, LineSimulator):
            assert sim.answer("nosuchquery?") == sim.unlisted("nosuchquery?")
        else:
            assert sim.answer("NOSUCH:QUERY?") is None
    finally:
        if isinstance(sim, LineServer):
            sim.stop()


@pytest.mark.parametrize(("name", "protocol"), FAMILIES, ids=[name for name, _ in FAMILIES])
def test_the_drivers_type_choices_are_the_tables_rows(name: str, protocol: ModuleType) -> None:
    family = registry.family_named(name)
    assert family is not None
    (type_key,) = [key for key in family.load_driver().declaration.channel if key.name == "Type"]
    assert tuple(type_key.choices) == protocol.VOCABULARY.types()
    assert all(kind.doc in type_key.doc for kind in protocol.VOCABULARY.kinds.values())


def test_a_request_fills_its_slots_and_refuses_a_missing_or_needless_one() -> None:
    table = Vocabulary(Kind("A", "{axis}a?", "a", "a"), Kind("B", "b?", "b", "b"),
                       slots={"axis": Slot("Axis", "[xy]", "x or y")})  # fmt: skip

    def error(message: str, key: str) -> Exception:
        return ValueError(f"{key}: {message}")

    assert table.request("A", {"Axis": "y"}, error) == "ya?"
    assert table.request("B", {"Axis": None}, error) == "b?"
    with pytest.raises(ValueError, match='Axis: Type "A" needs the Axis: x or y'):
        table.request("A", {}, error)
    with pytest.raises(ValueError, match='Axis: Type "B" has no Axis'):
        table.request("B", {"Axis": "x"}, error)
    assert table.match("xa?") == (table.kinds["A"], {"axis": "x"})
    assert table.match("za?") is None and table.match("b?x") is None
    with pytest.raises(ValueError, match="undeclared slots"):
        Vocabulary(Kind("C", "{nope}?", "c"))
