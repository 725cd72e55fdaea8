"""JSON routes for feedback links: a professional's personal link to their own scores.

A link shows a professional's scores, so managing links needs ``manage`` and ``reports:professional``.
"""

from __future__ import annotations

from fastapi import APIRouter, status

from app.api_common import INVALID_INPUT, NOT_IN_MUNICIPALITY, BaseUrl, PathId, error_responses
from app.auth import ProfessionalManagePrincipal
from app.db import SessionDep
from app.feedback import service
from app.feedback.schemas import FeedbackLinkCreate, FeedbackLinkPublic

router = APIRouter(tags=["feedback links"])

_FORBIDDEN = "The key lacks `manage` or `reports:professional`, or is a research key writing"
_LINK_ERRORS = error_responses(forbidden=_FORBIDDEN, not_found=NOT_IN_MUNICIPALITY)
_LINK_WRITE_ERRORS = error_responses(
    forbidden=_FORBIDDEN, not_found=NOT_IN_MUNICIPALITY, invalid=INVALID_INPUT
)

ProfessionalId = PathId
FeedbackLinkId = PathId


# -- feedback links -------------------------------------------------------------------------------------


@router.post(
    "/professionals/{professional_id}/feedback-links",
    status_code=status.HTTP_201_CREATED,
    responses=_LINK_WRITE_ERRORS,
)
def create_feedback_link(
    session: SessionDep,
    principal: ProfessionalManagePrincipal,
    professional_id: ProfessionalId,
    base: BaseUrl,
    link_in: FeedbackLinkCreate | None = None,
) -> FeedbackLinkPublic:
    """A personal link (`url`) where the professional sees their own scores; send it to them only.

    The body is optional: `expires_at` lets the link stop by itself.
    """
    link = service.create_feedback_link(
        session=session,
        principal=principal,
        professional_id=professional_id,
        link_in=link_in or FeedbackLinkCreate(),
    )
    return service.present_feedback_link(link, base_url=base)


@router.get("/professionals/{professional_id}/feedback-links", responses=_LINK_ERRORS)
def list_feedback_links(
    session: SessionDep,
    principal: ProfessionalManagePrincipal,
    professional_id: ProfessionalId,
    base: BaseUrl,
) -> list[FeedbackLinkPublic]:
    """Every feedback link of the professional, revoked and expired ones too, oldest first."""
    links = service.list_feedback_links(session=session, principal=principal, professional_id=professional_id)
    return [service.present_feedback_link(link, base_url=base) for link in links]


@router.get("/feedback-links/{link_id}", responses=_LINK_ERRORS)
def get_feedback_link(
    session: SessionDep,
    principal: ProfessionalManagePrincipal,
    link_id: FeedbackLinkId,
    base: BaseUrl,
) -> FeedbackLinkPublic:
    link = service.get_feedback_link(session=session, principal=principal, link_id=link_id)
    return service.present_feedback_link(link, base_url=base)


@router.post("/feedback-links/{link_id}/revoke", responses=_LINK_ERRORS)
def revoke_feedback_link(
    session: SessionDep,
    principal: ProfessionalManagePrincipal,
    link_id: FeedbackLinkId,
    base: BaseUrl,
) -> FeedbackLinkPublic:
    """Revoke at once; the page then answers 410. Final: create a new link instead."""
    link = service.revoke_feedback_link(session=session, principal=principal, link_id=link_id)
    return service.present_feedback_link(link, base_url=base)
