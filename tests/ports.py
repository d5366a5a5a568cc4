"""Ports for the servers the tests start.

Ports are taken below the kernel's ephemeral range (net.ipv4.ip_local_port_range,
32768-60999 by default). A port the kernel handed out by `bind(0)` comes from that
range, and so does the local port of every outgoing connection (to PostgreSQL,
Redis, a server under test...): a port found free there may be taken by a
connection a moment later, and a server told to use port+1 or port+110 next to
it may find that taken already. Below the range, only servers compete.
"""

from __future__ import annotations

import random
import socket

LOW, HIGH = 20000, 32000


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port(*offsets: int) -> int:
    """A port that is free, and so is port+offset for every offset given."""
    span = max(offsets, default=0)
    for _ in range(500):
        port = random.randrange(LOW, HIGH - span)
        if all(_free(port + o) for o in (0, *offsets)):
            return port
    raise RuntimeError(f"no free block of ports between {LOW} and {HIGH}")
