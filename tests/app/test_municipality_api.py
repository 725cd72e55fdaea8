"""``GET``/``PATCH /api/v1/municipality``: the sender details of the caller's own municipality."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from app.models import AuditEvent, Municipality
from tests.app.test_organisation_access import one_app_per_backend  # noqa: F401 - an autouse fixture
from tests.factories.organisation import make_key, make_municipality

URL = "/api/v1/municipality"
SENDER = {
    "display_name": "Gemeente Bars, team Jeugd",
    "contact_email": "jeugd@bars.example.nl",
    "contact_phone": "+31 70 123 45 67",
    "privacy_url": "https://www.bars.example.nl/privacy",
    "privacy_text": "De gemeente Bars bewaart de antwoorden twee jaar.",
}


@pytest.fixture
def bars(session: Session) -> Municipality:
    return make_municipality(session, "Bars-A")


def test_a_new_municipality_has_no_sender_details_yet_and_shows_its_name(client, session, bars):
    response = client.get(URL, headers=make_key(session, bars, "manage"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["name"] == "Bars-A" and body["sender_name"] == "Bars-A"
    assert {field: body[field] for field in SENDER} == dict.fromkeys(SENDER)


@pytest.mark.parametrize("scope", ["manage", "admin"])
def test_patch_sets_every_field_and_get_returns_them(client, session, bars, scope):
    headers = make_key(session, bars, scope)
    response = client.patch(URL, json=SENDER, headers=headers)
    assert response.status_code == 200, response.text
    assert {field: response.json()[field] for field in SENDER} == SENDER
    body = client.get(URL, headers=headers).json()
    assert {field: body[field] for field in SENDER} == SENDER
    assert body["sender_name"] == SENDER["display_name"]


def test_patch_changes_only_what_is_sent_and_null_clears(client, session, bars):
    headers = make_key(session, bars, "manage")
    client.patch(URL, json=SENDER, headers=headers)
    response = client.patch(
        URL, json={"contact_phone": None, "display_name": "  Jeugd Bars  "}, headers=headers
    )
    body = response.json()
    assert body["contact_phone"] is None
    assert body["display_name"] == "Jeugd Bars"
    assert body["contact_email"] == SENDER["contact_email"]


def test_a_change_is_audited_by_field_name(client, session, bars):
    client.patch(URL, json={"contact_email": "a@b.nl"}, headers=make_key(session, bars, "manage"))
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "municipality.update")).one()
    assert event.municipality_id == bars.id
    assert event.detail == '{"fields":"contact_email"}'
    assert "a@b.nl" not in (event.detail or "")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("contact_email", "geen-adres"),
        ("contact_email", "a@b"),
        ("contact_phone", "bel ons"),
        ("contact_phone", "12"),
        ("privacy_url", "http://bars.example.nl/privacy"),
        ("privacy_url", "javascript:alert(1)"),
        ("privacy_url", "https://bars.example.nl/" + "x" * 500),
        ("display_name", ""),
        ("display_name", "x" * 201),
        ("privacy_text", "x" * 2001),
        ("slug", "andere-gemeente"),
    ],
)
def test_invalid_input_is_a_problem_naming_the_field(client, session, bars, field, value):
    response = client.patch(URL, json={field: value}, headers=make_key(session, bars, "manage"))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert any(error["loc"][-1] == field for error in response.json()["errors"])


def test_each_key_sees_and_changes_only_its_own_municipality(client, session, bars):
    other = make_municipality(session, "Bars-B")
    client.patch(URL, json={"display_name": "Alleen B"}, headers=make_key(session, other, "manage"))
    body = client.get(URL, headers=make_key(session, bars, "manage")).json()
    assert body["id"] == bars.id and body["display_name"] is None


def test_a_key_without_manage_or_admin_is_refused(client, session, bars):
    headers = make_key(session, bars, "reports:aggregate", "responses:write")
    assert client.get(URL, headers=headers).status_code == 403
    assert client.patch(URL, json={"display_name": "X"}, headers=headers).status_code == 403


def test_a_research_key_gets_a_clear_answer(client, session):
    headers = make_key(session, None, "manage", "admin")
    read = client.get(URL, headers=headers)
    assert read.status_code == 404
    assert "research key" in read.json()["detail"]
    write = client.patch(URL, json={"display_name": "X"}, headers=headers)
    assert write.status_code == 403
    assert "research key" in write.json()["detail"]
