"""The floor of this stack: a bare FastAPI app that parses the same form and inserts one row.

Used by bench_submissions.py side by side with verbonden's real ``POST /s/{token}``. Run with
``uvicorn bench.bare_app:app`` and ``BARE_DATABASE_URL`` pointing at a PostgreSQL database.
"""

from __future__ import annotations

import os

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import create_engine, text
from starlette.concurrency import run_in_threadpool

engine = create_engine(os.environ["BARE_DATABASE_URL"], pool_size=10, max_overflow=10)
with engine.begin() as connection:
    connection.execute(
        text(
            "CREATE TABLE IF NOT EXISTS bare_response "
            "(id serial PRIMARY KEY, token text NOT NULL, answers text NOT NULL, submission_id text UNIQUE)"
        )
    )

app = FastAPI()


def insert(token: str, answers: str, submission_id: str) -> None:
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO bare_response (token, answers, submission_id) VALUES (:t, :a, :s)"),
            {"t": token, "a": answers, "s": submission_id},
        )


@app.post("/s/{token}")
async def submit(token: str, request: Request) -> RedirectResponse:
    form = await request.form()
    submission_id = str(form.get("submission_id", ""))
    answers = "".join(
        str(value) for name, value in form.multi_items() if name not in ("submission_id", "lang")
    )
    await run_in_threadpool(insert, token, answers, submission_id)
    return RedirectResponse(f"/s/{token}/bedankt", status_code=303)
