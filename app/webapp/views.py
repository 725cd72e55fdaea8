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
from app.reports.views import PAGE_HEADERS, report_html
from app.templates import templates
from app.users.sessions import SignedIn, csrf_field, require_page_scope
from app.webapp import language

router = APIRouter(tags=["web app"], include_in_schema=False)
Reader = Annotated[SignedIn, Depends(require_page_scope(Scope.reports_aggregate))]
Admin = Annotated[SignedIn, Depends(require_page_scope(Scope.admin))]
WaveId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]

FORM_LABELS = {"jongere": "form_jongere", "ouder": "form_ouder", "professional": "form_professional"}
ROLE_LABELS = {"coordinator": "role_coordinator", "researcher": "role_researcher", "admin": "role_admin"}
"""Keys in ``templates/app/messages.yaml``: the page gets them worded in its language."""
TEAM_NAME_ERRORS = {"string_too_short": "name_missing", "string_too_long": "name_too_long"}
STATE_WORDS = {"open": "state_open", "gesloten": "state_closed", "nog niet open": "state_not_open"}
"""A wave's state (:func:`app.webapp.waves.wave_state`) -> its word in the page's language."""


def team_name_error(kind: str) -> str:
    """The message of a refused team or partner name, in the request's language."""
    return language.say(TEAM_NAME_ERRORS.get(kind, "name_refused"))


def worded(keys: dict[str, str], lang: language.Language) -> dict[str, str]:
    return {name: language.say(key, lang) for name, key in keys.items()}


def page_context(request: Request) -> dict[str, Any]:
    """What every web app template needs for its language (``lang``, ``t``, the switch link...)."""
    lang = language.of_request(request)
    return {
        **language.switch(request, lang),
        "form_labels": worded(FORM_LABELS, lang),
        "role_labels": worded(ROLE_LABELS, lang),
        "state_word": lambda state: language.say(STATE_WORDS.get(state, "state_open"), lang),
    }


def render(
    request: Request, template: str, signed_in: SignedIn, *, status_code: int = 200, **context: Any
) -> HTMLResponse:
    return templates.TemplateResponse(
        request,
        f"app/{template}",
        {
            **page_context(request),
            "signed_in": signed_in,
            "municipality": signed_in.municipality,
            "scopes": signed_in.principal.scopes,
            "csrf_field": csrf_field,
            "csrf": csrf_field(signed_in),  # the one hidden field, made once for every form of the page
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
) -> Response:
    """The wave's HTML report (the published cut only), as ``/reports/{id}`` shows it, in the web
    app's language (:mod:`app.webapp.language`)."""
    lang = language.of_request(request)
    principal = signed_in.principal
    wave = organisation.get_wave(session=session, principal=principal, wave_id=wave_id)
    from app.webapp.admin import report_panel  # the report's tools live with the admin pages

    panel = report_panel(request, signed_in, wave, form)
    page = report_html(request, session, principal, wave, form=form, lang=lang, panel=panel)
    return HTMLResponse(page, headers=PAGE_HEADERS)
