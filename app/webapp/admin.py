"""The admin's pages (colleagues, API keys, the audit trail) and the report's tools (downloads,
feedback links) under ``/app/``.

Thin routes like :mod:`app.webapp.views`: each reads its form, calls the services (users, API keys,
audit, exports, organisation) with the signed-in person's :class:`~app.auth.Principal`, and renders
a template from ``templates/app/``. A refused value comes back in the form, with the values kept and
a plain-Dutch message at the field (status 422). Secrets (an invitation link without a mail
server, a new API key) are shown once, on the answer to the POST that made them, never stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, BackgroundTasks, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from pydantic import ValidationError

from app.apikeys import service as apikey_service
from app.apikeys.schemas import ApiKeyCreate, ApiKeyPublic
from app.audit import service as audit
from app.audit.schemas import AuditFilter
from app.auth import Scope
from app.db import SessionDep, StreamSessionDep
from app.errors import Conflict, InvalidInput, NotFound
from app.exports import downloads
from app.exports.schemas import MAX_FORM_LENGTH, CodebookFormat, ResponsesFormat
from app.feedback import service as feedback
from app.feedback.schemas import FeedbackLinkCreate
from app.models import User, Wave
from app.organisation import qr
from app.organisation import service as organisation
from app.templates import templates
from app.users import mail
from app.users import service as users
from app.users.schemas import Role, UserCreate
from app.users.sessions import SignedIn, require_page_scope
from app.webapp import language, service
from app.webapp.language import say
from app.webapp.views import Admin, WaveId, page_context, render, worded

router = APIRouter(tags=["web app"], include_in_schema=False)
Reader = Annotated[SignedIn, Depends(require_page_scope(Scope.responses_read))]
# A feedback link shows a professional's scores: making one needs both, as on the API.
LinkManager = Annotated[
    SignedIn,
    Depends(require_page_scope(Scope.manage, Scope.reports_professional, require_all=True)),
]
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]
FormText = Annotated[str, Form(max_length=1024)]
AUDIT_PAGE_SIZE = 50
MAX_AUDIT_PAGE = 1_000_000

# Keys in templates/app/messages.yaml, worded in the page's language when shown.
SCOPE_LABELS = {
    Scope.manage.value: "scope_manage",
    Scope.responses_write.value: "scope_responses_write",
    Scope.responses_read.value: "scope_responses_read",
    Scope.reports_aggregate.value: "scope_reports_aggregate",
    Scope.reports_professional.value: "scope_reports_professional",
    Scope.admin.value: "scope_admin",
}
ROLE_CHOICES = {
    Role.coordinator.value: "role_choice_coordinator",
    Role.researcher.value: "role_choice_researcher",
    Role.admin.value: "role_choice_admin",
}


# -- colleagues ---------------------------------------------------------------------------------------


@dataclass
class InviteForm:
    email: str = ""
    display_name: str = ""
    role: str = Role.coordinator.value
    errors: dict[str, str] = field(default_factory=dict)


INVITE_MESSAGES = {"email": "invite_email", "display_name": "invite_display_name", "role": "invite_role"}
DONE_USERS = {
    "role": "done_role",
    "disabled": "done_disabled",
    "2fa_on": "done_2fa_on",
    "2fa_off": "done_2fa_off",
}


def _role_choices(signed_in: SignedIn) -> dict[str, str]:
    choices = worded(ROLE_CHOICES, language.current())
    if signed_in.principal.is_research:  # a research account reads only: never a coordinator
        return {role: label for role, label in choices.items() if role != Role.coordinator.value}
    return choices


def _users_page(
    request: Request,
    session: SessionDep,
    signed_in: SignedIn,
    *,
    invite: InviteForm | None = None,
    row_errors: dict[int, str] | None = None,
    invited: tuple[User, str | None] | None = None,
    done: str | None = None,
) -> HTMLResponse:
    principal = signed_in.principal
    invite = invite or InviteForm()
    failed = bool(invite.errors or row_errors)
    page = render(
        request,
        "users.html",
        signed_in,
        status_code=422 if failed else 200,
        users=users.list_colleagues(session, actor=principal),
        own=users.own_municipality(session, actor=principal),
        invite=invite,
        row_errors=row_errors or {},
        invited=invited,
        done=say(DONE_USERS[done]) if done in DONE_USERS else None,
        role_choices=_role_choices(signed_in),
    )
    return page


@router.get("/app/users", response_class=HTMLResponse)
def users_page(
    request: Request,
    session: SessionDep,
    signed_in: Admin,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    """The colleagues of the admin's municipality: invite, set a role, disable; the second factor."""
    return _users_page(request, session, signed_in, done=done)


@router.post("/app/users")
def invite_colleague(
    request: Request,
    session: SessionDep,
    signed_in: Admin,
    background: BackgroundTasks,
    email: FormText = "",
    display_name: FormText = "",
    role: FormText = "",
) -> Response:
    """Invite a colleague: an account and a one-time link (mailed, or shown once without a mail server)."""
    form = InviteForm(email=email.strip(), display_name=display_name, role=role)
    try:
        user_in = UserCreate(
            email=email,
            display_name=display_name,
            role=role,
            municipality_id=signed_in.principal.municipality_id,
        )
    except ValidationError as exc:
        form.errors = {
            str(error["loc"][0]): say(INVITE_MESSAGES[str(error["loc"][0])])
            for error in exc.errors()
            if error["loc"] and str(error["loc"][0]) in INVITE_MESSAGES
        }
        return _users_page(request, session, signed_in, invite=form)
    if user_in.role.value not in _role_choices(signed_in):
        form.errors = {"role": say("research_no_coordinator")}
        return _users_page(request, session, signed_in, invite=form)
    settings = request.app.state.settings
    try:
        user, url = users.invite_user(session, settings, actor=signed_in.principal, user_in=user_in)
    except Conflict:
        form.errors = {"email": say("email_taken")}
        return _users_page(request, session, signed_in, invite=form)
    except InvalidInput:
        form.errors = {"role": say("research_no_coordinator")}
        return _users_page(request, session, signed_in, invite=form)
    shown: str | None = None
    if settings.smtp_url:
        background.add_task(
            mail.send_link, settings, to=user.email, name=user.display_name, url=url, purpose="invite"
        )
    else:
        shown = url  # no mail server: the admin passes the link on (this once)
    return _users_page(request, session, signed_in, invited=(user, shown))


@router.post("/app/users/{user_id}/role")
def set_role(
    request: Request, session: SessionDep, signed_in: Admin, user_id: RowId, role: FormText = ""
) -> Response:
    """Give a colleague another role (never oneself: an admin cannot lock themselves out)."""
    user = users.colleague(session, actor=signed_in.principal, user_id=user_id)
    if user.id == signed_in.user.id:
        return _users_page(request, session, signed_in, row_errors={user_id: say("own_role")})
    if role not in _role_choices(signed_in):
        return _users_page(request, session, signed_in, row_errors={user_id: say("invite_role")})
    users.change_role(session, user=user, role=Role(role), actor=signed_in.principal)
    return RedirectResponse("/app/users?done=role", status_code=303)


@router.post("/app/users/{user_id}/disable")
def disable_colleague(request: Request, session: SessionDep, signed_in: Admin, user_id: RowId) -> Response:
    """The colleague can no longer sign in; their sessions end now."""
    user = users.colleague(session, actor=signed_in.principal, user_id=user_id)
    if user.id == signed_in.user.id:
        return _users_page(request, session, signed_in, row_errors={user_id: say("own_account")})
    users.disable_user(session, user=user, actor=signed_in.principal)
    return RedirectResponse("/app/users?done=disabled", status_code=303)


@router.post("/app/users/second-factor")
def require_second_factor(
    session: SessionDep, signed_in: Admin, required: Annotated[str, Form(max_length=8)] = ""
) -> Response:
    """Make the second factor compulsory for everyone of the municipality (or not)."""
    municipality = users.own_municipality(session, actor=signed_in.principal)
    if municipality is None:
        raise NotFound("A research account has no municipality to set this for.")
    on = bool(required)
    users.require_second_factor(session, municipality=municipality, required=on, actor=signed_in.principal)
    return RedirectResponse(f"/app/users?done={'2fa_on' if on else '2fa_off'}", status_code=303)


# -- API keys -----------------------------------------------------------------------------------------


@dataclass
class KeyForm:
    name: str = ""
    scopes: list[str] = field(default_factory=list)
    expires: str = ""
    errors: dict[str, str] = field(default_factory=dict)


KEY_MESSAGES = {
    "name": "key_name_message",
    "scopes": "key_scopes_message",
    "expires_at": "key_expires_message",
}
DONE_KEYS = {"revoked": "done_revoked"}


def _scope_choices(signed_in: SignedIn) -> dict[str, str]:
    labels = worded(SCOPE_LABELS, language.current())
    if signed_in.principal.is_research:
        forbidden = {scope.value for scope in apikey_service.RESEARCH_FORBIDDEN}
        return {scope: label for scope, label in labels.items() if scope not in forbidden}
    return labels


def _parse_day(text: str) -> str | None:
    """A date as the form gives it (``2027-12-31`` or ``31-12-2027``) in ISO form; None if not one."""
    text = text.strip()
    for layout in ("%Y-%m-%d", "%d-%m-%Y"):
        try:
            return datetime.strptime(text, layout).date().isoformat()
        except ValueError:
            continue
    return None


def _apikeys_page(
    request: Request,
    session: SessionDep,
    signed_in: SignedIn,
    *,
    form: KeyForm | None = None,
    created: tuple[ApiKeyPublic, str] | None = None,
    done: str | None = None,
) -> HTMLResponse:
    keys, _ = apikey_service.list_keys(session, signed_in.principal, limit=service.MAX_LISTED, offset=0)
    form = form or KeyForm()
    return render(
        request,
        "apikeys.html",
        signed_in,
        status_code=422 if form.errors else 200,
        keys=[apikey_service.present(key) for key in keys],
        form=form,
        created=created,
        done=say(DONE_KEYS[done]) if done in DONE_KEYS else None,
        scope_choices=_scope_choices(signed_in),
        scope_labels=worded(SCOPE_LABELS, language.current()),
    )


@router.get("/app/apikeys", response_class=HTMLResponse)
def apikeys_page(
    request: Request,
    session: SessionDep,
    signed_in: Admin,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    """The municipality's API keys (never a secret), the form that makes one, and revoking."""
    return _apikeys_page(request, session, signed_in, done=done)


@router.post("/app/apikeys")
def create_key(
    request: Request,
    session: SessionDep,
    signed_in: Admin,
    name: FormText = "",
    scopes: Annotated[list[str] | None, Form(max_length=16)] = None,
    expires: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Make a key; the answer shows its secret, this once."""
    chosen = [scope[:32] for scope in scopes or []]
    form = KeyForm(name=name, scopes=chosen, expires=expires)
    allowed = [scope for scope in chosen if scope in _scope_choices(signed_in)]
    expires_at = _parse_day(expires) if expires.strip() else None
    if expires.strip() and expires_at is None:
        form.errors["expires_at"] = say(KEY_MESSAGES["expires_at"])
    try:
        key_in = ApiKeyCreate(
            name=name,
            scopes=allowed,
            expires_at=expires_at,
            research=signed_in.principal.is_research,
        )
    except ValidationError as exc:
        for error in exc.errors():
            where = str(error["loc"][0]) if error["loc"] else ""
            if where in KEY_MESSAGES:
                form.errors[where] = say(KEY_MESSAGES[where])
        form.errors = form.errors or {"name": say(KEY_MESSAGES["name"])}
    if form.errors:
        return _apikeys_page(request, session, signed_in, form=form)
    try:
        api_key, secret = apikey_service.create_key(
            session=session, principal=signed_in.principal, key_in=key_in
        )
    except InvalidInput as exc:
        where = next((str(error["loc"][-1]) for error in exc.extra.get("errors", [])), "scopes")
        form.errors = {
            where if where in KEY_MESSAGES else "scopes": say(KEY_MESSAGES.get(where, KEY_MESSAGES["scopes"]))
        }
        return _apikeys_page(request, session, signed_in, form=form)
    created = (apikey_service.present(api_key), secret)
    return _apikeys_page(request, session, signed_in, created=created)


@router.post("/app/apikeys/{key_id}/revoke")
def revoke_key(session: SessionDep, signed_in: Admin, key_id: RowId) -> Response:
    """Revoke the key: it answers 401 from now on (the row stays for the audit trail)."""
    apikey_service.revoke_key(session=session, principal=signed_in.principal, key_id=key_id)
    return RedirectResponse("/app/apikeys?done=revoked", status_code=303)


# -- the audit trail ----------------------------------------------------------------------------------


@dataclass
class AuditQuery:
    actor: str = ""
    action: str = ""
    since: str = ""
    until: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    def query(self, page: int) -> str:
        values = {"actor": self.actor, "action": self.action, "since": self.since, "until": self.until}
        kept = {name: value for name, value in values.items() if value}
        return urlencode({**kept, "page": page})


def _day_start(text: str) -> datetime | None:
    iso = _parse_day(text)
    return datetime.combine(date.fromisoformat(iso), time(), tzinfo=UTC) if iso else None


def _audit_filter(query: AuditQuery) -> AuditFilter:
    """The filter the form asks for; what cannot be read goes into ``query.errors`` by field."""
    user_id = api_key_id = None
    actor = query.actor.strip()
    if actor:
        kind, number = actor[:1], actor[1:]
        if kind in ("u", "k") and number.isascii() and number.isdigit() and len(number) <= 10:
            user_id, api_key_id = (int(number), None) if kind == "u" else (None, int(number))
        else:
            query.errors["actor"] = say("choose_person")
    if len(query.action) > 64:
        query.errors["action"] = say("choose_action")
    since = _day_start(query.since) if query.since.strip() else None
    if query.since.strip() and since is None:
        query.errors["since"] = say("since_message")
    until = _day_start(query.until) if query.until.strip() else None
    if query.until.strip() and until is None:
        query.errors["until"] = say("until_message")
    elif since is not None and until is not None and until < since:
        query.errors["until"] = say("until_before")
    return AuditFilter(
        user_id=user_id,
        api_key_id=api_key_id,
        action=query.action.strip() or None,
        since=since,
        until=until + timedelta(days=1) if until is not None else None,  # through the end of that day
    )


@router.get("/app/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    session: SessionDep,
    signed_in: Admin,
    actor: Annotated[str, Query(max_length=24)] = "",
    action: Annotated[str, Query(max_length=200)] = "",
    since: Annotated[str, Query(max_length=32)] = "",
    until: Annotated[str, Query(max_length=32)] = "",
    page: Annotated[str, Query(max_length=12)] = "1",
) -> Response:
    """The municipality's audit trail, newest first: by whom, what and when, a page at a time."""
    principal = signed_in.principal
    query = AuditQuery(actor=actor, action=action, since=since, until=until)
    wanted = _audit_filter(query)
    number = int(page) if page.isascii() and page.isdigit() and 1 <= int(page) <= MAX_AUDIT_PAGE else 1
    events: list[Any] = []
    total = 0
    if not query.errors:
        rows, total = audit.list_events(
            session, principal, wanted=wanted, limit=AUDIT_PAGE_SIZE, offset=(number - 1) * AUDIT_PAGE_SIZE
        )
        events = list(rows)
    colleagues = users.list_colleagues(session, actor=principal)
    keys, _ = apikey_service.list_keys(session, principal, limit=service.MAX_LISTED, offset=0)
    people = {user.id: user.display_name for user in colleagues}
    key_names = {key.id: f"{key.name} ({key.prefix}…)" for key in keys}
    last_page = max(1, -(-total // AUDIT_PAGE_SIZE))
    return render(
        request,
        "audit.html",
        signed_in,
        status_code=422 if query.errors else 200,
        events=events,
        total=total,
        query=query,
        page=number,
        last_page=last_page,
        first_shown=(number - 1) * AUDIT_PAGE_SIZE + 1,
        people=people,
        key_names=key_names,
        actions=audit.list_actions(session, principal),
    )


# -- the report's tools: downloads and feedback links ------------------------------------------------


def report_panel(request: Request, signed_in: SignedIn, wave: Wave, form: str) -> Markup:
    """The web app's bar above the report: back, the other forms, the downloads the role allows and
    the feedback links (where the wave gives professionals feedback)."""
    scopes = signed_in.principal.scopes
    html = templates.env.get_template("app/_report_panel.html").render(
        **page_context(request),
        wave=wave,
        form=form,
        forms=service.wave_forms(wave),
        manage=Scope.manage.value in scopes,
        downloads=Scope.responses_read.value in scopes,
        feedback=wave.professional_feedback
        and {Scope.manage.value, Scope.reports_professional.value} <= scopes,
    )
    return Markup(html)  # noqa: S704 - rendered by the autoescaping template environment


@router.get("/app/waves/{wave_id}/export")
def export_responses(
    request: Request,
    session: SessionDep,
    stream_session: StreamSessionDep,
    signed_in: Reader,
    wave_id: WaveId,
    format: Annotated[ResponsesFormat, Query()] = ResponsesFormat.csv,
    form: Annotated[str | None, Query(max_length=MAX_FORM_LENGTH)] = None,
) -> Response:
    """The wave's responses as CSV or SPSS (.sav), exactly as ``/api/v1/exports/responses`` gives
    them (published rows only for a municipality, audited)."""
    organisation.get_wave(session=session, principal=signed_in.principal, wave_id=wave_id)
    return downloads.responses_download(
        session,
        stream_session,
        signed_in.principal,
        wave_id=wave_id,
        file_format=format,
        form=form or None,
        bom=format is ResponsesFormat.csv,  # a CSV from the browser mostly opens in Excel
        min_group_size=request.app.state.settings.min_group_size,
    )


@router.get("/app/waves/{wave_id}/codebook")
def export_codebook(
    session: SessionDep,
    signed_in: Reader,
    wave_id: WaveId,
    form: Annotated[str | None, Query(max_length=MAX_FORM_LENGTH)] = None,
) -> Response:
    """The codebook (CSV) of the wave's instrument version."""
    wave = organisation.get_wave(session=session, principal=signed_in.principal, wave_id=wave_id)
    return downloads.codebook_download(CodebookFormat.csv, form=form or None, version=wave.instrument_version)


@lru_cache(maxsize=2048)
def _link_qr(url: str) -> Markup:
    """A link's QR code (the same link, the same picture: encoding one takes ~10 ms)."""
    return qr.qr_svg_inline(url)


@dataclass(frozen=True)
class LinkRow:
    id: int
    url: str
    status: str
    created_at: datetime
    expires_at: datetime | None
    qr: Markup | None


def _feedback_page(
    request: Request, session: SessionDep, signed_in: SignedIn, wave: Wave, *, done: str | None = None
) -> HTMLResponse:
    principal = signed_in.principal
    base_url = request.app.state.settings.base_url
    rows = []
    if wave.professional_feedback:
        teams = {team.id: team.name for team in service.list_teams(session, principal)}
        professionals, _ = organisation.list_professionals(
            session=session, principal=principal, limit=service.MAX_LISTED, offset=0
        )
        links_of = feedback.links_by_professional(
            session, principal, [professional.id for professional in professionals if professional.id]
        )
        for professional in sorted(professionals, key=lambda p: (teams.get(p.team_id, ""), p.display_name)):
            assert professional.id is not None
            links = []
            for link in links_of[professional.id]:
                shown = feedback.present_feedback_link(link, base_url=base_url)
                active = shown.status.value == "active"
                links.append(
                    LinkRow(
                        shown.id,
                        shown.url,
                        shown.status.value,
                        shown.created_at,
                        shown.expires_at,
                        _link_qr(shown.url) if active else None,
                    )
                )
            rows.append((professional, teams.get(professional.team_id, ""), links))
    page = render(request, "feedback_links.html", signed_in, wave=wave, rows=rows, done=done)
    return page


@router.get("/app/waves/{wave_id}/feedback", response_class=HTMLResponse)
def feedback_links_page(
    request: Request,
    session: SessionDep,
    signed_in: LinkManager,
    wave_id: WaveId,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    """Per professional: their feedback links as link and QR code; make one, revoke one."""
    wave = organisation.get_wave(session=session, principal=signed_in.principal, wave_id=wave_id)
    notice = {"made": "feedback_made", "revoked": "feedback_revoked"}
    return _feedback_page(
        request, session, signed_in, wave, done=say(notice[done]) if done in notice else None
    )


def _feedback_wave(session: SessionDep, signed_in: SignedIn, wave_id: int) -> Wave:
    wave = organisation.get_wave(session=session, principal=signed_in.principal, wave_id=wave_id)
    if not wave.professional_feedback:
        raise Conflict("This wave gives professionals no feedback.")
    return wave


@router.post("/app/waves/{wave_id}/feedback/{professional_id}")
def make_feedback_link(
    session: SessionDep, signed_in: LinkManager, wave_id: WaveId, professional_id: RowId
) -> Response:
    """A new feedback link for the professional (their earlier links keep working until revoked)."""
    wave = _feedback_wave(session, signed_in, wave_id)
    feedback.create_feedback_link(
        session=session,
        principal=signed_in.principal,
        professional_id=professional_id,
        link_in=FeedbackLinkCreate(),
    )
    return RedirectResponse(f"/app/waves/{wave.id}/feedback?done=made#p{professional_id}", status_code=303)


@router.post("/app/waves/{wave_id}/feedback/links/{link_id}/revoke")
def revoke_feedback_link(
    session: SessionDep, signed_in: LinkManager, wave_id: WaveId, link_id: RowId
) -> Response:
    """Revoke a feedback link at once (final)."""
    wave = _feedback_wave(session, signed_in, wave_id)
    link = feedback.revoke_feedback_link(session=session, principal=signed_in.principal, link_id=link_id)
    return RedirectResponse(
        f"/app/waves/{wave.id}/feedback?done=revoked#p{link.professional_id}", status_code=303
    )
