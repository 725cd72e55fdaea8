"""Liveness and readiness probes for load balancers and container orchestrators."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.errors import problem
from app.migrate import current_revision, head_revision

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is alive (it says nothing about the database)."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "Not ready; `detail` says why"}})
def readyz(request: Request) -> JSONResponse:
    """Ready to serve: the database answers and is at the latest migration."""
    engine = request.app.state.engine
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        current = current_revision(engine)
    except SQLAlchemyError as exc:
        return problem(
            503,
            f"database not reachable ({type(exc.__cause__ or exc).__name__})",
            title="Not ready",
            headers={"Retry-After": "5"},
        )
    head = head_revision()
    if current != head:
        return problem(
            503,
            f"database is at migration {current or 'none'}, the code needs {head}; "
            "run `verbonden db upgrade`",
            title="Not ready",
            headers={"Retry-After": "5"},
        )
    return JSONResponse({"status": "ready", "migration": current})
