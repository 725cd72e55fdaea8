"""Municipalities, API keys, partners, teams and professionals for tests."""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime

from sqlmodel import Session

from app.apikeys.service import create_api_key
from app.models import FeedbackLink, Municipality, Partner, Professional, Team


def make_municipality(session: Session, name: str | None = None) -> Municipality:
    name = name or f"Gemeente {uuid.uuid4().hex[:6]}"
    municipality = Municipality(slug=name.lower().replace(" ", "-"), name=name)
    session.add(municipality)
    session.flush()
    return municipality


def make_key(session: Session, municipality: Municipality | None, *scopes: str) -> dict[str, str]:
    """Authorization headers for a new key of ``municipality`` (None: a research key)."""
    _, secret = create_api_key(
        session,
        municipality_id=municipality.id if municipality else None,
        name="test key",
        scopes=list(scopes) or ["manage"],
    )
    return {"Authorization": f"Bearer {secret}"}


def make_team(session: Session, municipality: Municipality, name: str = "Team Noord") -> Team:
    team = Team(municipality_id=municipality.id, name=name)
    session.add(team)
    session.flush()
    return team


def make_partner(
    session: Session, municipality: Municipality, name: str = "Jongerenwerk", kind: str = "youth_work"
) -> Partner:
    partner = Partner(municipality_id=municipality.id, name=name, kind=kind)
    session.add(partner)
    session.flush()
    return partner


def make_professional(
    session: Session,
    team: Team,
    *,
    display_name: str = "Sam",
    role: str = "jongerenwerker",
    partner: Partner | None = None,
    code: str | None = None,
) -> Professional:
    professional = Professional(
        municipality_id=team.municipality_id,
        team_id=team.id,
        partner_id=partner.id if partner else None,
        code=code or f"P{uuid.uuid4().hex[:8].upper()}",
        display_name=display_name,
        role=role,
    )
    session.add(professional)
    session.flush()
    return professional


def make_feedback_link(
    session: Session,
    professional: Professional,
    *,
    expires_at: datetime | None = None,
    revoked_at: datetime | None = None,
) -> FeedbackLink:
    link = FeedbackLink(
        municipality_id=professional.municipality_id,
        professional_id=professional.id,
        token=secrets.token_urlsafe(24),
        expires_at=expires_at,
        revoked_at=revoked_at,
    )
    session.add(link)
    session.flush()
    return link
