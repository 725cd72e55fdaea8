"""The verbonden web application: ``create_app()`` wires settings, routers and error handlers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlmodel import Session

from app import health
from app.api import build_api_router, build_page_router
from app.api_docs import install_api_docs
from app.collection import views as respondent_views
from app.config import Settings, get_settings
from app.db import get_engine, writing_engine
from app.errors import install_error_handlers, logger
from app.feedback import views as feedback_views
from app.home import views as home_views
from app.instrument_versions.service import check_recorded_versions
from app.logging import configure_logging, install_access_log
from app.ratelimit import install_rate_limits
from app.security import install_security_headers
from app.users import views as user_views
from app.users.sessions import install_sign_in_handlers
from app.validation import install_input_limits
from app.webapp.errors import install_app_error_pages
from app.webapp.language import install_page_language

STATIC_DIR = Path(__file__).resolve().parent / "static"


def refuse_changed_instrument(engine: Engine) -> None:
    """Stop the start when a published instrument file changed under recorded responses.

    An unreachable or unmigrated database is left to ``/readyz``: the process still starts.
    """
    try:
        with Session(engine) as session:
            check_recorded_versions(session)
    except (OperationalError, ProgrammingError):
        logger.warning("instrument versions not checked: database unreachable or not migrated")


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application. Settings are read (and checked) here, so bad ones stop the start."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        refuse_changed_instrument(app.state.engine)
        await app.state.rate_limits.start()
        yield
        await app.state.rate_limits.aclose()

    app = FastAPI(
        title="verbonden",
        version="1",
        summary="Measure verbondenheid: gezien worden, erbij horen, ertoe doen.",
        lifespan=lifespan,
        # Served by app.api_docs from a pinned package, never from a CDN.
        docs_url=None,
        redoc_url=None,
    )
    configure_logging(settings.log_level)
    app.state.settings = settings
    app.state.engine = get_engine(settings)
    app.state.write_engine = writing_engine(app.state.engine)
    install_error_handlers(app)
    install_sign_in_handlers(app)
    install_input_limits(app)
    install_rate_limits(app)
    install_access_log(app)
    install_page_language(app)
    install_security_headers(app)
    # The respondent pages first: requests are matched against the routes in order, and the form
    # is what meets the load (its paths overlap with no other router's).
    app.include_router(respondent_views.router)
    app.include_router(health.router)
    app.include_router(build_api_router())
    app.include_router(build_page_router())
    # The public doors beside the respondent's: feedback pages (a token each), sign-in, home.
    app.include_router(feedback_views.router)
    app.include_router(user_views.router)
    app.include_router(home_views.router)
    app.state.respondent_outage_page = respondent_views.unavailable_page
    install_api_docs(app)
    install_app_error_pages(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
