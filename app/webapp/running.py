"""The pages that run a wave: teams, professionals (and their CSV import), waves, QR sheets per team.

Thin routes, like :mod:`app.webapp.views`: they read the form, call the organisation service
through the web app's service modules (:mod:`app.webapp.teams`, :mod:`app.webapp.waves`) and render
a template; a refused form comes back with the values kept and a Dutch message at the field. Only a
role with ``manage`` opens them (403 otherwise); another municipality's id is 404, as in the API.
Every write is recorded in the audit trail by the web app's one router dependency
(:func:`app.webapp.auditing.audit_page_changes`, where :func:`app.api.build_page_router` includes
the pages) and needs the form's ``csrf_token``.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from app.api_common import MAX_ROW_ID
from app.auth import Scope
from app.db import SessionDep
from app.errors import Conflict, InvalidInput
from app.organisation import service as organisation
from app.organisation.schemas import PartnerCreate, TeamCreate, TeamUpdate
from app.templates import templates
from app.users.sessions import SignedIn, require_page_scope
from app.webapp import service, teams, waves
from app.webapp.forms import FieldErrors
from app.webapp.language import plural, say
from app.webapp.views import render, team_name_error

router = APIRouter(tags=["web app"], include_in_schema=False)
Manager = Annotated[SignedIn, Depends(require_page_scope(Scope.manage))]
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
# Generous limits: the schema behind each field says what is too long, in the form's own message.
Text = Annotated[str, Form(max_length=2000)]


Writer = Manager  # a write: recorded by the router's audit dependency


def _see(location: str, **query: Any) -> RedirectResponse:
    wanted = {key: value for key, value in query.items() if value is not None}
    return RedirectResponse(f"{location}?{urlencode(wanted)}" if wanted else location, status_code=303)


def _base_url(request: Request) -> str:
    return str(request.app.state.settings.base_url)


# -- teams and partners ---------------------------------------------------------------------------------


def _teams_page(
    request: Request,
    session: SessionDep,
    signed_in: SignedIn,
    *,
    name: str = "",
    error: str | None = None,
    partner_name: str = "",
    partner_error: str | None = None,
    notice: str | None = None,
) -> HTMLResponse:
    principal = signed_in.principal
    return render(
        request,
        "teams.html",
        signed_in,
        status_code=422 if error or partner_error else 200,
        teams=service.list_teams(session, principal),
        sizes=teams.team_sizes(session, principal),
        partners=teams.list_partners(session, principal),
        name=name,
        error=error,
        partner_name=partner_name,
        partner_error=partner_error,
        notice=notice,
    )


@router.get("/app/teams", response_class=HTMLResponse)
def teams_page(
    request: Request,
    session: SessionDep,
    signed_in: Manager,
    added: Annotated[str | None, Query(max_length=200)] = None,
    partner: Annotated[str | None, Query(max_length=200)] = None,
    imported: Annotated[int | None, Query(ge=0, le=10_000)] = None,
) -> Response:
    """The municipality's teams and partners, the forms that add one, and the CSV import."""
    notice = None
    if added is not None:
        notice = say("team_added", name=added)
    elif partner is not None:
        notice = say("partner_added", name=partner)
    elif imported is not None:
        notice = plural(imported, "imported_one", "imported_many")
    return _teams_page(request, session, signed_in, notice=notice)


@router.post("/app/teams")
def add_team(request: Request, session: SessionDep, signed_in: Writer, name: Text = "") -> Response:
    """Add a team; a refused name comes back in the form with its message."""
    try:
        team_in = TeamCreate(name=name)
    except ValidationError as exc:
        message = team_name_error(exc.errors()[0]["type"])
        return _teams_page(request, session, signed_in, name=name, error=message)
    team = organisation.create_team(session=session, principal=signed_in.principal, team_in=team_in)
    return _see("/app/teams", added=team.name)


@router.post("/app/partners")
def add_partner(
    request: Request, session: SessionDep, signed_in: Writer, partner_name: Text = ""
) -> Response:
    """Add a partner organisation (professionals can then be placed with it)."""
    try:
        partner_in = PartnerCreate(name=partner_name)
    except ValidationError as exc:
        message = team_name_error(exc.errors()[0]["type"])
        return _teams_page(request, session, signed_in, partner_name=partner_name, partner_error=message)
    partner = organisation.create_partner(
        session=session, principal=signed_in.principal, partner_in=partner_in
    )
    return _see("/app/teams", partner=partner.name)


# -- the CSV import -------------------------------------------------------------------------------------


def _import_page(
    request: Request,
    signed_in: SignedIn,
    *,
    preview: teams.ImportPreview | None = None,
    csv_text: str = "",
    problem: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "import.html",
        signed_in,
        status_code=status_code,
        preview=preview,
        csv_text=csv_text,
        problem=problem or (preview.problem if preview else None),
        columns=teams.IMPORT_COLUMNS,
    )


@router.get("/app/teams/import", response_class=HTMLResponse)
def import_page(request: Request, signed_in: Manager) -> Response:
    """Upload a CSV of professionals (naam;rol;team;partner;code) for a preview."""
    return _import_page(request, signed_in)


@router.post("/app/teams/import", response_class=HTMLResponse)
async def import_preview(
    request: Request,
    session: SessionDep,
    signed_in: Manager,
    file: Annotated[UploadFile | None, File()] = None,
    csv_text: Annotated[str, Form(max_length=teams.MAX_IMPORT_BYTES)] = "",
) -> Response:
    """The file checked row by row, nothing stored: each refused row with its message."""
    text = csv_text
    if file is not None and file.filename:
        content = await file.read(teams.MAX_IMPORT_BYTES + 1)
        if len(content) > teams.MAX_IMPORT_BYTES:
            return _import_page(request, signed_in, problem=say("file_too_big"), status_code=422)
        decoded = teams.decode_upload(content)
        if decoded is None:
            return _import_page(request, signed_in, problem=say("file_not_text"), status_code=422)
        text = decoded
    if not text.strip():
        return _import_page(request, signed_in, problem=say("choose_csv"), status_code=422)
    preview = teams.preview_import(session, signed_in.principal, text)
    return _import_page(
        request, signed_in, preview=preview, csv_text=text, status_code=200 if preview.ok else 422
    )


@router.post("/app/teams/import/confirm")
def import_store(
    request: Request,
    session: SessionDep,
    signed_in: Writer,
    csv_text: Annotated[str, Form(max_length=teams.MAX_IMPORT_BYTES)] = "",
) -> Response:
    """Store every row of the previewed file, or none of them."""
    try:
        stored = teams.store_import(session, signed_in.principal, csv_text)
    except teams.ImportRefused as refused:
        return _import_page(request, signed_in, preview=refused.preview, csv_text=csv_text, status_code=422)
    except Conflict:
        preview = teams.preview_import(session, signed_in.principal, csv_text)
        return _import_page(
            request,
            signed_in,
            preview=preview,
            csv_text=csv_text,
            problem=say("code_taken_meanwhile"),
            status_code=422,
        )
    return _see("/app/teams", imported=len(stored))


# -- one team -------------------------------------------------------------------------------------------

EMPTY_PROFESSIONAL = {"display_name": "", "role": "", "team_id": "", "partner_id": "", "code": ""}


def _team_page(
    request: Request,
    session: SessionDep,
    signed_in: SignedIn,
    team_id: int,
    *,
    name: str | None = None,
    name_error: str | None = None,
    values: dict[str, str] | None = None,
    errors: FieldErrors | None = None,
    notice: str | None = None,
) -> HTMLResponse:
    principal = signed_in.principal
    team = organisation.get_team(session=session, principal=principal, team_id=team_id)
    return render(
        request,
        "team.html",
        signed_in,
        status_code=422 if name_error or errors else 200,
        team=team,
        name=team.name if name is None else name,
        name_error=name_error,
        professionals=teams.professionals_of_team(session, principal, team),
        partners=teams.list_partners(session, principal),
        open_waves=teams.open_waves(session, principal),
        values=values or {**EMPTY_PROFESSIONAL, "team_id": str(team.id)},
        errors=errors or {},
        notice=notice,
    )


@router.get("/app/teams/{team_id}", response_class=HTMLResponse)
def team_page(
    request: Request,
    session: SessionDep,
    signed_in: Manager,
    team_id: RowId,
    done: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """A team: its name, its professionals, the form that adds one, its QR sheets per open wave."""
    return _team_page(request, session, signed_in, team_id, notice=done)


@router.post("/app/teams/{team_id}")
def rename_team(
    request: Request, session: SessionDep, signed_in: Writer, team_id: RowId, name: Text = ""
) -> Response:
    organisation.get_team(session=session, principal=signed_in.principal, team_id=team_id)
    try:
        team_in = TeamUpdate(name=name)
    except ValidationError as exc:
        message = team_name_error(exc.errors()[0]["type"])
        return _team_page(request, session, signed_in, team_id, name=name, name_error=message)
    organisation.update_team(session=session, principal=signed_in.principal, team_id=team_id, team_in=team_in)
    return _see(f"/app/teams/{team_id}", done=say("name_saved"))


@router.post("/app/teams/{team_id}/professionals")
def add_professional(
    request: Request,
    session: SessionDep,
    signed_in: Writer,
    team_id: RowId,
    display_name: Text = "",
    role: Text = "",
    partner_id: Text = "",
    code: Text = "",
) -> Response:
    """Add a professional to the team; a refused field comes back with its message."""
    organisation.get_team(session=session, principal=signed_in.principal, team_id=team_id)
    values = {
        "display_name": display_name,
        "role": role,
        "team_id": str(team_id),
        "partner_id": partner_id,
        "code": code,
    }
    professional, errors = teams.add_professional(session, signed_in.principal, values)
    if professional is None:
        return _team_page(request, session, signed_in, team_id, values=values, errors=errors)
    return _see(f"/app/teams/{team_id}", done=say("professional_added", name=professional.display_name))


# -- one professional -----------------------------------------------------------------------------------


def _professional_page(
    request: Request,
    session: SessionDep,
    signed_in: SignedIn,
    professional_id: int,
    *,
    values: dict[str, str] | None = None,
    errors: FieldErrors | None = None,
    notice: str | None = None,
) -> HTMLResponse:
    principal = signed_in.principal
    professional = organisation.get_professional(
        session=session, principal=principal, professional_id=professional_id
    )
    current = {
        "display_name": professional.display_name,
        "role": professional.role,
        "team_id": str(professional.team_id),
        "partner_id": str(professional.partner_id or ""),
        "code": professional.code,
    }
    team = organisation.get_team(session=session, principal=principal, team_id=professional.team_id)
    return render(
        request,
        "professional.html",
        signed_in,
        status_code=422 if errors else 200,
        professional=professional,
        team=team,
        teams=service.list_teams(session, principal),
        partners=teams.list_partners(session, principal),
        values=values or current,
        errors=errors or {},
        notice=notice,
    )


@router.get("/app/professionals/{professional_id}", response_class=HTMLResponse)
def professional_page(
    request: Request,
    session: SessionDep,
    signed_in: Manager,
    professional_id: RowId,
    done: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """A professional: name, role, team, partner and code; move, deactivate."""
    return _professional_page(request, session, signed_in, professional_id, notice=done)


@router.post("/app/professionals/{professional_id}")
def update_professional(
    request: Request,
    session: SessionDep,
    signed_in: Writer,
    professional_id: RowId,
    display_name: Text = "",
    role: Text = "",
    team_id: Text = "",
    partner_id: Text = "",
    code: Text = "",
) -> Response:
    """Change a professional, or move them to another team or partner."""
    principal = signed_in.principal
    organisation.get_professional(session=session, principal=principal, professional_id=professional_id)
    values = {
        "display_name": display_name,
        "role": role,
        "team_id": team_id,
        "partner_id": partner_id,
        "code": code,
    }
    errors = teams.update_professional(session, principal, professional_id, values)
    if errors:
        return _professional_page(request, session, signed_in, professional_id, values=values, errors=errors)
    return _see(f"/app/professionals/{professional_id}", done=say("changes_saved"))


@router.post("/app/professionals/{professional_id}/deactivate")
def deactivate_professional(session: SessionDep, signed_in: Writer, professional_id: RowId) -> Response:
    """Their links stop working now; their history and reports stay."""
    organisation.deactivate_professional(
        session=session, principal=signed_in.principal, professional_id=professional_id
    )
    return _see(f"/app/professionals/{professional_id}", done=say("stopped_done"))


@router.post("/app/professionals/{professional_id}/reactivate")
def reactivate_professional(session: SessionDep, signed_in: Writer, professional_id: RowId) -> Response:
    organisation.reactivate_professional(
        session=session, principal=signed_in.principal, professional_id=professional_id
    )
    return _see(
        f"/app/professionals/{professional_id}",
        done=say("reactivated_done"),
    )


# -- waves ----------------------------------------------------------------------------------------------


@router.get("/app/waves", response_class=HTMLResponse)
def waves_page(request: Request, session: SessionDep, signed_in: Manager) -> Response:
    """Every wave, newest first, with the links to start a new one or copy the last."""
    listed = waves.list_waves(session, signed_in.principal)
    return render(
        request,
        "waves.html",
        signed_in,
        waves=[(wave, waves.wave_state(wave)) for wave in listed],
        latest=listed[0] if listed else None,
    )


def _wave_form(
    request: Request,
    signed_in: SignedIn,
    *,
    values: waves.WaveFormValues,
    errors: FieldErrors | None = None,
    wave: Any = None,
    source: Any = None,
) -> HTMLResponse:
    return render(
        request,
        "wave_form.html",
        signed_in,
        status_code=422 if errors else 200,
        values=values,
        errors=errors or {},
        modules=waves.module_choices(),
        wave=wave,
        source=source,
        min_group_size=request.app.state.settings.min_group_size,
    )


def _posted_wave(
    name: str, opens_on: str, closes_on: str, modules: list[str], professional_feedback: str, copy_of: str
) -> waves.WaveFormValues:
    return waves.WaveFormValues(
        name=name,
        opens_on=opens_on,
        closes_on=closes_on,
        modules=tuple(modules),
        professional_feedback=professional_feedback == "on",
        copy_of=int(copy_of) if copy_of.isdigit() and 0 < int(copy_of) <= MAX_ROW_ID else None,
    )


@router.get("/app/waves/new", response_class=HTMLResponse)
def new_wave_page(
    request: Request,
    session: SessionDep,
    signed_in: Manager,
    copy_of: Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)] = None,
) -> Response:
    """The form of a new wave; with ``copy_of``, filled in from that wave (its professionals follow)."""
    if copy_of is None:
        return _wave_form(request, signed_in, values=waves.WaveFormValues())
    source = organisation.get_wave(session=session, principal=signed_in.principal, wave_id=copy_of)
    return _wave_form(request, signed_in, values=waves.values_of(source, copy=True), source=source)


Modules = Annotated[list[str], Form(max_length=20)]


@router.post("/app/waves/new")
def create_wave(
    request: Request,
    session: SessionDep,
    signed_in: Writer,
    name: Text = "",
    opens_on: Text = "",
    closes_on: Text = "",
    modules: Modules = [],  # noqa: B006 - FastAPI copies the default
    professional_feedback: Text = "",
    copy_of: Text = "",
) -> Response:
    """Create the wave (a copy: with a link for each professional and form of the source wave)."""
    principal = signed_in.principal
    values = _posted_wave(name, opens_on, closes_on, modules, professional_feedback, copy_of)
    source = (
        organisation.get_wave(session=session, principal=principal, wave_id=values.copy_of)
        if values.copy_of is not None
        else None
    )
    wave, errors = waves.save_wave(session, principal, values)
    if wave is None:
        return _wave_form(request, signed_in, values=values, errors=errors, source=source)
    return _see(f"/app/waves/{wave.id}", done=say("wave_made"))


@router.get("/app/waves/{wave_id}", response_class=HTMLResponse)
def wave_page(
    request: Request,
    session: SessionDep,
    signed_in: Manager,
    wave_id: RowId,
    done: Annotated[str | None, Query(max_length=200)] = None,
    problem: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """Per professional and form: responses received, published, what is still needed, and the links.

    Publishes what is due first, as the report does, so "published" is never behind the rule.
    """
    principal = signed_in.principal
    wave = organisation.get_wave(session=session, principal=principal, wave_id=wave_id)
    progress = waves.wave_progress(
        session, principal, wave, min_group_size=request.app.state.settings.min_group_size
    )
    return render(
        request,
        "wave.html",
        signed_in,
        progress=progress,
        wave=wave,
        state=waves.wave_state(wave),
        links=waves.link_states(session, principal, wave),
        teams=service.list_teams(session, principal),
        local_day=waves.day_text,
        notice=done,
        problem=problem,
        max_personal_links=waves.MAX_PERSONAL_LINKS,
    )


@router.get("/app/waves/{wave_id}/edit", response_class=HTMLResponse)
def edit_wave_page(request: Request, session: SessionDep, signed_in: Manager, wave_id: RowId) -> Response:
    wave = organisation.get_wave(session=session, principal=signed_in.principal, wave_id=wave_id)
    return _wave_form(request, signed_in, values=waves.values_of(wave), wave=wave)


@router.post("/app/waves/{wave_id}/edit")
def edit_wave(
    request: Request,
    session: SessionDep,
    signed_in: Writer,
    wave_id: RowId,
    name: Text = "",
    opens_on: Text = "",
    closes_on: Text = "",
    modules: Modules = [],  # noqa: B006
    professional_feedback: Text = "",
) -> Response:
    """Change the wave's name, days, modules or feedback setting (the service says what may change)."""
    principal = signed_in.principal
    wave = organisation.get_wave(session=session, principal=principal, wave_id=wave_id)
    values = _posted_wave(name, opens_on, closes_on, modules, professional_feedback, "")
    saved, errors = waves.save_wave(session, principal, values, wave_id=wave_id)
    if saved is None:
        return _wave_form(request, signed_in, values=values, errors=errors, wave=wave)
    return _see(f"/app/waves/{wave_id}", done=say("changes_saved"))


@router.post("/app/waves/{wave_id}/close")
def close_wave(session: SessionDep, signed_in: Writer, wave_id: RowId) -> Response:
    """Close the wave now: its links stop working; what came in stays."""
    try:
        organisation.close_wave(session=session, principal=signed_in.principal, wave_id=wave_id)
    except InvalidInput:
        return _see(f"/app/waves/{wave_id}", problem=say("wave_not_started"))
    return _see(f"/app/waves/{wave_id}", done=say("wave_closed"))


@router.post("/app/waves/{wave_id}/links")
def make_links(session: SessionDep, signed_in: Writer, wave_id: RowId) -> Response:
    """An open link for every active professional and form that has none yet."""
    try:
        made = organisation.create_wave_links(session=session, principal=signed_in.principal, wave_id=wave_id)
    except InvalidInput:
        return _see(f"/app/waves/{wave_id}", problem=say("wave_closed_no_links"))
    return _see(f"/app/waves/{wave_id}", done=plural(len(made), "links_made_one", "links_made_many"))


@router.get("/app/waves/{wave_id}/sheets", response_class=HTMLResponse)
def team_sheets(
    request: Request,
    session: SessionDep,
    signed_in: Manager,
    wave_id: RowId,
    team_id: Annotated[int, Query(ge=1, le=MAX_ROW_ID)],
) -> Response:
    """The QR sheets of a whole team for one wave, one A4 per professional, to print; a closed wave's
    codes work no more, so its sheets lead back to the wave page, which says so."""
    try:
        sheets = waves.team_sheets(
            session, signed_in.principal, wave_id=wave_id, team_id=team_id, base_url=_base_url(request)
        )
    except InvalidInput:
        return _see(f"/app/waves/{wave_id}", problem=say("wave_closed_no_sheets"))
    return templates.TemplateResponse(request, "print/team.html", {"sheets": sheets, "wave": sheets.wave})


@router.post("/app/waves/{wave_id}/personal-links")
def personal_links(
    request: Request,
    session: SessionDep,
    signed_in: Writer,
    wave_id: RowId,
    team_id: Text = "",
    form: Text = "",
    count: Text = "",
) -> Response:
    """Make personal (one-use) links for a team and download them as a CSV for a mail merge."""
    principal = signed_in.principal
    wave = organisation.get_wave(session=session, principal=principal, wave_id=wave_id)
    forms = [name for name in service.wave_forms(wave)]
    problems: FieldErrors = {}
    if not team_id.isdigit() or not 0 < int(team_id) <= MAX_ROW_ID:
        problems["team_id"] = say("choose_team")
    if form not in forms:
        problems["form"] = say("choose_form")
    if not count.strip().isdigit() or not 1 <= int(count) <= waves.MAX_PERSONAL_LINKS:
        problems["count"] = say("count_range", n=waves.MAX_PERSONAL_LINKS)
    if problems:
        return _wave_with_problems(request, session, signed_in, wave_id, problems, team_id, form, count)
    try:
        content, _ = waves.personal_links_csv(
            session,
            principal,
            wave_id=wave_id,
            team_id=int(team_id),
            form=form,
            count=int(count),
            base_url=_base_url(request),
        )
    except InvalidInput:
        problems["count"] = say("wave_closed_no_links")
        return _wave_with_problems(request, session, signed_in, wave_id, problems, team_id, form, count)
    filename = f"links-meetronde-{wave_id}-team-{team_id}-{form}.csv"
    return Response(
        content,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _wave_with_problems(
    request: Request,
    session: SessionDep,
    signed_in: SignedIn,
    wave_id: int,
    problems: FieldErrors,
    team_id: str,
    form: str,
    count: str,
) -> HTMLResponse:
    principal = signed_in.principal
    wave = organisation.get_wave(session=session, principal=principal, wave_id=wave_id)
    progress = waves.wave_progress(
        session, principal, wave, min_group_size=request.app.state.settings.min_group_size
    )
    return render(
        request,
        "wave.html",
        signed_in,
        status_code=422,
        progress=progress,
        wave=wave,
        state=waves.wave_state(wave),
        links=waves.link_states(session, principal, wave),
        teams=service.list_teams(session, principal),
        local_day=waves.day_text,
        link_errors=problems,
        link_values={"team_id": team_id, "form": form, "count": count},
        max_personal_links=waves.MAX_PERSONAL_LINKS,
    )
