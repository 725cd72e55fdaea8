"""Report latency through the API on PostgreSQL: reliability + professional scores of one wave.

Seeds a throw-away PostgreSQL database (beside ``VERBONDEN_TEST_DATABASE_URL`` or the local
default) with COPY: about 40-50 responses per professional, 40 professionals per team (at most
20,000 professionals in 500 teams). Times the two JSON routes through a TestClient (median of warm
runs) and reports the peak RSS of this process (server and client share it, so it is an upper
bound of the server's). Targets: under 1 s for 100,000 responses, under 5 s for 1,000,000,
under 1.5 GB.
"""

from __future__ import annotations

import io
import os
import resource
import statistics
import time
import uuid
from typing import Any

import numpy as np
import psycopg
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TARGET_SECONDS = {100_000: 1.0, 1_000_000: 5.0}
TARGET_RSS_MB = 1536
MAX_PROFESSIONALS = 20_000
PER_TEAM = 40
CHUNK = 100_000


def _server_url() -> str:
    return os.environ.get("VERBONDEN_TEST_DATABASE_URL") or DEFAULT_SERVER


def _admin(url: str) -> Any:
    return create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")


def create_database() -> str:
    server = _server_url()
    name = f"verbonden_bench_{uuid.uuid4().hex[:10]}"
    admin = _admin(server)
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(server).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    admin = _admin(url)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def seed(url: str, n_responses: int) -> tuple[int, str]:
    """Organisation rows through the models, responses by COPY; returns (wave id, API key)."""
    from app.apikeys.service import create_api_key
    from app.collection import repository
    from app.db import build_engine, utcnow
    from app.instrument_versions.service import ensure_instrument_version_recorded, published_instrument
    from app.models import Municipality, Wave

    engine = build_engine(url, pool_size=2)
    instrument = published_instrument()
    items = [item.id for item in instrument.form("jongere").items()]
    n_professionals = max(2, min(MAX_PROFESSIONALS, n_responses // 45))
    n_teams = max(2, n_professionals // PER_TEAM)
    with Session(engine) as session:
        ensure_instrument_version_recorded(session, instrument)
        municipality = Municipality(slug="bench", name="Bench")
        session.add(municipality)
        session.flush()
        wave = Wave(
            municipality_id=municipality.id,
            name="Bench",
            instrument_version=instrument.version,
            opens_at=utcnow(),
        )
        session.add(wave)
        layout = repository.answer_layout(
            session, version=instrument.version, form="jongere", modules="", item_ids=",".join(items)
        )
        _, secret = create_api_key(
            session,
            municipality_id=municipality.id,
            name="bench",
            scopes=["reports:aggregate", "reports:professional"],
        )
        session.commit()
        municipality_id, wave_id, layout_id = municipality.id, wave.id, layout.id
    engine.dispose()
    assert municipality_id is not None and wave_id is not None and layout_id is not None

    rng = np.random.default_rng(2024)
    with psycopg.connect(_libpq(url)) as connection:
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO team (municipality_id, name, created_at) "
                "SELECT %s, 'Team ' || g, now() FROM generate_series(1, %s) g RETURNING id",
                (municipality_id, n_teams),
            )
            team_ids = np.array([row[0] for row in cursor.fetchall()])
            professional_team = team_ids[np.arange(n_professionals) % n_teams]
            with cursor.copy(
                "COPY professional (municipality_id, team_id, code, display_name, role, created_at) "
                "FROM STDIN"
            ) as copy:
                for index, team in enumerate(professional_team):
                    copy.write_row(
                        (
                            municipality_id,
                            int(team),
                            f"P{index:06d}",
                            f"Naam {index}",
                            "jongerenwerker",
                            "2024-01-01",
                        )
                    )
            cursor.execute(
                "SELECT id FROM professional WHERE municipality_id = %s ORDER BY id", (municipality_id,)
            )
            professional_ids = np.array([row[0] for row in cursor.fetchall()])
            levels = rng.normal(3.6, 0.35, n_professionals)
            columns = (
                "municipality_id, wave_id, professional_id, team_id, form, layout_id, language, answers, "
                "submitted_at, submission_key"
            )
            prefix = f"{municipality_id}\t{wave_id}\t"
            with cursor.copy(f"COPY response ({columns}) FROM STDIN") as copy:
                for start in range(0, n_responses, CHUNK):
                    size = min(CHUNK, n_responses - start)
                    who = rng.integers(0, n_professionals, size)
                    person = rng.normal(0, 0.6, size)[:, None]
                    values = np.clip(
                        np.rint(levels[who][:, None] + person + rng.normal(0, 0.7, (size, len(items)))), 1, 5
                    )
                    chars = values.astype(np.uint8) + ord("0")
                    chars[rng.random(values.shape) < 0.04] = ord(".")
                    answers = chars.view(f"S{len(items)}").ravel()
                    buffer = io.StringIO()
                    for row in range(size):
                        buffer.write(
                            f"{prefix}{professional_ids[who[row]]}\t{professional_team[who[row]]}\tjongere\t{layout_id}\tnl\t"
                            f"{answers[row].decode()}\t2024-03-01 10:00:00+00\t{start + row:064x}\n"
                        )
                    copy.write(buffer.getvalue())
            cursor.execute("ANALYZE response")
        connection.commit()
    return wave_id, secret


def _median_seconds(
    client: TestClient, path: str, params: dict[str, Any], headers: dict[str, str], repeats: int
) -> float:
    response = client.get(path, params=params, headers=headers)  # warm-up
    response.raise_for_status()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        response = client.get(path, params=params, headers=headers)
        times.append(time.perf_counter() - started)
        response.raise_for_status()
    return statistics.median(times)


def measure(n_responses: int, repeats: int) -> list[dict[str, Any]]:
    from app.config import Settings
    from app.main import create_app

    url = create_database()
    try:
        from app.migrate import upgrade

        upgrade(url)
        started = time.perf_counter()
        wave_id, secret = seed(url, n_responses)
        seeded_in = time.perf_counter() - started
        app = create_app(Settings(database_url=url, log_level="warning"))  # type: ignore[call-arg]
        headers = {"Authorization": f"Bearer {secret}"}
        params = {"wave_id": wave_id, "form": "jongere"}
        with TestClient(app) as client:
            # The first read publishes every seeded response (one cut of all the waves' batches).
            started = time.perf_counter()
            client.get("/api/v1/reports/reliability", params=params, headers=headers).raise_for_status()
            first_cut = time.perf_counter() - started
            reliability = _median_seconds(client, "/api/v1/reports/reliability", params, headers, repeats)
            scores = _median_seconds(
                client, "/api/v1/reports/scores", {**params, "level": "professional"}, headers, repeats
            )
        app.state.engine.dispose()
    finally:
        drop_database(url)
    label = f"{n_responses:,}"
    target = TARGET_SECONDS.get(n_responses)
    total = reliability + scores
    return [
        {"name": f"seed {label} responses (COPY)", "value": seeded_in, "unit": "s"},
        {
            "name": f"first read: publish {label} responses in one cut, then report",
            "value": first_cut,
            "unit": "s",
        },
        {"name": f"reliability, {label} responses", "value": reliability, "unit": "s"},
        {"name": f"professional scores, {label} responses", "value": scores, "unit": "s"},
        {
            "name": f"reliability + professional scores, {label}",
            "value": total,
            "unit": "s",
            **({"target": f"< {target:g} s", "ok": total < target} if target else {}),
        },
    ]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(quick: bool) -> list[dict[str, Any]]:
    sizes = [20_000] if quick else [100_000, 1_000_000]
    figures: list[dict[str, Any]] = []
    for size in sizes:
        figures.extend(measure(size, repeats=2 if quick else 5))
    rss = peak_rss_mb()
    figures.append(
        {
            "name": "peak RSS (seeding, server and client)",
            "value": rss,
            "unit": "MB",
            "target": f"< {TARGET_RSS_MB} MB",
            "ok": rss < TARGET_RSS_MB,
        }
    )
    return figures


if __name__ == "__main__":
    for figure in run(quick=os.environ.get("BENCH_QUICK") == "1"):
        print(figure)
