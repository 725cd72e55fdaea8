"""Who may call what, in one place: every router but the public doors is included behind a caller.

The JSON API under ``/api/v1`` needs an API key or a signed-in session
(:func:`app.auth.get_principal`); so does the HTML report. The web app's pages need a signed-in
person (:func:`app.users.sessions.get_signed_in`, which sends a browser to ``/login``). A route added
to any of these routers is protected by default; the public doors (the respondent form, health, the
instrument, home, sign-in, feedback pages) are included by :func:`app.main.create_app` and listed in
``tests/app/test_protected_routes.py``.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from app.auth import get_principal

API_PREFIX = "/api/v1"


def build_api_router() -> APIRouter:
    """Protected routers are included with the key check, so a new route is protected by default."""
    public = APIRouter(prefix=API_PREFIX)
    protected = APIRouter(prefix=API_PREFIX, dependencies=[Depends(get_principal)])

    # Routers are imported here so that importing app.api stays cheap and free of cycles.
    from app.apikeys.api import router as apikeys_router
    from app.audit.api import router as audit_router
    from app.collection.api import router as collection_router
    from app.exports.api import router as exports_router
    from app.feedback.api import router as feedback_router
    from app.instrument_versions.api import router as instrument_router
    from app.municipality.api import router as municipality_router
    from app.organisation.api import router as organisation_router
    from app.reports.api import router as reports_router

    public.include_router(instrument_router)
    # The partner API's submissions first: requests are matched against the routes in order, and
    # this is the route that meets the load (its path overlaps with no other router's).
    protected.include_router(collection_router)
    protected.include_router(organisation_router)
    protected.include_router(feedback_router)
    protected.include_router(exports_router)
    protected.include_router(reports_router)
    protected.include_router(apikeys_router)
    protected.include_router(municipality_router)
    protected.include_router(audit_router)

    api = APIRouter()
    api.include_router(protected)
    api.include_router(public)
    return api


def build_page_router() -> APIRouter:
    """The HTML pages behind a caller: the report (key or session), the web app (signed in)."""
    from app.reports.views import router as report_router
    from app.users.sessions import get_signed_in
    from app.webapp.admin import router as webapp_admin_router
    from app.webapp.auditing import audit_page_changes
    from app.webapp.running import router as webapp_running_router
    from app.webapp.views import router as webapp_router

    with_principal = APIRouter(dependencies=[Depends(get_principal)])
    with_principal.include_router(report_router)
    # The web app's writes are audited like the API's: every /app/ router is included here.
    signed_in = APIRouter(
        dependencies=[Depends(get_signed_in), Depends(audit_page_changes, scope="function")]
    )
    signed_in.include_router(webapp_running_router)  # before webapp_router: /app/waves/new is no id
    signed_in.include_router(webapp_router)
    signed_in.include_router(webapp_admin_router)

    pages = APIRouter()
    pages.include_router(with_principal)
    pages.include_router(signed_in)
    return pages
