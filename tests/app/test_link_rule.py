"""The one rule of a usable link: a rule added in one place (``links.RULES``) is obeyed by every path.

The hypothetical rule: "a link stops working when its professional leaves" (here: their role is
``vertrokken``). Storing through the form's one-statement path and its full path, the partner API,
opening the form, the status a coordinator sees and the printed sheet all follow it, and nothing
else was changed to make them.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import Session, func, select

from app.collection import links
from app.collection.links import PROFESSIONAL, LinkProblem, LinkRule
from app.db import utcnow
from app.models import Response
from app.organisation import service as organisation
from app.organisation.schemas import InvitationStatus
from tests.factories.collection import make_invitation, make_wave
from tests.factories.organisation import make_key, make_municipality, make_professional, make_team

LEFT = "vertrokken"


def stored(session: Session) -> int:
    return session.exec(select(func.count()).select_from(Response)).one()


def form_fields(client, token: str) -> dict[str, str]:
    html = client.get(f"/s/{token}").text
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html))
    items = dict.fromkeys(re.findall(r'<input type="radio" name="([^"]+)"', html), "3")
    return {**fields, **items}


@pytest.fixture
def world(session: Session):
    municipality = make_municipality(session, "Regelstad")
    professional = make_professional(session, make_team(session, municipality), display_name="Sam")
    wave = make_wave(session, municipality)
    return municipality, professional, wave, make_invitation(session, wave, professional)


def test_every_path_obeys_a_rule_added_in_one_place(client, session, world, monkeypatch):
    municipality, professional, _, invitation = world
    form_before = form_fields(client, invitation.token)  # the link is known to this process now
    answers = {name: 3 for name in form_before if "_" in name and name != "submission_id"}
    assert organisation.invitation_status(invitation) is InvitationStatus.active

    professional.role = LEFT
    session.add(professional)
    session.commit()
    # the one change: a rule in links.RULES
    left = LinkRule(LinkProblem.revoked, lambda now: PROFESSIONAL.c.role == LEFT)
    monkeypatch.setattr(links, "RULES", (left, *links.RULES))

    # the form's one-statement path (the link is remembered) and then its full path
    refused = client.post(f"/s/{invitation.token}", data=form_before, follow_redirects=False)
    assert refused.status_code == 410 and "gestopt" in refused.text
    # opening the form
    assert client.get(f"/s/{invitation.token}").status_code == 410
    # the partner API
    headers = make_key(session, municipality, "responses:write")
    body = {"token": invitation.token, "answers": answers}
    assert client.post("/api/v1/responses", json=body, headers=headers).status_code == 410
    assert stored(session) == 0
    # what a coordinator sees, and the printed sheet leaves the link off
    assert organisation.invitation_status(invitation) is InvitationStatus.revoked
    key = make_key(session, municipality, "manage")
    shown = client.get(f"/api/v1/invitations/{invitation.id}", headers=key).json()
    assert shown["status"] == "revoked"
    sheet = client.get(f"/api/v1/professionals/{professional.id}/invitations.html", headers=key)
    assert sheet.status_code == 404  # no usable invitation left on it

    # and without the rule, the same link works again on every path
    monkeypatch.setattr(links, "RULES", tuple(rule for rule in links.RULES if rule is not left))
    assert client.post(f"/s/{invitation.token}", data=form_before, follow_redirects=False).status_code == 303
    assert stored(session) == 1
    assert organisation.invitation_status(invitation) is InvitationStatus.active


def test_the_wave_rules_decide_when_a_wave_is_closed(session, world):
    *_, wave, _ = world
    assert not organisation.wave_is_closed(wave) and organisation.wave_is_open(wave)
    wave.closes_at = utcnow() - timedelta(minutes=1)
    assert organisation.wave_is_closed(wave)  # read as this session changed it
    assert not organisation.wave_is_open(wave)
