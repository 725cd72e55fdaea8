"""The web app's pages under ``/app/``: a wave's report and the admin lists (running a wave: ``running.py``).

Thin routes beside the JSON API: they call the same services (organisation, publication, reports,
users, API keys, audit) with the signed-in person's :class:`~app.auth.Principal`, and render a
template from ``templates/app/``. Signed out, every page answers 303 to ``/login``
(:data:`~app.users.sessions.SignedInDep`); a role without the right gets 403. No JavaScript; every
form posts its ``csrf_token``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from app.apikeys import repository as apikey_repository
from app.apikeys import service as apikey_service
from app.audit import service as audit
from app.audit.repository import AuditFilter
from app.auth import Scope
from app.db import SessionDep
from app.organisation import service as organisation
from app.reports.schemas import MAX_ROW_ID
from app.reports.views import PAGE_HEADERS, Language, report_html
from app.templates import templates
from app.users import repository as user_repository
from app.users.sessions import SignedIn, csrf_field, require_page_scope
from app.webapp import service

router = APIRouter(tags=["web app"], include_in_schema=False)
Reader = Annotated[SignedIn, Depends(require_page_scope(Scope.reports_aggregate))]
Admin = Annotated[SignedIn, Depends(require_page_scope(Scope.admin))]
WaveId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
AUDIT_LISTED = 100

FORM_LABELS = {"jongere": "Jongeren", "ouder": "Ouders", "professional": "Professionals (zelf)"}
ROLE_LABELS = {"coordinator": "coördinator", "researcher": "onderzoeker", "admin": "beheerder"}
TEAM_NAME_ERRORS = {
    "string_too_short": "Vul de naam van het team in.",
    "string_too_long": "De naam is te lang: hoogstens 200 tekens.",
}


def render(
    request: Request, template: str, signed_in: SignedIn, *, status_code: int = 200, **context: Any
) -> HTMLResponse:
    return templates.TemplateResponse(
        request,
        f"app/{template}",
        {
            "lang": "nl",
            "signed_in": signed_in,
            "municipality": signed_in.municipality,
            "scopes": signed_in.principal.scopes,
            "csrf_field": csrf_field,
            "form_labels": FORM_LABELS,
            "role_labels": ROLE_LABELS,
            **context,
        },
        status_code=status_code,
        headers={"Cache-Control": "no-store"},
    )


# -- waves ----------------------------------------------------------------------------------------------
# Teams, professionals, waves and their QR sheets: app/webapp/running.py.


@router.get("/app/waves/{wave_id}/report", response_class=HTMLResponse)
def wave_report(
    request: Request,
    session: SessionDep,
    signed_in: Reader,
    wave_id: WaveId,
    form: Annotated[str, Query(min_length=1, max_length=32)] = "jongere",
    lang: Language = "nl",
) -> Response:
    """The wave's HTML report (the published cut only), as ``/reports/{id}`` shows it."""
    principal = signed_in.principal
    wave = organisation.get_wave(session=session, principal=principal, wave_id=wave_id)
    page = report_html(request, session, principal, wave, form=form, lang=lang)
    return HTMLResponse(page, headers=PAGE_HEADERS)


# -- admin ----------------------------------------------------------------------------------------------


@router.get("/app/users", response_class=HTMLResponse)
def users_page(request: Request, session: SessionDep, signed_in: Admin) -> Response:
    """The accounts of the admin's municipality (read-only for now)."""
    users = user_repository.list_users(session, municipality_id=signed_in.principal.municipality_id)
    return render(request, "users.html", signed_in, users=users)


@router.get("/app/apikeys", response_class=HTMLResponse)
def apikeys_page(request: Request, session: SessionDep, signed_in: Admin) -> Response:
    """The municipality's API keys: name, prefix, scopes and dates; never a secret."""
    keys, _ = apikey_repository.list_keys(session, signed_in.principal, limit=service.MAX_LISTED, offset=0)
    return render(request, "apikeys.html", signed_in, keys=[apikey_service.present(key) for key in keys])


@router.get("/app/audit", response_class=HTMLResponse)
def audit_page(request: Request, session: SessionDep, signed_in: Admin) -> Response:
    """The latest events of the municipality's audit trail."""
    events, total = audit.list_events(
        session, signed_in.principal, wanted=AuditFilter(), limit=AUDIT_LISTED, offset=0
    )
    return render(request, "audit.html", signed_in, events=events, total=total)
