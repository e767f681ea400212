"""Simulators of the supported instruments, each on the transport the real one uses."""

from __future__ import annotations

import threading
from collections.abc import Callable


def run_standalone(banner: str, stop: Callable[[], None]) -> int:
    """Print where the simulator is, serve until Ctrl-C or SIGTERM-as-KeyboardInterrupt, then stop it."""
    print(banner, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    stop()
    return 0
