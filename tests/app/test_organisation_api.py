"""The management API: create, read, update, delete, pagination and validation, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from app.db import utcnow
from app.instrument_versions.service import InstrumentChanged, ensure_instrument_version_recorded
from app.models import AnswerLayout, InstrumentVersion, Response
from app.organisation.service import CODE_ALPHABET, CODE_LENGTH
from instrument import current_instrument
from tests.app.test_organisation_access import one_app_per_backend  # noqa: F401 - an autouse fixture
from tests.factories.collection import make_invitation, make_wave
from tests.factories.organisation import (
    make_key,
    make_municipality,
    make_partner,
    make_professional,
    make_team,
)

API = "/api/v1"


@pytest.fixture
def owner(session: Session):
    return make_municipality(session, "Bars-A")


@pytest.fixture
def headers(session: Session, owner) -> dict[str, str]:
    return make_key(session, owner, "manage")


def created(response) -> dict:
    assert response.status_code == 201, response.text
    body = response.json()
    assert isinstance(body["id"], int)
    return body


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return response.json()


def error_fields(response) -> set[str]:
    """The body fields a 422 names."""
    body = assert_problem(response, 422)
    return {
        error["loc"][1] for error in body["errors"] if error["loc"][0] == "body" and len(error["loc"]) > 1
    }


def add_response(session: Session, wave, professional) -> None:
    layout = session.exec(
        select(AnswerLayout).where(
            AnswerLayout.instrument_version == wave.instrument_version,
            AnswerLayout.form == "jongere",
            AnswerLayout.modules == "",
        )
    ).one()  # made with the wave
    session.add(
        Response(
            municipality_id=wave.municipality_id,
            wave_id=wave.id,
            professional_id=professional.id,
            team_id=professional.team_id,
            form="jongere",
            layout_id=layout.id,
            language="nl",
            answers="4" * len(layout.item_ids.split(",")),
            submission_key="k" * 64,
        )
    )
    session.flush()


# -- partners and teams ---------------------------------------------------------------------------------


def test_partner_round_trip(client, headers, owner):
    partner = created(
        client.post(f"{API}/partners", json={"name": "Politie Bars", "kind": "police"}, headers=headers)
    )
    assert partner["name"] == "Politie Bars" and partner["kind"] == "police"
    assert partner["municipality_id"] == owner.id
    assert datetime.fromisoformat(partner["created_at"]).tzinfo is not None
    url = f"{API}/partners/{partner['id']}"
    assert client.get(url, headers=headers).json() == partner

    changed = client.patch(url, json={"name": "Politie Bars-Noord"}, headers=headers)
    assert changed.status_code == 200
    assert changed.json()["name"] == "Politie Bars-Noord" and changed.json()["kind"] == "police"
    assert client.get(url, headers=headers).json()["name"] == "Politie Bars-Noord"

    assert client.delete(url, headers=headers).status_code == 204
    assert_problem(client.get(url, headers=headers), 404)


def test_partner_kind_defaults_to_other_and_must_be_known(client, headers):
    assert (
        created(client.post(f"{API}/partners", json={"name": "Buurthuis"}, headers=headers))["kind"]
        == "other"
    )
    assert error_fields(
        client.post(f"{API}/partners", json={"name": "X", "kind": "army"}, headers=headers)
    ) == {"kind"}


def test_deleting_a_partner_keeps_its_professionals(client, session, headers, owner):
    partner = make_partner(session, owner)
    professional = make_professional(session, make_team(session, owner), partner=partner)
    assert client.delete(f"{API}/partners/{partner.id}", headers=headers).status_code == 204
    kept = client.get(f"{API}/professionals/{professional.id}", headers=headers)
    assert kept.status_code == 200 and kept.json()["partner_id"] is None


def test_team_round_trip(client, headers):
    team = created(client.post(f"{API}/teams", json={"name": "Veiligheidshuis casusteam"}, headers=headers))
    url = f"{API}/teams/{team['id']}"
    assert client.get(url, headers=headers).json() == team
    assert client.patch(url, json={"name": "Casusteam"}, headers=headers).json()["name"] == "Casusteam"
    assert client.delete(url, headers=headers).status_code == 204
    assert_problem(client.get(url, headers=headers), 404)


def test_a_team_with_professionals_cannot_be_deleted(client, session, headers, owner):
    team = make_team(session, owner)
    make_professional(session, team)
    response = client.delete(f"{API}/teams/{team.id}", headers=headers)
    assert "professionals" in assert_problem(response, 409)["detail"]
    assert client.get(f"{API}/teams/{team.id}", headers=headers).status_code == 200


# -- professionals --------------------------------------------------------------------------------------


def test_professional_round_trip_with_a_generated_code(client, session, headers, owner):
    team, other_team = make_team(session, owner), make_team(session, owner, name="Team Zuid")
    partner = make_partner(session, owner)
    professional = created(
        client.post(
            f"{API}/professionals",
            json={
                "display_name": "Sam",
                "role": "jongerenwerker",
                "team_id": team.id,
                "partner_id": partner.id,
            },
            headers=headers,
        )
    )
    assert professional["display_name"] == "Sam" and professional["role"] == "jongerenwerker"
    assert professional["team_id"] == team.id and professional["partner_id"] == partner.id
    code = professional["code"]
    assert len(code) == CODE_LENGTH and set(code) <= set(CODE_ALPHABET)
    assert "SAM" not in code

    url = f"{API}/professionals/{professional['id']}"
    assert client.get(url, headers=headers).json() == professional
    changed = client.patch(
        url, json={"team_id": other_team.id, "partner_id": None, "role": "wijkagent"}, headers=headers
    ).json()
    assert (changed["team_id"], changed["partner_id"], changed["role"], changed["code"]) == (
        other_team.id,
        None,
        "wijkagent",
        code,
    )
    assert client.delete(url, headers=headers).status_code == 204
    assert_problem(client.get(url, headers=headers), 404)


def test_generated_codes_differ(client, session, headers, owner):
    team = make_team(session, owner)
    body = {"display_name": "Sam", "role": "jongerenwerker", "team_id": team.id}
    codes = {
        created(client.post(f"{API}/professionals", json=body, headers=headers))["code"] for _ in range(5)
    }
    assert len(codes) == 5


def test_a_code_is_unique_within_a_municipality_only(client, session, headers, owner):
    team = make_team(session, owner)
    body = {"display_name": "Sam", "role": "jongerenwerker", "team_id": team.id, "code": "JW-017"}
    first = created(client.post(f"{API}/professionals", json=body, headers=headers))
    assert first["code"] == "JW-017"
    assert (
        "JW-017"
        in assert_problem(client.post(f"{API}/professionals", json=body, headers=headers), 409)["detail"]
    )

    second = created(client.post(f"{API}/professionals", json={**body, "code": "JW-018"}, headers=headers))
    taken = client.patch(f"{API}/professionals/{second['id']}", json={"code": "JW-017"}, headers=headers)
    assert_problem(taken, 409)
    same = client.patch(f"{API}/professionals/{first['id']}", json={"code": "JW-017"}, headers=headers)
    assert same.status_code == 200

    elsewhere = make_municipality(session, "Bars-B")
    other_team = make_team(session, elsewhere)
    other_headers = make_key(session, elsewhere, "manage")
    created(
        client.post(f"{API}/professionals", json={**body, "team_id": other_team.id}, headers=other_headers)
    )


def test_professional_needs_an_existing_team(client, headers):
    response = client.post(
        f"{API}/professionals",
        json={"display_name": "Sam", "role": "jongerenwerker", "team_id": 999999},
        headers=headers,
    )
    assert "team 999999" in assert_problem(response, 404)["detail"]


def test_professionals_list_filters_by_team(client, session, headers, owner):
    north, south = make_team(session, owner), make_team(session, owner, name="Team Zuid")
    in_north = {make_professional(session, north).id for _ in range(2)}
    make_professional(session, south)
    page = client.get(f"{API}/professionals", params={"team_id": north.id}, headers=headers).json()
    assert {item["id"] for item in page["items"]} == in_north and page["total"] == 2


# -- waves ----------------------------------------------------------------------------------------------


def test_wave_round_trip_records_the_instrument_version(client, session, headers):
    instrument = current_instrument()
    module = sorted(instrument.module_ids)[0]
    wave = created(
        client.post(
            f"{API}/waves",
            json={
                "name": "Voorjaar 2027",
                "opens_at": "2027-03-01T09:00:00+01:00",
                "closes_at": "2027-05-01T00:00:00Z",
                "modules": [module],
            },
            headers=headers,
        )
    )
    assert wave["instrument_version"] == instrument.version
    assert wave["modules"] == [module]
    assert datetime.fromisoformat(wave["opens_at"]) == datetime(2027, 3, 1, 8, tzinfo=UTC)
    recorded = session.get(InstrumentVersion, instrument.version)
    assert recorded is not None and recorded.content_hash == instrument.content_hash

    url = f"{API}/waves/{wave['id']}"
    assert client.get(url, headers=headers).json() == wave
    changed = client.patch(url, json={"closes_at": None, "modules": []}, headers=headers).json()
    assert changed["closes_at"] is None and changed["modules"] == []
    assert client.delete(url, headers=headers).status_code == 204
    assert_problem(client.get(url, headers=headers), 404)


def test_two_waves_share_one_recorded_version(client, session, headers):
    for name in ("A", "B"):
        created(
            client.post(
                f"{API}/waves", json={"name": name, "opens_at": "2027-03-01T09:00:00Z"}, headers=headers
            )
        )
    assert len(session.exec(select(InstrumentVersion)).all()) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "W", "opens_at": "2027-03-01T09:00:00Z", "closes_at": "2027-02-01T09:00:00Z"}, None),
        ({"name": "W", "opens_at": "2027-03-01T09:00:00"}, "opens_at"),  # no timezone
        ({"name": "W", "opens_at": "2027-03-01T09:00:00Z", "modules": ["horoscoop"]}, "modules"),
        ({"name": "", "opens_at": "2027-03-01T09:00:00Z"}, "name"),
        ({"name": "W" * 201, "opens_at": "2027-03-01T09:00:00Z"}, "name"),
        ({"opens_at": "2027-03-01T09:00:00Z"}, "name"),
        ({"name": "W", "opens_at": "2027-03-01T09:00:00Z", "colour": "blue"}, "colour"),
    ],
    ids=["closes-before-opens", "naive", "unknown-module", "empty-name", "long-name", "no-name", "extra"],
)
def test_invalid_waves_are_422(client, headers, body, field):
    response = client.post(f"{API}/waves", json=body, headers=headers)
    fields = error_fields(response)
    if field:
        assert field in fields
    else:
        assert "closes_at" in str(response.json()["errors"])


def test_a_wave_cannot_close_before_it_opens_by_patch(client, session, headers, owner):
    wave = make_wave(session, owner, opens_at=utcnow())
    response = client.patch(
        f"{API}/waves/{wave.id}",
        json={"closes_at": (utcnow() - timedelta(days=1)).isoformat()},
        headers=headers,
    )
    assert error_fields(response) == {"closes_at"}


def test_a_wave_with_responses_keeps_its_modules_and_cannot_be_deleted(client, session, headers, owner):
    wave = make_wave(session, owner)
    add_response(session, wave, make_professional(session, make_team(session, owner)))
    module = sorted(current_instrument().module_ids)[0]
    assert_problem(client.patch(f"{API}/waves/{wave.id}", json={"modules": [module]}, headers=headers), 409)
    assert client.patch(f"{API}/waves/{wave.id}", json={"name": "Nieuw"}, headers=headers).status_code == 200
    assert_problem(client.delete(f"{API}/waves/{wave.id}", headers=headers), 409)


# -- invitations ----------------------------------------------------------------------------------------


@pytest.fixture
def wave_and_professional(session: Session, owner):
    return make_wave(session, owner), make_professional(session, make_team(session, owner))


def test_invitation_round_trip(client, headers, settings, wave_and_professional):
    wave, professional = wave_and_professional
    invitation = created(
        client.post(
            f"{API}/invitations",
            json={"wave_id": wave.id, "form": "jongere", "professional_id": professional.id},
            headers=headers,
        )
    )
    assert invitation["kind"] == "open" and invitation["status"] == "active"
    assert len(invitation["token"]) >= 22  # at least 128 random bits, URL-safe
    assert invitation["url"] == f"{settings.base_url}/s/{invitation['token']}"
    url = f"{API}/invitations/{invitation['id']}"
    assert client.get(url, headers=headers).json() == invitation

    later = (utcnow() + timedelta(days=7)).replace(microsecond=0)
    changed = client.patch(url, json={"expires_at": later.isoformat()}, headers=headers).json()
    assert datetime.fromisoformat(changed["expires_at"]) == later and changed["token"] == invitation["token"]

    revoked = client.post(f"{url}/revoke", headers=headers).json()
    assert revoked["status"] == "revoked" and revoked["revoked_at"] is not None
    again = client.post(f"{url}/revoke", headers=headers).json()
    assert again["revoked_at"] == revoked["revoked_at"]
    assert error_fields(client.patch(url, json={"revoked": False}, headers=headers)) == {"revoked"}

    assert client.delete(url, headers=headers).status_code == 204
    assert_problem(client.get(url, headers=headers), 404)


def test_revoking_by_patch(client, session, headers, wave_and_professional):
    invitation = make_invitation(session, *wave_and_professional)
    response = client.patch(f"{API}/invitations/{invitation.id}", json={"revoked": True}, headers=headers)
    assert response.json()["status"] == "revoked"


def test_tokens_are_unique_and_personal_invitations_are_marked(client, headers, wave_and_professional):
    wave, professional = wave_and_professional
    body = {"wave_id": wave.id, "form": "ouder", "professional_id": professional.id, "kind": "personal"}
    first = created(client.post(f"{API}/invitations", json=body, headers=headers))
    second = created(client.post(f"{API}/invitations", json=body, headers=headers))
    assert first["token"] != second["token"]
    assert first["kind"] == "personal" and first["form"] == "ouder"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"form": "buurman"}, "form"),
        ({"kind": "forever"}, "kind"),
        ({"expires_at": "2020-01-01T00:00:00Z"}, "expires_at"),
        ({"expires_at": "2099-01-01T00:00:00"}, "expires_at"),
        ({"wave_id": None}, "wave_id"),
        ({"token": "mine"}, "token"),
    ],
    ids=["unknown-form", "unknown-kind", "expired", "naive", "no-wave", "own-token"],
)
def test_invalid_invitations_are_422(client, headers, wave_and_professional, change, field):
    wave, professional = wave_and_professional
    body = {"wave_id": wave.id, "form": "jongere", "professional_id": professional.id, **change}
    assert field in error_fields(client.post(f"{API}/invitations", json=body, headers=headers))


def test_no_invitation_for_a_closed_wave(client, session, headers, owner, wave_and_professional):
    _, professional = wave_and_professional
    closed = make_wave(
        session, owner, opens_at=utcnow() - timedelta(days=30), closes_at=utcnow() - timedelta(days=1)
    )
    body = {"wave_id": closed.id, "form": "jongere", "professional_id": professional.id}
    assert error_fields(client.post(f"{API}/invitations", json=body, headers=headers)) == {"wave_id"}


def test_invitation_status_follows_expiry_and_use(client, session, headers, wave_and_professional):
    expired = make_invitation(session, *wave_and_professional, expires_at=utcnow() - timedelta(minutes=1))
    used = make_invitation(session, *wave_and_professional, kind="personal")
    used.used_at = utcnow()
    session.add(used)
    session.flush()
    assert client.get(f"{API}/invitations/{expired.id}", headers=headers).json()["status"] == "expired"
    assert client.get(f"{API}/invitations/{used.id}", headers=headers).json()["status"] == "used"


def test_invitations_list_filters_by_wave(client, session, headers, owner, wave_and_professional):
    wave, professional = wave_and_professional
    mine = {make_invitation(session, wave, professional).id for _ in range(3)}
    make_invitation(session, make_wave(session, owner, name="Najaar"), professional)
    page = client.get(f"{API}/invitations", params={"wave_id": wave.id}, headers=headers).json()
    assert {item["id"] for item in page["items"]} == mine and page["total"] == 3


def test_deleting_a_professional_deletes_their_invitations(client, session, headers, wave_and_professional):
    invitation = make_invitation(session, *wave_and_professional)
    professional_id = wave_and_professional[1].id
    assert client.delete(f"{API}/professionals/{professional_id}", headers=headers).status_code == 204
    assert_problem(client.get(f"{API}/invitations/{invitation.id}", headers=headers), 404)


# -- pagination -----------------------------------------------------------------------------------------


def test_lists_paginate(client, session, headers, owner):
    ids = [make_team(session, owner, name=f"Team {index}").id for index in range(5)]
    first = client.get(f"{API}/teams", params={"limit": 2}, headers=headers).json()
    assert first == {**first, "total": 5, "limit": 2, "offset": 0}
    assert [item["id"] for item in first["items"]] == ids[:2]
    last = client.get(f"{API}/teams", params={"limit": 2, "offset": 4}, headers=headers).json()
    assert [item["id"] for item in last["items"]] == ids[4:]
    beyond = client.get(f"{API}/teams", params={"offset": 10}, headers=headers).json()
    assert beyond["items"] == [] and beyond["total"] == 5
    default = client.get(f"{API}/teams", headers=headers).json()
    assert default["limit"] == 50 and len(default["items"]) == 5


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 201}, {"offset": -1}, {"limit": "many"}])
def test_bad_paging_is_422(client, headers, params):
    assert_problem(client.get(f"{API}/partners", params=params, headers=headers), 422)


def test_a_huge_id_is_422_not_a_crash(client, headers):
    assert_problem(client.get(f"{API}/teams/{2**70}", headers=headers), 422)


def test_timestamps_come_back_timezone_aware(client, headers, wave_and_professional):
    wave, _ = wave_and_professional
    body = client.get(f"{API}/waves/{wave.id}", headers=headers).json()
    assert datetime.fromisoformat(body["opens_at"]).utcoffset() == timedelta(0)


def test_a_changed_definition_of_a_recorded_version_is_refused(session):
    instrument = current_instrument()
    session.add(InstrumentVersion(version=instrument.version, content_hash="0" * 64))
    session.flush()
    with pytest.raises(InstrumentChanged, match="never changes"):
        ensure_instrument_version_recorded(session, instrument)


def test_a_moment_outside_the_utc_calendar_is_a_422_not_a_500(client, session):
    from tests.factories.organisation import make_key, make_municipality

    headers = make_key(session, make_municipality(session), "manage")
    for opens_at in ("0001-01-01T00:30:00+01:00", "9999-12-31T23:30:00-01:00"):
        response = client.post("/api/v1/waves", json={"name": "Rand", "opens_at": opens_at}, headers=headers)
        assert response.status_code == 422, (opens_at, response.status_code)
