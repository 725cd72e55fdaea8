"""Waves, invitations and responses for tests."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlmodel import Session

from app.collection.service import prepare_answer_layouts
from app.db import utcnow
from app.instrument_versions.service import ensure_instrument_version_recorded, published_instrument
from app.models import Invitation, Municipality, Professional, Wave


def make_wave(
    session: Session,
    municipality: Municipality,
    *,
    modules: tuple[str, ...] = (),
    opens_at: datetime | None = None,
    closes_at: datetime | None = None,
    name: str = "Voorjaar",
) -> Wave:
    instrument = published_instrument()
    ensure_instrument_version_recorded(session, instrument)
    wave = Wave(
        municipality_id=municipality.id,
        name=name,
        instrument_version=instrument.version,
        modules=",".join(modules),
        opens_at=opens_at or utcnow() - timedelta(days=1),
        closes_at=closes_at,
    )
    session.add(wave)
    session.flush()
    prepare_answer_layouts(session, wave)  # as creating a wave through the API does
    return wave


def make_invitation(
    session: Session,
    wave: Wave,
    professional: Professional,
    *,
    form: str = "jongere",
    kind: str = "open",
    expires_at: datetime | None = None,
) -> Invitation:
    invitation = Invitation(
        municipality_id=wave.municipality_id,
        wave_id=wave.id,
        professional_id=professional.id,
        form=form,
        kind=kind,
        token=secrets.token_urlsafe(24),
        expires_at=expires_at,
    )
    session.add(invitation)
    session.flush()
    return invitation
