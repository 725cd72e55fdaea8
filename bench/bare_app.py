"""The floors of this stack: bare FastAPI routes doing the least each door must do.

Used by bench_submissions.py side by side with verbonden's real routes, on the same server
(uvicorn, one worker), database (PostgreSQL) and driver (psycopg, through SQLAlchemy's pool of the
same size as verbonden's). Each is what a competent engineer would write first, never slowed:

- ``POST /s/{token}``: read the urlencoded body, parse it with the standard library (one pass),
  insert one row, answer 303.
- ``POST /api/v1/responses``: check the Bearer key against the one known key, parse the JSON body
  with the standard library, insert one row keyed by the Idempotency-Key (``ON CONFLICT DO
  NOTHING``), answer 201 with a small JSON body.
- ``GET /s/{token}``: read the link by its token (one indexed ``SELECT``), render verbonden's own
  form template (``respondent/form.html``) for a page prepared at start-up.

Run with ``uvicorn bench.bare_app:app``; ``BARE_DATABASE_URL`` names the floor's own database,
``BARE_API_KEY`` the one key, ``BARE_PAGE`` a pickled form page context (from the bench).
"""

from __future__ import annotations

import json
import os
import pickle
import secrets
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy import create_engine
from starlette.concurrency import run_in_threadpool

from app.templates import templates

engine = create_engine(os.environ["BARE_DATABASE_URL"], pool_size=20, max_overflow=5)
with engine.begin() as connection:
    connection.exec_driver_sql(
        "CREATE TABLE IF NOT EXISTS bare_response (id serial PRIMARY KEY, token text NOT NULL, "
        "answers text NOT NULL, submission_key text UNIQUE)"
    )
    connection.exec_driver_sql("CREATE TABLE IF NOT EXISTS bare_link (token text PRIMARY KEY)")
    connection.exec_driver_sql(
        "INSERT INTO bare_link VALUES (%s) ON CONFLICT DO NOTHING", (os.environ.get("BARE_TOKEN", ""),)
    )
API_KEY = os.environ.get("BARE_API_KEY", "")
PAGE: dict[str, object] = (
    pickle.loads(bytes.fromhex(os.environ["BARE_PAGE"])) if "BARE_PAGE" in os.environ else {}
)
FORM = templates.env.get_template("respondent/form.html")
INSERT = (
    "INSERT INTO bare_response (token, answers, submission_key) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING"
)

app = FastAPI()


def insert(token: str, answers: str, key: str) -> bool:
    with engine.begin() as connection:
        return connection.exec_driver_sql(INSERT, (token, answers, key)).rowcount == 1


def link_exists(token: str) -> bool:
    with engine.connect() as connection:
        found = connection.exec_driver_sql("SELECT 1 FROM bare_link WHERE token = %s", (token,)).first()
        return found is not None


@app.post("/s/{token}")
async def submit(token: str, request: Request) -> Response:
    fields = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
    submission_id = fields.pop("submission_id", "")
    fields.pop("lang", None)
    await run_in_threadpool(insert, token, "".join(fields.values()), submission_id)
    return Response(status_code=303, headers={"Location": f"/s/{token}/bedankt"})


@app.post("/api/v1/responses")
async def api_submit(request: Request) -> Response:
    if request.headers.get("authorization") != f"Bearer {API_KEY}":
        return JSONResponse({"detail": "no key"}, status_code=401)
    body = json.loads(await request.body())
    key = f"{request.headers.get('idempotency-key')}:{body['token']}"
    answers = "".join("?" if value is None else str(value) for value in body["answers"].values())
    stored = await run_in_threadpool(insert, body["token"], answers, key)
    return JSONResponse(
        {"stored": stored, "form": "jongere", "wave_id": 1}, status_code=201 if stored else 200
    )


@app.get("/s/{token}")
async def show(token: str) -> Response:
    if not await run_in_threadpool(link_exists, token):
        return Response(status_code=404)
    return HTMLResponse(FORM.render({**PAGE, "submission_id": secrets.token_urlsafe(18)}))
