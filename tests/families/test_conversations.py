"""Every family's conversation cases from independent sources, replayed on its real transport (tests/conversations.py).

Each case names its source; the driver must ask what the source records, byte for byte, and write
exactly what the case says from the source's replies; the family's simulator must answer the
source's requests in the source's form.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from telegraf_inputs import registry
from tests import conversations
from tests.conversations import Case

CASES = conversations.cases()


def test_every_family_has_cases_with_a_named_source() -> None:
    have = {case.family for case in CASES}
    assert have == {family.name for family in registry.families()}, "families without conversation cases"
    for case in CASES:
        # a repository file at a revision, a vendor's manual, guide or protocol document, or a recording
        assert re.search(r"@ [0-9a-f]{7}|manual|guide|protocol|recorded", case.source, re.I), case.id
        assert any(not x.ours for x in case.exchanges), case.id
    held = {case.family for case in CASES if not case.simulator}
    assert held >= have - {"scpi"}, f"families whose simulator no case holds to a source: {have - held}"


def test_every_cases_entry_is_a_devices_file_entry_the_schema_accepts() -> None:
    import jsonschema

    from tests.core.test_schema import SCHEMA

    validator = jsonschema.Draft202012Validator(SCHEMA)
    for case in CASES:
        errors = [e.message for e in validator.iter_errors([conversations.entry_at(case, 5025)])]
        assert not errors, (case.id, errors)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_the_driver_asks_and_writes_what_the_source_records(case: Case, tmp_path: Path) -> None:
    conversations.check(case, conversations.replay(case, tmp_path))


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_the_simulator_answers_the_sources_requests_in_its_form(case: Case, tmp_path: Path) -> None:
    if case.transport == "serial" and sys.platform == "win32":
        pytest.skip("the serial simulators are ptys here")
    if case.simulator:
        pytest.skip(case.simulator)
    problems = []
    for exchange, reply in conversations.simulated(case, tmp_path):
        problem = conversations.same_form(exchange, reply, case.transport)
        if problem:
            problems.append(f"{exchange.send!r}: {problem}")
    assert not problems, problems
