"""Loopback helpers the service-level tests share."""

from __future__ import annotations

import random
import socket
from pathlib import Path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def stable_ports(n: int = 1) -> int:
    """The first of ``n`` consecutive free ports *below* the kernel's ephemeral range.

    Why not :func:`free_port` for a server that is stopped and started again on the same
    port (a killed replica, a store outage): :func:`free_port` hands out an ephemeral
    port, and while the server is down any outgoing connection on the machine (the
    load, the other test streams) may take it as its local port, so the restart fails
    with "address in use". Ports below the ephemeral range are never taken that way.
    """
    low, _ = _ephemeral_range()
    top = max(10000 + n, low - n)
    for _ in range(500):
        base = random.randint(10000, top)
        socks: list[socket.socket] = []
        try:
            for port in range(base, base + n):
                sock = socket.socket()
                socks.append(sock)
                sock.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for sock in socks:
                sock.close()
    raise RuntimeError(f"no {n} consecutive free ports below {low}")


def reachable(host: str | None, port: int | None, timeout: float = 1.0) -> bool:
    """Whether something accepts TCP connections at host:port (default 127.0.0.1)."""
    try:
        with socket.create_connection((host or "127.0.0.1", port or 0), timeout):
            return True
    except OSError:
        return False
