"""What the end-to-end tests share: the real Telegraf."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.helpers import ROOT


def find_telegraf() -> str | None:
    for candidate in (os.environ.get("TELEGRAF_BIN"), str(ROOT / ".telegraf" / "bin" / "telegraf")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("telegraf")


@pytest.fixture(scope="module")
def telegraf() -> str:
    path = find_telegraf()
    if path is None:
        message = "no Telegraf: run scripts/build-telegraf (needs Go), or install telegraf on PATH, or set TELEGRAF_BIN"
        if os.environ.get("REQUIRE_TELEGRAF") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path
