"""Submission throughput of the real ``POST /s/{token}`` on PostgreSQL, against the floor of the stack.

Side by side in one run, each as one uvicorn worker on loopback with the same load (wrk, 50
connections): verbonden's form submission (the whole middleware stack, form limits, answer checks,
the idempotency key, and one ``INSERT ... SELECT`` that re-checks the link in the database) and
``bench/bare_app.py``, which parses the same form and inserts one row with plain SQL.
Target: verbonden reaches at least 70% of the bare app's requests/s, with no errors; p99 latency
is reported. Also the form page: requests/s of ``GET /s/{token}`` and its bytes (HTML + CSS).
Rate limits are switched off for the run (they would, rightly, stop one client sending thousands).
Needs ``wrk`` (Debian package); without it the figures are skipped with a note.
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx2
from sqlalchemy import create_engine, text
from sqlmodel import Session

from app.migrate import upgrade
from bench.bench_reports import create_database, drop_database
from tests.factories.collection import make_invitation, make_wave
from tests.factories.organisation import make_municipality, make_professional, make_team
from tests.load.server import free_port, running_server

ROOT = Path(__file__).resolve().parent.parent
CONNECTIONS = 50
TARGET_RATIO = 0.70

POST_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
local n = 0
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
request = function()
  n = n + 1
  local id = string.format("%08x%08x%08x", math.random(0, 0x7fffffff), math.random(0, 0x7fffffff), n)
  return wrk.format(nil, nil, nil, "submission_id=" .. id .. "&lang=nl" .. ANSWERS)
end
"""


def wrk(url: str, seconds: int, script: str | None = None) -> dict[str, float]:
    """Run wrk; return requests/s, p50/p99 latency (ms), errors (non-2xx/3xx + socket errors), count."""
    command = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", url]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        if script:
            lua.write(script)
            command[1:1] = ["-s", lua.name]
    output = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    os.unlink(lua.name)

    def latency(label: str) -> float:
        match = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
        if not match:
            return float("nan")
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", output))
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if socket:
        errors += sum(int(n) for n in socket.groups())
    total = re.search(r"(\d+) requests in", output)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),  # type: ignore[union-attr]
        "p50": latency("50%"),
        "p99": latency("99%"),
        "errors": errors,
        "requests": float(total.group(1)) if total else float("nan"),
    }


def seed(url: str) -> str:
    upgrade(url)
    engine = create_engine(url)
    with Session(engine) as session:
        municipality = make_municipality(session, "Benchstad")
        wave = make_wave(session, municipality)
        token = make_invitation(
            session, wave, make_professional(session, make_team(session, municipality))
        ).token
        session.commit()
    engine.dispose()
    return token


def bare_server(url: str, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "BARE_DATABASE_URL": url}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.bare_app:app",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            httpx2.post(f"http://127.0.0.1:{port}/s/warmup", data={"submission_id": "warmup"}, timeout=1)
            return process
        except httpx2.HTTPError:
            time.sleep(0.3)
    process.kill()
    raise RuntimeError("the bare app did not start")


def count_rows(url: str, table: str) -> int:
    engine = create_engine(url)
    with engine.connect() as connection:
        rows = int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
    engine.dispose()
    return rows


def run(quick: bool) -> list[dict[str, Any]]:
    if shutil.which("wrk") is None:
        return [
            {
                "name": "submission throughput",
                "value": "skipped",
                "unit": "",
                "target": "install wrk (apt-get install wrk)",
                "ok": None,
            }
        ]
    seconds, rounds = (5, 1) if quick else (15, 3)
    ours_url, bare_url = create_database(), create_database()
    try:
        token = seed(ours_url)
        with running_server(ours_url, submit_rate_limit="0", api_rate_limit="0") as base:
            form = httpx2.get(f"{base}/s/{token}")
            css = httpx2.get(f"{base}/static/respondent.css")
            items = list(dict.fromkeys(re.findall(r'name="([a-z]{2}_[a-z]{2}_\d+)"', form.text)))
            answers = "".join(f"&{item}={1 + position % 5}" for position, item in enumerate(items))
            script = POST_SCRIPT.replace("ANSWERS", repr(answers))
            port = free_port()
            bare = bare_server(bare_url, port)
            ours_runs, bare_runs = [], []
            try:
                for _ in range(rounds):  # alternate, so both meet the same machine noise
                    bare_runs.append(wrk(f"http://127.0.0.1:{port}/s/{token}", seconds, script))
                    ours_runs.append(wrk(f"{base}/s/{token}", seconds, script))
            finally:
                bare.terminate()
                bare.wait(timeout=10)
            page = wrk(f"{base}/s/{token}", seconds)
        stored = count_rows(ours_url, "response")
    finally:
        drop_database(ours_url)
        drop_database(bare_url)

    def median(runs: list[dict[str, float]], key: str) -> float:
        return statistics.median(run[key] for run in runs)

    ours_rps, bare_rps = median(ours_runs, "rps"), median(bare_runs, "rps")
    ratio = ours_rps / bare_rps
    ours_errors = sum(run["errors"] for run in ours_runs)
    accepted = sum(run["requests"] for run in ours_runs) - ours_errors
    return [
        {
            "name": "bare FastAPI + one INSERT (floor)",
            "value": bare_rps,
            "unit": "req/s",
            "target": f"p99 {median(bare_runs, 'p99'):.1f} ms",
            "ok": None,
        },
        {
            "name": "verbonden POST /s/{token}",
            "value": ours_rps,
            "unit": "req/s",
            "baseline": "bare",
            "ratio": ratio,
            "target": f">= {TARGET_RATIO:.0%} of bare; p99 {median(ours_runs, 'p99'):.1f} ms",
            "ok": ratio >= TARGET_RATIO and ours_errors == 0,
        },
        {
            "name": "submission errors (non-2xx/3xx, socket)",
            "value": ours_errors,
            "unit": "",
            "target": "0",
            "ok": ours_errors == 0,
        },
        {
            "name": "stored rows = accepted submissions",
            "value": f"{stored} / {accepted:.0f}",
            "unit": "",
            # wrk stops each connection's last request unanswered: the server may still store it.
            "target": f"equal, or up to {CONNECTIONS * rounds} more (requests wrk cut off)",
            "ok": 0 <= stored - accepted <= CONNECTIONS * rounds,
        },
        {
            "name": "GET /s/{token} form page",
            "value": page["rps"],
            "unit": "req/s",
            "target": f"p99 {page['p99']:.1f} ms",
            "ok": page["errors"] == 0,
        },
        {
            "name": "form page bytes (HTML + CSS)",
            "value": len(form.content) + len(css.content),
            "unit": "B",
            "target": "< 30 KB",
            "ok": len(form.content) + len(css.content) < 30 * 1024,
        },
    ]
