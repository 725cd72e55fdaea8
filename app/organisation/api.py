"""JSON routes for partners, teams, professionals, waves and invitations (scope ``manage``).

Routes are thin: they read the request, call the service and shape the answer. Another municipality's
object, and an id given in a body that belongs to another municipality, both answer 404.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.responses import HTMLResponse

from app.api_common import (
    INVALID_INPUT,
    MAX_ROW_ID,
    NOT_IN_MUNICIPALITY,
    BaseUrl,
    Page,
    PagingDep,
    PathId,
    error_responses,
    page_of,
    problem,
)
from app.audit.service import audit_changes
from app.auth import ManagePrincipal, Principal, Scope, require_scope
from app.db import SessionDep
from app.organisation import qr, service
from app.organisation import sheet as print_sheet
from app.organisation.schemas import (
    InvitationCreate,
    InvitationPublic,
    InvitationUpdate,
    PartnerCreate,
    PartnerPublic,
    PartnerUpdate,
    ProfessionalCreate,
    ProfessionalPublic,
    ProfessionalUpdate,
    SheetAudience,
    TeamCreate,
    TeamPublic,
    TeamUpdate,
    WaveCreate,
    WaveListed,
    WavePublic,
    WaveUpdate,
)
from app.templates import templates

# Every create, update and delete below is recorded in the audit trail by this one dependency.
router = APIRouter(dependencies=[Depends(audit_changes, scope="function")])

_FORBIDDEN = "The key lacks the scope `manage`, or is a research key writing"
_OBJECT_ERRORS = error_responses(forbidden=_FORBIDDEN, not_found=NOT_IN_MUNICIPALITY)
_WRITE_ERRORS = error_responses(forbidden=_FORBIDDEN, not_found=NOT_IN_MUNICIPALITY, invalid=INVALID_INPUT)


PartnerId = PathId
TeamId = PathId
ProfessionalId = PathId
WaveId = PathId
InvitationId = PathId
FilterId = Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)]


# -- partners -------------------------------------------------------------------------------------------


@router.post(
    "/partners",
    status_code=status.HTTP_201_CREATED,
    tags=["partners"],
    responses=_WRITE_ERRORS,
)
def create_partner(
    session: SessionDep, principal: ManagePrincipal, partner_in: PartnerCreate
) -> PartnerPublic:
    partner = service.create_partner(session=session, principal=principal, partner_in=partner_in)
    return PartnerPublic.model_validate(partner)


@router.get("/partners", tags=["partners"], responses=_OBJECT_ERRORS)
def list_partners(session: SessionDep, principal: ManagePrincipal, page: PagingDep) -> Page[PartnerPublic]:
    rows, total = service.list_partners(
        session=session, principal=principal, limit=page.limit, offset=page.offset
    )
    return page_of([PartnerPublic.model_validate(row) for row in rows], total, page)


@router.get("/partners/{partner_id}", tags=["partners"], responses=_OBJECT_ERRORS)
def get_partner(session: SessionDep, principal: ManagePrincipal, partner_id: PartnerId) -> PartnerPublic:
    return PartnerPublic.model_validate(
        service.get_partner(session=session, principal=principal, partner_id=partner_id)
    )


@router.patch("/partners/{partner_id}", tags=["partners"], responses=_WRITE_ERRORS)
def update_partner(
    session: SessionDep, principal: ManagePrincipal, partner_id: PartnerId, partner_in: PartnerUpdate
) -> PartnerPublic:
    partner = service.update_partner(
        session=session, principal=principal, partner_id=partner_id, partner_in=partner_in
    )
    return PartnerPublic.model_validate(partner)


@router.delete(
    "/partners/{partner_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["partners"],
    responses=_OBJECT_ERRORS,
)
def delete_partner(session: SessionDep, principal: ManagePrincipal, partner_id: PartnerId) -> None:
    """The partner's professionals stay, without a partner."""
    service.delete_partner(session=session, principal=principal, partner_id=partner_id)


# -- teams ----------------------------------------------------------------------------------------------


@router.post("/teams", status_code=status.HTTP_201_CREATED, tags=["teams"], responses=_WRITE_ERRORS)
def create_team(session: SessionDep, principal: ManagePrincipal, team_in: TeamCreate) -> TeamPublic:
    return TeamPublic.model_validate(
        service.create_team(session=session, principal=principal, team_in=team_in)
    )


@router.get("/teams", tags=["teams"], responses=_OBJECT_ERRORS)
def list_teams(session: SessionDep, principal: ManagePrincipal, page: PagingDep) -> Page[TeamPublic]:
    rows, total = service.list_teams(
        session=session, principal=principal, limit=page.limit, offset=page.offset
    )
    return page_of([TeamPublic.model_validate(row) for row in rows], total, page)


@router.get("/teams/{team_id}", tags=["teams"], responses=_OBJECT_ERRORS)
def get_team(session: SessionDep, principal: ManagePrincipal, team_id: TeamId) -> TeamPublic:
    return TeamPublic.model_validate(service.get_team(session=session, principal=principal, team_id=team_id))


@router.patch("/teams/{team_id}", tags=["teams"], responses=_WRITE_ERRORS)
def update_team(
    session: SessionDep, principal: ManagePrincipal, team_id: TeamId, team_in: TeamUpdate
) -> TeamPublic:
    team = service.update_team(session=session, principal=principal, team_id=team_id, team_in=team_in)
    return TeamPublic.model_validate(team)


@router.delete(
    "/teams/{team_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["teams"],
    responses={**_OBJECT_ERRORS, 409: problem("The team still has professionals")},
)
def delete_team(session: SessionDep, principal: ManagePrincipal, team_id: TeamId) -> None:
    service.delete_team(session=session, principal=principal, team_id=team_id)


# -- professionals --------------------------------------------------------------------------------------


_CODE_CONFLICT: dict[int | str, dict[str, Any]] = {
    409: problem("The code is already used in this municipality")
}


@router.post(
    "/professionals",
    status_code=status.HTTP_201_CREATED,
    tags=["professionals"],
    responses={**_WRITE_ERRORS, **_CODE_CONFLICT},
)
def create_professional(
    session: SessionDep, principal: ManagePrincipal, professional_in: ProfessionalCreate
) -> ProfessionalPublic:
    """A `team_id` or `partner_id` of another municipality answers 404, as for a missing one."""
    professional = service.create_professional(
        session=session, principal=principal, professional_in=professional_in
    )
    return ProfessionalPublic.model_validate(professional)


@router.get("/professionals", tags=["professionals"], responses=_OBJECT_ERRORS)
def list_professionals(
    session: SessionDep,
    principal: ManagePrincipal,
    page: PagingDep,
    team_id: FilterId = None,
    partner_id: FilterId = None,
) -> Page[ProfessionalPublic]:
    rows, total = service.list_professionals(
        session=session,
        principal=principal,
        limit=page.limit,
        offset=page.offset,
        team_id=team_id,
        partner_id=partner_id,
    )
    return page_of([ProfessionalPublic.model_validate(row) for row in rows], total, page)


@router.get("/professionals/{professional_id}", tags=["professionals"], responses=_OBJECT_ERRORS)
def get_professional(
    session: SessionDep, principal: ManagePrincipal, professional_id: ProfessionalId
) -> ProfessionalPublic:
    return ProfessionalPublic.model_validate(
        service.get_professional(session=session, principal=principal, professional_id=professional_id)
    )


@router.patch(
    "/professionals/{professional_id}", tags=["professionals"], responses={**_WRITE_ERRORS, **_CODE_CONFLICT}
)
def update_professional(
    session: SessionDep,
    principal: ManagePrincipal,
    professional_id: ProfessionalId,
    professional_in: ProfessionalUpdate,
) -> ProfessionalPublic:
    professional = service.update_professional(
        session=session, principal=principal, professional_id=professional_id, professional_in=professional_in
    )
    return ProfessionalPublic.model_validate(professional)


@router.delete(
    "/professionals/{professional_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["professionals"],
    responses=_OBJECT_ERRORS,
)
def delete_professional(
    session: SessionDep, principal: ManagePrincipal, professional_id: ProfessionalId
) -> None:
    """Also deletes the professional's invitations and the responses about them."""
    service.delete_professional(session=session, principal=principal, professional_id=professional_id)


SHEET_TEMPLATES = {
    SheetAudience.respondents: "print/invitations.html",
    SheetAudience.professional: "print/self_report.html",
}


@router.get(
    "/professionals/{professional_id}/invitations.html",
    tags=["professionals"],
    response_class=HTMLResponse,
    responses={
        **_OBJECT_ERRORS,
        404: problem(
            "No such professional or wave, or (without `wave_id`) no open wave with invitations on this sheet"
        ),
        422: problem("The wave has closed, or several waves are open: give `wave_id`"),
    },
)
def print_invitations(
    request: Request,
    session: SessionDep,
    principal: ManagePrincipal,
    professional_id: ProfessionalId,
    base: BaseUrl,
    wave_id: FilterId = None,
    audience: SheetAudience = SheetAudience.respondents,
) -> HTMLResponse:
    """A printable A4 sheet with the QR codes of one wave's usable invitations for the professional.

    `wave_id` chooses the wave (default: the open one); codes of a wave that has not opened yet
    say from when they work. `audience=respondents` (default) holds the forms about the
    professional, to show young people and parents; `audience=professional` is a page for the
    professional alone, with their own self-report form, which never appears on the other.
    """
    sheet = service.print_sheet(
        session=session,
        principal=principal,
        professional_id=professional_id,
        base_url=base,
        wave_id=wave_id,
        audience=audience,
    )
    return templates.TemplateResponse(request, SHEET_TEMPLATES[audience], print_sheet.context(sheet))


# -- waves ----------------------------------------------------------------------------------------------


@router.post("/waves", status_code=status.HTTP_201_CREATED, tags=["waves"], responses=_WRITE_ERRORS)
def create_wave(session: SessionDep, principal: ManagePrincipal, wave_in: WaveCreate) -> WavePublic:
    """The wave uses the instrument version published now; `modules` must exist in it (else 422)."""
    return service.present_wave(service.create_wave(session=session, principal=principal, wave_in=wave_in))


# Reading the list of waves is what a report or export caller needs first (read-only for them).
WaveReader = Annotated[
    Principal,
    Depends(
        require_scope(Scope.manage, Scope.reports_aggregate, Scope.reports_professional, Scope.responses_read)
    ),
]


@router.get("/waves", tags=["waves"], responses=_OBJECT_ERRORS)
def list_waves(session: SessionDep, principal: WaveReader, page: PagingDep) -> Page[WaveListed]:
    """The caller's waves (a research key: every municipality's), oldest first, with the forms
    that have published responses. Keys with ``manage``, ``reports:*`` or ``responses:read``."""
    rows, total = service.list_waves(
        session=session, principal=principal, limit=page.limit, offset=page.offset
    )
    return page_of(service.present_listed_waves(session, rows), total, page)


@router.get("/waves/{wave_id}", tags=["waves"], responses=_OBJECT_ERRORS)
def get_wave(session: SessionDep, principal: ManagePrincipal, wave_id: WaveId) -> WavePublic:
    return service.present_wave(service.get_wave(session=session, principal=principal, wave_id=wave_id))


@router.patch(
    "/waves/{wave_id}",
    tags=["waves"],
    responses={
        **_WRITE_ERRORS,
        409: problem("Modules cannot change once responses exist"),
    },
)
def update_wave(
    session: SessionDep, principal: ManagePrincipal, wave_id: WaveId, wave_in: WaveUpdate
) -> WavePublic:
    return service.present_wave(
        service.update_wave(session=session, principal=principal, wave_id=wave_id, wave_in=wave_in)
    )


@router.delete(
    "/waves/{wave_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["waves"],
    responses={**_OBJECT_ERRORS, 409: problem("The wave has responses")},
)
def delete_wave(session: SessionDep, principal: ManagePrincipal, wave_id: WaveId) -> None:
    service.delete_wave(session=session, principal=principal, wave_id=wave_id)


# -- invitations ----------------------------------------------------------------------------------------


@router.post(
    "/invitations", status_code=status.HTTP_201_CREATED, tags=["invitations"], responses=_WRITE_ERRORS
)
def create_invitation(
    session: SessionDep,
    principal: ManagePrincipal,
    invitation_in: InvitationCreate,
    base: BaseUrl,
) -> InvitationPublic:
    """Returns the `token` and the respondent `url`. A `wave_id` or `professional_id` of another
    municipality answers 404, as for a missing one."""
    invitation = service.create_invitation(session=session, principal=principal, invitation_in=invitation_in)
    return service.present_invitation(invitation, base_url=base)


@router.get("/invitations", tags=["invitations"], responses=_OBJECT_ERRORS)
def list_invitations(
    session: SessionDep,
    principal: ManagePrincipal,
    page: PagingDep,
    base: BaseUrl,
    wave_id: FilterId = None,
    professional_id: FilterId = None,
) -> Page[InvitationPublic]:
    rows, total = service.list_invitations(
        session=session,
        principal=principal,
        limit=page.limit,
        offset=page.offset,
        wave_id=wave_id,
        professional_id=professional_id,
    )
    return page_of([service.present_invitation(row, base_url=base) for row in rows], total, page)


@router.get("/invitations/{invitation_id}", tags=["invitations"], responses=_OBJECT_ERRORS)
def get_invitation(
    session: SessionDep,
    principal: ManagePrincipal,
    invitation_id: InvitationId,
    base: BaseUrl,
) -> InvitationPublic:
    invitation = service.get_invitation(session=session, principal=principal, invitation_id=invitation_id)
    return service.present_invitation(invitation, base_url=base)


@router.patch("/invitations/{invitation_id}", tags=["invitations"], responses=_WRITE_ERRORS)
def update_invitation(
    session: SessionDep,
    principal: ManagePrincipal,
    invitation_id: InvitationId,
    invitation_in: InvitationUpdate,
    base: BaseUrl,
) -> InvitationPublic:
    """Change `expires_at`, or set `revoked: true`; a revocation cannot be undone (422)."""
    invitation = service.update_invitation(
        session=session, principal=principal, invitation_id=invitation_id, invitation_in=invitation_in
    )
    return service.present_invitation(invitation, base_url=base)


@router.post("/invitations/{invitation_id}/revoke", tags=["invitations"], responses=_OBJECT_ERRORS)
def revoke_invitation(
    session: SessionDep,
    principal: ManagePrincipal,
    invitation_id: InvitationId,
    base: BaseUrl,
) -> InvitationPublic:
    """Revoke at once; repeating it changes nothing."""
    invitation = service.revoke_invitation(session=session, principal=principal, invitation_id=invitation_id)
    return service.present_invitation(invitation, base_url=base)


@router.delete(
    "/invitations/{invitation_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["invitations"],
    responses=_OBJECT_ERRORS,
)
def delete_invitation(session: SessionDep, principal: ManagePrincipal, invitation_id: InvitationId) -> None:
    service.delete_invitation(session=session, principal=principal, invitation_id=invitation_id)


def _qr_route(media_type: str) -> dict[str, Any]:
    return {
        "tags": ["invitations"],
        "response_class": Response,
        "responses": {**_OBJECT_ERRORS, 200: {"content": {media_type: {}}, "description": "The QR code"}},
    }


@router.get("/invitations/{invitation_id}/qr.svg", **_qr_route("image/svg+xml"))
def invitation_qr_svg(
    session: SessionDep, principal: ManagePrincipal, invitation_id: InvitationId, base: BaseUrl
) -> Response:
    invitation = service.get_invitation(session=session, principal=principal, invitation_id=invitation_id)
    url = service.invitation_url(base, invitation.token)
    return Response(qr.qr_svg(url), media_type="image/svg+xml")


@router.get("/invitations/{invitation_id}/qr.png", **_qr_route("image/png"))
def invitation_qr_png(
    session: SessionDep, principal: ManagePrincipal, invitation_id: InvitationId, base: BaseUrl
) -> Response:
    invitation = service.get_invitation(session=session, principal=principal, invitation_id=invitation_id)
    url = service.invitation_url(base, invitation.token)
    return Response(qr.qr_png(url), media_type="image/png")
