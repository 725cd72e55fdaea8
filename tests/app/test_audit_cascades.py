"""Every delete is audited (#13): rows that a delete takes with it, by one bulk statement, too."""

from __future__ import annotations

from sqlmodel import Session, col, select

from app.models import AuditEvent
from tests.factories.collection import make_invitation, make_wave
from tests.factories.organisation import (
    make_key,
    make_municipality,
    make_partner,
    make_professional,
    make_team,
)


def recorded(session: Session, action: str) -> set[int]:
    rows = session.exec(select(AuditEvent).where(col(AuditEvent.action) == action)).all()
    return {row.object_id for row in rows if row.object_id is not None}


def test_deleting_a_professional_audits_each_of_their_invitations(client, session):
    municipality = make_municipality(session)
    professional = make_professional(session, make_team(session, municipality))
    wave = make_wave(session, municipality)
    invitations = [make_invitation(session, wave, professional, form=form) for form in ("jongere", "ouder")]
    headers = make_key(session, municipality, "manage")
    assert client.delete(f"/api/v1/professionals/{professional.id}", headers=headers).status_code == 204
    assert recorded(session, "professional.delete") == {professional.id}
    assert recorded(session, "invitation.delete") == {invitation.id for invitation in invitations}
    event = session.exec(select(AuditEvent).where(col(AuditEvent.action) == "invitation.delete")).first()
    assert event is not None and event.wave_id == wave.id and event.municipality_id == municipality.id


def test_deleting_a_wave_audits_each_of_its_invitations(client, session):
    municipality = make_municipality(session)
    professional = make_professional(session, make_team(session, municipality))
    wave = make_wave(session, municipality)
    invitation = make_invitation(session, wave, professional)
    headers = make_key(session, municipality, "manage")
    assert client.delete(f"/api/v1/waves/{wave.id}", headers=headers).status_code == 204
    assert recorded(session, "wave.delete") == {wave.id}
    assert recorded(session, "invitation.delete") == {invitation.id}


def test_deleting_a_partner_audits_the_professionals_it_detaches(client, session):
    municipality = make_municipality(session)
    partner = make_partner(session, municipality)
    team = make_team(session, municipality)
    employed = [make_professional(session, team, partner=partner, code=f"P-{n}") for n in range(2)]
    headers = make_key(session, municipality, "manage")
    assert client.delete(f"/api/v1/partners/{partner.id}", headers=headers).status_code == 204
    assert recorded(session, "partner.delete") == {partner.id}
    assert recorded(session, "professional.update") == {professional.id for professional in employed}
