"""Keep-alive connections to each worker process of a server, told apart by the kernel's socket table.

Uvicorn's workers accept connections from one shared socket; which worker serves a connection is
the kernel's choice. To prove that *both* workers refuse a revoked key, a test needs a connection to
each: it opens connections until the process holding the server's end (found through
``/proc/net/tcp`` and ``/proc/<pid>/fd``) has been seen for every worker. Linux only.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

LISTEN = "0A"
ESTABLISHED = "01"


def _address(hex_address: str) -> tuple[str, int]:
    """``0100007F:1F90`` (as in ``/proc/net/tcp``: the IPv4 address little-endian) -> ("127.0.0.1", 8080)."""
    host, port = hex_address.split(":")
    return socket.inet_ntoa(bytes.fromhex(host)[::-1]), int(port, 16)


def _sockets(port: int) -> list[tuple[str, tuple[str, int], str]]:
    """(state, remote address, inode) of every IPv4 socket on local port ``port``."""
    found = []
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, state, inode = fields[1], fields[2], fields[3], fields[9]
        if _address(local)[1] == port:
            found.append((state, _address(remote), inode))
    return found


def _holders(inode: str, pids: list[int] | None = None) -> list[int]:
    target = f"socket:[{inode}]"
    candidates = pids if pids is not None else [int(name) for name in os.listdir("/proc") if name.isdigit()]
    holders = []
    for pid in candidates:
        try:
            for fd in os.scandir(f"/proc/{pid}/fd"):
                try:
                    if os.readlink(fd.path) == target:
                        holders.append(pid)
                        break
                except OSError:
                    continue
        except OSError:
            continue
    return holders


class WorkerConnection:
    """One HTTP/1.1 keep-alive connection, with the pid of the worker process that serves it."""

    def __init__(self, base_url: str, *, source: str = "127.0.0.1") -> None:
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        # Any 127.x.y.z is this machine: a test picks its own client address to have its own counters.
        self.connection = http.client.HTTPConnection(
            self.host, self.port, timeout=60, source_address=(source, 0)
        )
        self.connection.connect()
        self.pid: int | None = None

    @property
    def local_address(self) -> tuple[str, int]:
        sock = self.connection.sock
        assert isinstance(sock, socket.socket)
        host, port = sock.getsockname()
        return str(host), int(port)

    def request(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        form: dict[str, str] | None = None,
        json_body: object = None,
    ) -> tuple[int, dict[str, str], bytes]:
        """Send one request on this connection; (status, headers, body)."""
        sent = dict(headers or {})
        body = None
        if form is not None:
            body = urlencode(form).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        elif json_body is not None:
            body = json.dumps(json_body).encode()
            sent["Content-Type"] = "application/json"
        self.connection.request(method, path, body=body, headers=sent)
        response = self.connection.getresponse()
        content = response.read()
        return response.status, {name.lower(): value for name, value in response.getheaders()}, content

    def status(self, method: str, path: str, **options: Any) -> int:
        return self.request(method, path, **options)[0]

    def close(self) -> None:
        self.connection.close()


def worker_pids(port: int) -> list[int]:
    """The processes holding the listening socket on ``port``: the server's parent and its workers."""
    listening = [inode for state, _, inode in _sockets(port) if state == LISTEN]
    return sorted({pid for inode in listening for pid in _holders(inode)})


def owner_of(connection: WorkerConnection, pids: list[int]) -> int | None:
    """The pid among ``pids`` that holds the server's end of ``connection``."""
    for state, remote, inode in _sockets(connection.port):
        if state == ESTABLISHED and remote == connection.local_address:
            holders = _holders(inode, pids)
            return holders[0] if holders else None
    return None


def connections_per_worker(
    base_url: str, workers: int, *, each: int = 1, source: str = "127.0.0.1", attempts: int = 400
) -> list[list[WorkerConnection]]:
    """``each`` kept-alive connections to every one of the ``workers`` worker processes, one list per
    worker; fails when some worker cannot be reached in ``attempts`` connections."""
    port = urlsplit(base_url).port or 80
    pids = worker_pids(port)
    chosen: dict[int, list[WorkerConnection]] = {}
    spare: list[WorkerConnection] = []
    try:
        for _ in range(attempts):
            connection = WorkerConnection(base_url, source=source)
            assert connection.status("GET", "/healthz") == 200  # accepted and served by some worker
            connection.pid = owner_of(connection, pids)
            if connection.pid is not None and len(chosen.setdefault(connection.pid, [])) < each:
                chosen[connection.pid].append(connection)
                full = [pid for pid, held in chosen.items() if len(held) == each]
                if len(full) == workers:
                    return [chosen[pid] for pid in sorted(full)]
            else:
                spare.append(connection)  # kept open meanwhile, so the kernel may hand the next to another
        reached = {pid: len(held) for pid, held in chosen.items()}
        raise AssertionError(
            f"reached workers {reached} (wanted {workers} x {each}) in {attempts} connections"
        )
    finally:
        for connection in spare:
            connection.close()


def one_connection_per_worker(
    base_url: str, workers: int, *, source: str = "127.0.0.1"
) -> list[WorkerConnection]:
    """A kept-alive connection to each of the ``workers`` worker processes."""
    return [held[0] for held in connections_per_worker(base_url, workers, source=source)]
