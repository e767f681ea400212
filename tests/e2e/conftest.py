"""What the end-to-end tests share: the real Telegraf and the real InfluxDB 2.x, built here when they can be.

A binary is looked up in its environment variable (TELEGRAF_BIN, INFLUXD_BIN), then in the
project's build folder (.telegraf/, .influxdb/), then on PATH.  When none is there and the
toolchains are, the project's own script builds it once (minutes the first time, reused after).
Without it the tests are skipped, saying exactly what is missing; with REQUIRE_TELEGRAF=1 or
REQUIRE_INFLUXDB=1 (as CI sets) they fail instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.helpers import ROOT


def find_binary(variable: str, built: str, name: str) -> str | None:
    for candidate in (os.environ.get(variable), str(ROOT / built)):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return shutil.which(name)


def find_telegraf() -> str | None:
    return find_binary("TELEGRAF_BIN", ".telegraf/bin/telegraf", "telegraf")


def build_or_skip(what: str, found: str | None, script: str, tools: list[str], required: str) -> str:
    """``found``, or what the project's build script gives; else skip (or fail, when ``required`` is set)."""
    if found is not None:
        return found
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if not missing:
        build = subprocess.run([str(ROOT / "scripts" / script)], capture_output=True, text=True)
        path = build.stdout.strip().splitlines()[-1] if build.returncode == 0 and build.stdout.strip() else ""
        if path and os.access(path, os.X_OK):
            return path
        message = f"no {what}: scripts/{script} failed (exit {build.returncode}): {build.stderr[-1500:]}"
    else:
        message = (
            f"no {what}: scripts/{script} needs {', '.join(missing)} on PATH to build it; "
            f"or install {what} yourself and put it on PATH"
        )
    if os.environ.get(required) == "1":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def telegraf() -> str:
    return build_or_skip("Telegraf", find_telegraf(), "build-telegraf", ["go"], "REQUIRE_TELEGRAF")


@pytest.fixture(scope="session")
def influxd_binary() -> str:
    found = find_binary("INFLUXD_BIN", ".influxdb/bin/influxd", "influxd")
    return build_or_skip("InfluxDB (influxd)", found, "build-influxdb", ["go", "cargo", "cc"], "REQUIRE_INFLUXDB")
