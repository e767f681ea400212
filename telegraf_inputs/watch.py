"""``telegraf-lab watch``: every device's latest readings as a live table in the terminal.

The devices are read every ``interval`` seconds, as under Telegraf (each connection on its own
worker, deadlines kept); the table (rich, an optional extra) is redrawn in place, with each row's
age and a failing device's reason, until Ctrl-C.  Nothing is written to stdout but the table.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

from rich.console import Console
from rich.live import Live
from rich.table import Table as RichTable

from .base import DeviceSpec, Driver
from .runtime import Runner
from .table import COLUMNS, Table


def render(table: Table, now: float, gathers: int) -> RichTable:
    view = RichTable(title=f"telegraf-lab watch: gather {gathers}, every row's age in s", title_justify="left")
    for column in (*COLUMNS[:5], "age", COLUMNS[5]):
        view.add_column(column, overflow="fold")
    for row in table.rows():
        cells = row.cells()
        style = "red" if row.error else None
        view.add_row(*cells[:5], f"{now - row.at:.0f}", cells[5], style=style)
    return view


def watch(groups: Sequence[tuple[Driver, Sequence[DeviceSpec]]], interval: float) -> int:
    table = Table()
    runner = Runner(groups, lambda data: None)
    runner.observe = table.add
    stop = threading.Event()
    gathers = 0
    console = Console()
    try:
        with Live(render(table, time.monotonic(), 0), console=console, refresh_per_second=4, screen=False) as live:
            next_at = time.monotonic()
            while not stop.is_set():
                if time.monotonic() >= next_at:
                    gathers += 1
                    runner.trigger()
                    next_at += interval
                runner.check_deadlines()
                live.update(render(table, time.monotonic(), gathers))
                stop.wait(0.25)
    except KeyboardInterrupt:
        pass
    finally:
        runner.close(0.2)
    return 0
