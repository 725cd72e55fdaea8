"""Both doors of verbonden on PostgreSQL, each against the floor of the stack (``bench/bare_app.py``).

Side by side in one run, each as one uvicorn worker on loopback under the same load (wrk, 32
connections), in alternating rounds (medians): the form submission ``POST /s/{token}`` (the whole
middleware stack, form limits, answer checks, the idempotency key, one ``INSERT ... SELECT`` that
re-checks the link), the partner API ``POST /api/v1/responses`` (a Bearer key, an Idempotency-Key,
JSON answers), and the form page ``GET /s/{token}``; the floors parse with the standard library and
insert one row, or read the link and render the same template. Target: each door at least 80% of
its floor's requests/s, with no errors; p99 latency is reported. Rate limits are switched off for
the run (they would, rightly, stop one client sending thousands).
Needs ``wrk`` (Debian package); without it the figures are skipped with a note.
"""

from __future__ import annotations

import json
import os
import pickle
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

from app.collection import service, views
from app.migrate import upgrade
from bench.bench_reports import create_database, drop_database
from tests.factories.collection import make_invitation, make_wave
from tests.factories.organisation import make_key, make_municipality, make_professional, make_team
from tests.load.server import free_port, running_server

ROOT = Path(__file__).resolve().parent.parent
UVICORN_OPTIONS: tuple[str, ...] = ()  # the same server options as `verbonden serve`
CONNECTIONS = 32
TARGET_RATIO = 0.80

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

API_SCRIPT = """
wrk.method = "POST"
local n = 0
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
request = function()
  n = n + 1
  local id = string.format("%08x%08x%08x", math.random(0, 0x7fffffff), math.random(0, 0x7fffffff), n)
  -- wrk.format takes these headers instead of wrk.headers, not with them
  local headers = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer KEY",
                   ["Idempotency-Key"] = id}
  return wrk.format(nil, nil, headers, BODY)
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


def seed(url: str) -> tuple[str, str, str]:
    """A municipality with one open link and a partner key; returns (token, key, form page context)."""
    upgrade(url)
    engine = create_engine(url)
    with Session(engine) as session:
        municipality = make_municipality(session, "Benchstad")
        wave = make_wave(session, municipality)
        token = make_invitation(
            session, wave, make_professional(session, make_team(session, municipality))
        ).token
        key = make_key(session, municipality, "responses:write")["Authorization"].removeprefix("Bearer ")
        questionnaire = service.open_questionnaire(session, token)
        context = views.form_context(
            views.form_page(token, questionnaire, "nl"), answers={}, errors={}, submission_id=""
        )
        session.commit()
    engine.dispose()
    return token, key, pickle.dumps(context).hex()


def bare_server(url: str, port: int, **env_vars: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "BARE_DATABASE_URL": url, **env_vars}
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
            *UVICORN_OPTIONS,
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


DOORS = ("form POST /s/{token}", "API POST /api/v1/responses", "form page GET /s/{token}")


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
    seconds, rounds = (5, 1) if quick else (10, 3)
    ours_url, bare_url = create_database(), create_database()
    try:
        token, key, page = seed(ours_url)
        with running_server(ours_url, submit_rate_limit="0", api_rate_limit="0") as base:
            form = httpx2.get(f"{base}/s/{token}")
            css = httpx2.get(f"{base}/static/respondent.css")
            items = list(dict.fromkeys(re.findall(r'name="([a-z]{2}_[a-z]{2}_\d+)"', form.text)))
            answers = "".join(f"&{item}={1 + position % 5}" for position, item in enumerate(items))
            body = json.dumps({"token": token, "answers": {item: 3 for item in items}})
            scripts = (
                POST_SCRIPT.replace("ANSWERS", repr(answers)),
                API_SCRIPT.replace("KEY", key).replace("BODY", repr(body)),
                None,
            )
            paths = (f"/s/{token}", "/api/v1/responses", f"/s/{token}")
            port = free_port()
            bare = bare_server(bare_url, port, BARE_API_KEY=key, BARE_PAGE=page, BARE_TOKEN=token)
            ours_runs: list[list[dict[str, float]]] = [[] for _ in DOORS]
            bare_runs: list[list[dict[str, float]]] = [[] for _ in DOORS]
            warmed = 0.0  # submissions accepted while warming up
            try:
                # Warm both up first: FastAPI builds a router's routes on its first request.
                for door, (path, script) in enumerate(zip(paths, scripts, strict=True)):
                    wrk(f"http://127.0.0.1:{port}{path}", 2, script)
                    warm = wrk(f"{base}{path}", 2, script)
                    warmed += warm["requests"] - warm["errors"] if door < 2 else 0
                for _ in range(rounds):  # alternate, so both meet the same machine noise
                    for door, (path, script) in enumerate(zip(paths, scripts, strict=True)):
                        bare_runs[door].append(wrk(f"http://127.0.0.1:{port}{path}", seconds, script))
                        ours_runs[door].append(wrk(f"{base}{path}", seconds, script))
            finally:
                bare.terminate()
                bare.wait(timeout=10)
        stored = count_rows(ours_url, "response")
    finally:
        drop_database(ours_url)
        drop_database(bare_url)

    def median(runs: list[dict[str, float]], key: str) -> float:
        return statistics.median(run[key] for run in runs)

    figures: list[dict[str, Any]] = []
    accepted = warmed
    for door, name in enumerate(DOORS):
        ours, bare_ = ours_runs[door], bare_runs[door]
        ratio = median(ours, "rps") / median(bare_, "rps")
        errors = sum(run["errors"] for run in ours)
        bare_errors = sum(run["errors"] for run in bare_)
        if door < 2:
            accepted += sum(run["requests"] for run in ours) - errors
        figures += [
            {
                "name": f"floor: {name}",
                "value": median(bare_, "rps"),
                "unit": "req/s",
                "target": f"p99 {median(bare_, 'p99'):.1f} ms; {bare_errors:.0f} errors",
                "ok": None,
            },
            {
                "name": f"verbonden {name}",
                "value": median(ours, "rps"),
                "unit": "req/s",
                "baseline": "floor",
                "ratio": ratio,
                "target": f">= {TARGET_RATIO:.0%} of floor; p99 {median(ours, 'p99'):.1f} ms; "
                f"{errors:.0f} errors",
                "ok": ratio >= TARGET_RATIO and errors == 0,
            },
        ]
    return [
        *figures,
        {
            "name": "stored rows = accepted submissions",
            "value": f"{stored} / {accepted:.0f}",
            "unit": "",
            # wrk stops each connection's last request unanswered: the server may still store it.
            "target": f"equal, or up to {2 * CONNECTIONS * (rounds + 1)} more (requests wrk cut off)",
            "ok": 0 <= stored - accepted <= 2 * CONNECTIONS * (rounds + 1),
        },
        {
            "name": "form page bytes (HTML + CSS)",
            "value": len(form.content) + len(css.content),
            "unit": "B",
            "target": "< 30 KB",
            "ok": len(form.content) + len(css.content) < 30 * 1024,
        },
    ]
