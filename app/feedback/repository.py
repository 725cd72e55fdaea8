"""Every query on feedback links: the page's, each bound to the municipality of the link, and the
management routes', each scoped to the caller's municipality."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlmodel import Session, col, select

from app.models import FeedbackLink, Professional, Response, Wave
from app.tenancy import get_owned, scoped

if TYPE_CHECKING:
    from app.auth import Principal


def link_by_token(session: Session, token: str) -> FeedbackLink | None:
    return session.exec(select(FeedbackLink).where(FeedbackLink.token == token)).first()


def professional_of(session: Session, link: FeedbackLink) -> Professional | None:
    professional = session.get(Professional, link.professional_id)
    if professional is None or professional.municipality_id != link.municipality_id:
        return None
    return professional


def wave_of_municipality(session: Session, municipality_id: int, wave_id: int) -> Wave | None:
    wave = session.get(Wave, wave_id)
    return wave if wave is not None and wave.municipality_id == municipality_id else None


def waves_rating(session: Session, professional: Professional, forms: tuple[str, ...]) -> list[Wave]:
    """The waves with at least one response about ``professional`` on ``forms``, newest first."""
    rated = (
        select(Response.wave_id)
        .where(Response.municipality_id == professional.municipality_id)
        .where(Response.professional_id == professional.id)
        .where(col(Response.form).in_(forms))
        .distinct()
    )
    query = (
        select(Wave)
        .where(Wave.municipality_id == professional.municipality_id)
        .where(col(Wave.id).in_(rated))
        .order_by(col(Wave.opens_at).desc(), col(Wave.id).desc())
    )
    return list(session.exec(query).all())


def add(session: Session, link: FeedbackLink) -> FeedbackLink:
    session.add(link)
    session.flush()
    return link


def get_feedback_link(session: Session, principal: Principal, link_id: int) -> FeedbackLink:
    return get_owned(session, FeedbackLink, link_id, principal, label="feedback link")


def feedback_links_of_professional(
    session: Session, principal: Principal, professional: Professional
) -> list[FeedbackLink]:
    """Every feedback link of ``professional``, oldest first."""
    query = scoped(select(FeedbackLink), FeedbackLink.municipality_id, principal).where(
        FeedbackLink.professional_id == professional.id
    )
    return list(session.exec(query.order_by(col(FeedbackLink.id))).all())


def links_of_professionals(
    session: Session, municipality_id: int | None, professional_ids: list[int]
) -> list[FeedbackLink]:
    """The feedback links of ``professional_ids`` in one query (``municipality_id`` None: any
    municipality, for research reads), oldest first."""
    query = select(FeedbackLink).where(col(FeedbackLink.professional_id).in_(professional_ids))
    if municipality_id is not None:
        query = query.where(FeedbackLink.municipality_id == municipality_id)
    return list(session.exec(query.order_by(col(FeedbackLink.id))).all())
