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

from app.api_common import MAX_ROW_ID
from app.auth import Scope
from app.db import SessionDep
from app.organisation import service as organisation
from app.reports.views import PAGE_HEADERS, Language, report_html
from app.templates import templates
from app.users.sessions import SignedIn, csrf_field, require_page_scope

router = APIRouter(tags=["web app"], include_in_schema=False)
Reader = Annotated[SignedIn, Depends(require_page_scope(Scope.reports_aggregate))]
Admin = Annotated[SignedIn, Depends(require_page_scope(Scope.admin))]
WaveId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]

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
            "csrf": csrf_field(signed_in),  # the one hidden field, made once for every form of the page
            "form_labels": FORM_LABELS,
            "role_labels": ROLE_LABELS,
            **context,
        },
        status_code=status_code,
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
    from app.webapp.admin import report_panel  # the report's tools live with the admin pages

    panel = report_panel(request, signed_in, wave, form)
    page = report_html(request, session, principal, wave, form=form, lang=lang, panel=panel)
    return HTMLResponse(page, headers=PAGE_HEADERS)
