"""Loopback helpers the service-level tests share."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def reachable(host: str | None, port: int | None, timeout: float = 1.0) -> bool:
    """Whether something accepts TCP connections at host:port (default 127.0.0.1)."""
    try:
        with socket.create_connection((host or "127.0.0.1", port or 0), timeout):
            return True
    except OSError:
        return False
