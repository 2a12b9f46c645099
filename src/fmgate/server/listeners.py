"""The listening sockets of ``fmgate serve --workers N``, bound by the supervisor before any worker
starts: the main port once per worker (an ``SO_REUSEPORT`` group), and one metrics port each.

Why a reuse-port group rather than one socket shared by every worker: with one shared socket the
worker that wakes first accepts every connection waiting, so a burst of new keep-alive
connections (a load balancer's pool, a benchmark's clients) can land almost all on one worker —
64 connections opened at once split 59 / 5 between two idle workers in a measurement on
loopback. In a reuse-port group the kernel hashes each connection to one socket, so they split
evenly (31 / 33). The supervisor keeps its copy of every socket: a worker that dies leaves its
socket open, the connections hashed to it wait in its queue and its replacement, started at once,
serves them. When a replacement has to wait (workers dying again and again) the supervisor closes
that socket meanwhile, so the kernel hashes new connections to the live workers only, and binds
a new one for the replacement. ``SO_REUSEPORT`` lets only processes of the same user join the
group.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence

#: Connections each listening socket queues before the kernel refuses more: room for a burst of
#: thousands of streams arriving while the event loop is busy (uvicorn's default, 2048, overflowed
#: at 5,000 at once: resets). The kernel caps it at ``net.core.somaxconn`` (4096 on current
#: Linux; raise that too for more).
BACKLOG = 8192


def bind_listener(host: str, port: int, *, reuse_port: bool) -> socket.socket:
    """A TCP socket listening on ``host:port`` (port 0: any free port)."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
        sock.listen(BACKLOG)
    except BaseException:
        sock.close()
        raise
    return sock


def bind_main_listeners(host: str, port: int, count: int) -> list[socket.socket]:
    """``count`` sockets on one ``host:port`` (port 0: a free one, the same for all)."""
    first = bind_listener(host, port, reuse_port=True)
    sockets = [first]
    try:
        chosen = port_of(first)
        sockets.extend(bind_listener(host, chosen, reuse_port=True) for _ in range(count - 1))
    except BaseException:
        close_all(sockets)
        raise
    return sockets


def bind_metrics_listeners(host: str, first_port: int, count: int) -> list[socket.socket]:
    """One socket per worker on ports ``first_port``, ``first_port + 1``... (0: free ports)."""
    sockets: list[socket.socket] = []
    try:
        for index in range(count):
            port = first_port + index if first_port else 0
            sockets.append(bind_listener(host, port, reuse_port=False))
    except BaseException:
        close_all(sockets)
        raise
    return sockets


def port_of(sock: socket.socket) -> int:
    return int(sock.getsockname()[1])


def close_all(sockets: Sequence[socket.socket]) -> None:
    for sock in sockets:
        sock.close()
