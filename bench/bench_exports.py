"""Benchmark of the response export: rows/s for CSV and SPSS .sav through the API, and peak memory.

A seeded wave of one form (``jongere``, 12 items, three scores; 10% "weet ik niet") is exported
through ``GET /api/v1/exports/responses`` with a research key, in a fresh process per export so that
the peak RSS (``ru_maxrss``) belongs to that export alone; the RSS of the same process just before
the request is reported beside it, so the difference is what the export costs. The CSV body is read
as a stream (never held whole), as a client downloading a file would.

Databases: PostgreSQL when ``VERBONDEN_TEST_DATABASE_URL`` (or ``VERBONDEN_BENCH_DATABASE_URL``) names a
server (a throw-away database is created and dropped), and SQLite always. ``quick``: 20,000 rows;
full: 200,000.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SEED = 20250304
N_PROFESSIONALS = 400
N_TEAMS = 40
INSERT_CHUNK = 20_000
FORM = "jongere"


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def seed(url: str, rows: int) -> tuple[int, str]:
    """Migrate ``url``, store ``rows`` responses in one wave; return (wave id, research key secret)."""
    import numpy as np
    from sqlalchemy import insert
    from sqlmodel import Session

    from app.apikeys.service import create_api_key
    from app.auth import Scope
    from app.collection import repository
    from app.db import build_engine, utcnow
    from app.instrument_versions.service import ensure_instrument_version_recorded, published_instrument
    from app.migrate import upgrade
    from app.models import Municipality, Professional, Response, Team, Wave

    upgrade(url)
    engine = build_engine(url)
    instrument = published_instrument()
    items = [item.id for item in instrument.form(FORM).items()]
    rng = np.random.default_rng(SEED)
    with Session(engine) as session:
        ensure_instrument_version_recorded(session, instrument)
        municipality = Municipality(slug=f"bench-{uuid.uuid4().hex[:6]}", name="Bench")
        session.add(municipality)
        session.flush()
        teams = [Team(municipality_id=municipality.id, name=f"Team {number}") for number in range(N_TEAMS)]
        session.add_all(teams)
        session.flush()
        professionals = [
            Professional(
                municipality_id=municipality.id,
                team_id=teams[number % N_TEAMS].id,
                code=f"P{number:05d}",
                display_name=f"Naam {number}",
                role="jongerenwerker",
            )
            for number in range(N_PROFESSIONALS)
        ]
        session.add_all(professionals)
        wave = Wave(
            municipality_id=municipality.id,
            name="Bench",
            instrument_version=instrument.version,
            opens_at=utcnow(),
        )
        session.add(wave)
        session.flush()
        layout = repository.answer_layout(
            session, version=instrument.version, form=FORM, modules="", item_ids=",".join(items)
        )
        _, secret = create_api_key(
            session, municipality_id=None, name="bench", scopes=[Scope.responses_read.value]
        )
        moment = utcnow().replace(minute=0, second=0, microsecond=0)
        for start in range(0, rows, INSERT_CHUNK):
            size = min(INSERT_CHUNK, rows - start)
            digits = rng.integers(1, 6, size=(size, len(items)))
            digits[rng.random(digits.shape) < 0.1] = 0
            answers = ["".join("." if d == 0 else str(d) for d in row) for row in digits.tolist()]
            who = rng.integers(0, N_PROFESSIONALS, size=size)
            session.execute(
                insert(Response),
                [
                    {
                        "municipality_id": municipality.id,
                        "wave_id": wave.id,
                        "professional_id": professionals[p].id,
                        "team_id": professionals[p].team_id,
                        "form": FORM,
                        "layout_id": layout.id,
                        "language": "nl",
                        "answers": text,
                        "submitted_at": moment,
                        "submission_key": uuid.uuid4().hex,
                    }
                    for p, text in zip(who.tolist(), answers, strict=True)
                ],
            )
        session.commit()
        assert wave.id is not None
        wave_id = wave.id
    engine.dispose()
    return wave_id, secret


def worker(url: str, wave_id: int, secret: str, file_format: str) -> dict[str, Any]:
    """One export through the API in this process: rows, seconds, RSS before and peak."""
    from fastapi.testclient import TestClient

    from app.config import Settings
    from app.main import create_app

    app = create_app(Settings(database_url=url))  # type: ignore[call-arg]
    headers = {"Authorization": f"Bearer {secret}"}
    path = f"/api/v1/exports/responses?wave_id={wave_id}&format={file_format}&form={FORM}"
    with TestClient(app) as client:
        client.get("/api/v1/exports/codebook", headers=headers)  # warm imports and the pool
        before = _rss_mb()
        started = time.perf_counter()
        size = 0
        lines = 0
        with client.stream("GET", path, headers=headers) as reply:
            reply.raise_for_status()
            for chunk in reply.iter_bytes():
                size += len(chunk)
                if file_format == "csv":
                    lines += chunk.count(b"\n")
        seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "bytes": size,
        "lines": lines,
        "rss_before_mb": before,
        "rss_peak_mb": _rss_mb(),
    }


def _run_worker(url: str, wave_id: int, secret: str, file_format: str) -> dict[str, Any]:
    completed = subprocess.run(
        [sys.executable, "-m", "bench.bench_exports", "--worker", url, str(wave_id), secret, file_format],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def _databases(tmp: Path) -> list[tuple[str, str, Any]]:
    """(backend, url, cleanup) for SQLite and, when configured, PostgreSQL."""
    databases: list[tuple[str, str, Any]] = [("sqlite", f"sqlite:///{tmp / 'bench.sqlite3'}", None)]
    server = os.environ.get("VERBONDEN_BENCH_DATABASE_URL") or os.environ.get("VERBONDEN_TEST_DATABASE_URL")
    if server:
        from tests.conftest import create_postgres_database, drop_postgres_database

        name = f"verbonden_bench_{uuid.uuid4().hex[:10]}"
        url, admin_url = create_postgres_database(server, name)
        databases.insert(0, ("postgresql", url, lambda: drop_postgres_database(admin_url, name)))
    return databases


def run(quick: bool = False) -> list[dict[str, Any]]:
    rows = 20_000 if quick else 200_000
    figures: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="verbonden-bench-") as tmp:
        for backend, url, cleanup in _databases(Path(tmp)):
            try:
                started = time.perf_counter()
                wave_id, secret = seed(url, rows)
                print(
                    f"  seeded {rows:,} rows on {backend} in {time.perf_counter() - started:.0f}s",
                    file=sys.stderr,
                )
                for file_format in ("csv", "sav"):
                    result = _run_worker(url, wave_id, secret, file_format)
                    if file_format == "csv" and result["lines"] != rows + 1:
                        raise RuntimeError(f"CSV had {result['lines']} lines, expected {rows + 1}")
                    label = f"{file_format} {backend} {rows:,} rows"
                    figures.append(
                        {"name": f"{label}: throughput", "value": rows / result["seconds"], "unit": "rows/s"}
                    )
                    figures.append(
                        {"name": f"{label}: peak RSS", "value": result["rss_peak_mb"], "unit": "MB"}
                    )
                    figures.append(
                        {
                            "name": f"{label}: RSS added by the export",
                            "value": result["rss_peak_mb"] - result["rss_before_mb"],
                            "unit": "MB",
                        }
                    )
            finally:
                if cleanup is not None:
                    cleanup()
    return figures


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--worker":
        print(json.dumps(worker(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5])))
    else:
        quick_run = "--quick" in sys.argv
        for figure in run(quick=quick_run):
            print(f"{figure['name']}: {figure['value']:,.1f} {figure['unit']}")
