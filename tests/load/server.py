"""A real verbonden server in a subprocess on a free loopback port, for load and outage tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx2

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


STARTUP_SECONDS = 120  # a shared, busy machine can take long to import numpy, pandas and scipy


@contextmanager
def running_server(
    database_url: str, *, workers: int = 1, log_path: Path | None = None, **settings: str
) -> Iterator[str]:
    """Serve ``database_url`` with ``verbonden serve``; yield the base URL; stop it afterwards.

    The server's output goes to ``log_path`` when given (a test reads what it logged)."""
    port = free_port()
    env = {
        **os.environ,
        "VERBONDEN_DATABASE_URL": database_url,
        "VERBONDEN_PORT": str(port),
        "VERBONDEN_WORKERS": str(workers),
        "VERBONDEN_LOG_LEVEL": "warning",
        **{f"VERBONDEN_{name.upper()}": value for name, value in settings.items()},
    }
    # A file, not a pipe: a full pipe would block the server.
    log = log_path.open("w+b") if log_path else tempfile.TemporaryFile()  # noqa: SIM115
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "verbonden"), "serve"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            try:
                if httpx2.get(f"{base_url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx2.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                raise RuntimeError(f"server did not become ready: {log.read().decode()[-2000:]}")
            time.sleep(0.2)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
