"""Server time of every ``/app/`` page with 100,000 responses in PostgreSQL, against a floor.

Seeds a throw-away PostgreSQL database like ``bench_reports`` (100,000 responses on one wave, about
2,200 professionals in 55 teams; 20,000 audit events), signs an admin in, and walks every GET route
under ``/app/`` that answers HTML (the route list comes from ``app.routes``, so pages added later
are timed too). Each page is timed through a TestClient (median of warm runs), and beside it, in
alternating rounds, **the floor**: a bare FastAPI route that renders the very templates the page
rendered, with the context the page computed (captured on the warm-up), so the ratio says what
the page's own work costs on top of Jinja2 and FastAPI. Target: every page under 150 ms.
"""

from __future__ import annotations

import os
import statistics
import time
from typing import Any

import jinja2
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session

from bench.bench_reports import create_database, drop_database, seed

TARGET_MS = 150.0
AUDIT_EVENTS = 20_000


class Captured:
    """The templates (and contexts) rendered while a page is served."""

    def __init__(self) -> None:
        self.renders: list[tuple[jinja2.Template, dict[str, Any]]] = []
        self.recording = False
        self._original = jinja2.Template.render

    def __enter__(self) -> Captured:
        captured = self
        original = self._original

        def render(template: jinja2.Template, *args: Any, **kwargs: Any) -> str:
            if captured.recording:
                context = dict(*args, **kwargs)
                captured.renders.append((template, context))
            return original(template, *args, **kwargs)

        jinja2.Template.render = render  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        jinja2.Template.render = self._original  # type: ignore[method-assign]


def floor_app(pages: dict[str, list[tuple[jinja2.Template, dict[str, Any]]]]) -> FastAPI:
    """A bare app: ``GET /floor/{n}`` renders page n's templates with its precomputed contexts."""
    app = FastAPI()
    by_number = list(pages.values())

    @app.get("/floor/{number}")
    def floor(number: int) -> HTMLResponse:
        body = "".join(template.render(context) for template, context in by_number[number])
        return HTMLResponse(body, headers={"Cache-Control": "no-store"})

    return app


def seed_people_and_trail(url: str, wave_id: int) -> tuple[str, dict[str, int]]:
    """An admin with a session (its cookie), a feedback link, and a long audit trail."""
    from app.config import Settings
    from app.db import build_engine
    from app.models import FeedbackLink, Wave
    from app.users import service as users
    from app.users.schemas import Role, UserCreate

    engine = build_engine(url, pool_size=2)
    with Session(engine) as session:
        wave = session.get(Wave, wave_id)
        assert wave is not None
        municipality_id = wave.municipality_id
        admin = users.create_user(
            session,
            user_in=UserCreate(
                email="bench@gemeente.example",
                display_name="Bench",
                role=Role.admin,
                municipality_id=municipality_id,
            ),
            actor=None,
        )
        for number in range(20):
            users.create_user(
                session,
                user_in=UserCreate(
                    email=f"collega{number}@gemeente.example",
                    display_name=f"Collega {number}",
                    role=Role.coordinator,
                    municipality_id=municipality_id,
                ),
                actor=None,
            )
        professional = session.execute(
            text("SELECT id, team_id FROM professional WHERE municipality_id = :m ORDER BY id LIMIT 1"),
            {"m": municipality_id},
        ).one()
        for _ in range(3):
            session.add(
                FeedbackLink(
                    municipality_id=municipality_id,
                    professional_id=professional[0],
                    token=os.urandom(18).hex(),
                )
            )
        session.execute(
            text(
                "INSERT INTO audit_event "
                "(occurred_at, municipality_id, user_id, action, object_type, object_id) "
                "SELECT now() - (g || ' minutes')::interval, :m, :u, (ARRAY['team.create', "
                "'wave.update','report.professional.read','responses.export'])[1 + g % 4], "
                "'wave', :w FROM generate_series(1, :n) g"
            ),
            {"m": municipality_id, "u": admin.id, "w": wave_id, "n": AUDIT_EVENTS},
        )
        settings = Settings(database_url=url, log_level="warning")  # type: ignore[call-arg]
        token = users.start_session(session, settings, user=admin, stage=users.STAGE_FULL)
        session.commit()
        assert admin.id is not None
        link_id = session.execute(text("SELECT max(id) FROM feedback_link")).one()[0]
        ids = {
            "wave_id": wave_id,
            "team_id": int(professional[1]),
            "professional_id": int(professional[0]),
            "user_id": admin.id,
            "link_id": int(link_id),
        }
    engine.dispose()
    return token, ids


def page_paths(app: FastAPI, ids: dict[str, int]) -> list[tuple[str, str]]:
    """(label, URL) of every GET route under /app/ whose parameters the walk can fill."""
    from fastapi.routing import APIRoute, iter_route_contexts

    paths = []
    for route in iter_route_contexts(app.routes):
        if not isinstance(route.original_route, APIRoute) or not route.path.startswith("/app/"):
            continue
        if "GET" not in (route.methods or set()):
            continue
        names = [param.name for param in route.dependant.path_params]
        required = [param.name for param in route.dependant.query_params if param.field_info.is_required()]
        if any(name not in ids for name in (*names, *required)):
            continue
        url = route.path
        for name in names:
            url = url.replace("{" + name + "}", str(ids[name]))
        if required:
            url += "?" + "&".join(f"{name}={ids[name]}" for name in required)
        if route.path.endswith("/report"):
            url += "?form=jongere"
        paths.append((route.path, url))
    return paths


def _ms(client: TestClient, url: str, headers: dict[str, str]) -> float:
    started = time.perf_counter()
    response = client.get(url, headers=headers)
    elapsed = (time.perf_counter() - started) * 1000
    response.raise_for_status()
    return elapsed


def measure(n_responses: int, repeats: int) -> list[dict[str, Any]]:
    from app.config import Settings
    from app.main import create_app
    from app.migrate import upgrade
    from app.users.sessions import SESSION_COOKIE

    url = create_database()
    figures: list[dict[str, Any]] = []
    try:
        upgrade(url)
        wave_id, _ = seed(url, n_responses)
        token, ids = seed_people_and_trail(url, wave_id)
        app = create_app(Settings(database_url=url, log_level="warning"))  # type: ignore[call-arg]
        headers = {"Cookie": f"{SESSION_COOKIE}={token}"}
        pages: dict[str, list[tuple[jinja2.Template, dict[str, Any]]]] = {}
        with TestClient(app) as client, Captured() as captured:
            client.get(f"/app/waves/{wave_id}/report?form=jongere", headers=headers)  # publishes the lot
            urls = []
            for label, page_url in page_paths(app, ids):
                captured.renders = []
                captured.recording = True
                response = client.get(page_url, headers=headers)
                captured.recording = False
                response.raise_for_status()
                if not response.headers.get("content-type", "").startswith("text/html"):
                    continue
                pages[label] = list(captured.renders)
                urls.append((label, page_url))
            real: dict[str, list[float]] = {label: [] for label, _ in urls}
            bare: dict[str, list[float]] = {label: [] for label, _ in urls}
            with TestClient(floor_app(pages)) as floor:
                numbers = {label: number for number, label in enumerate(pages)}
                for label, _ in urls:  # warm the floor
                    _ms(floor, f"/floor/{numbers[label]}", {})
                for _ in range(repeats):  # alternating rounds: real page, then its floor
                    for label, page_url in urls:
                        real[label].append(_ms(client, page_url, headers))
                        bare[label].append(_ms(floor, f"/floor/{numbers[label]}", {}))
        app.state.engine.dispose()
    finally:
        drop_database(url)
    label_n = f"{n_responses:,}"
    for label, _ in urls:
        page_ms = statistics.median(real[label])
        floor_ms = statistics.median(bare[label])
        figures.append(
            {
                "name": f"GET {label} ({label_n} responses)",
                "value": page_ms,
                "unit": "ms",
                "baseline": f"floor {floor_ms:.1f} ms",
                "ratio": page_ms / floor_ms if floor_ms else None,
                "target": f"< {TARGET_MS:g} ms",
                "ok": page_ms < TARGET_MS,
            }
        )
    return figures


def run(quick: bool) -> list[dict[str, Any]]:
    return measure(20_000 if quick else 100_000, repeats=3 if quick else 9)


if __name__ == "__main__":
    for figure in run(quick=os.environ.get("BENCH_QUICK") == "1"):
        print(
            f"{figure['name']:<70} {figure['value']:8.1f} ms  {figure['baseline']:<18} x{figure['ratio']:.1f}"
        )
