"""A raw TCP server for tests: listens on 127.0.0.1, counts connections, and gives each one to ``talk`` on a
thread of its own (the test servers that stand for an instrument, a proxy or a hung port)."""

from __future__ import annotations

import socket
import threading


class TcpServer:
    """Accepts on a free port of 127.0.0.1 until ``stop()``; subclasses answer in ``talk(conn)``."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.server.getsockname()[1]
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self.talk, args=(conn,), daemon=True).start()

    def talk(self, conn: socket.socket) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        self.server.close()
