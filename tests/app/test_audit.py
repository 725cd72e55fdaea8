"""The audit trail: what is recorded, that it holds no answers, and who may read it (both databases)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from app import cli
from app.config import get_settings
from app.migrate import upgrade
from app.models import AuditEvent, Response
from tests.app.test_reports import report_key, seed
from tests.factories.collection import make_invitation, make_wave
from tests.factories.organisation import make_key, make_municipality, make_professional, make_team

AUDIT = "/api/v1/audit"


def events(session: Session, action: str | None = None) -> list[AuditEvent]:
    query = select(AuditEvent).order_by(col(AuditEvent.id))
    if action is not None:
        query = query.where(AuditEvent.action == action)
    return list(session.exec(query).all())


def no_answer_values(session: Session) -> None:
    """No audit row carries an answer, a token or the display name of a professional."""
    answers = [row.answers for row in session.exec(select(Response)).all()]
    for event in events(session):
        text = " ".join(str(value) for value in event.model_dump().values())
        assert "Naam" not in text
        for answer in answers:
            assert answer not in text


def test_professional_score_reads_are_recorded_and_team_reads_are_not(client, session):
    seeded = seed(session, {"Noord": {"a": 6, "b": 6}})
    headers = report_key(session, seeded, "reports:aggregate", "reports:professional")
    params = {"wave_id": seeded.wave.id, "form": "jongere"}
    assert client.get(
        "/api/v1/reports/scores", params={**params, "level": "team"}, headers=headers
    ).is_success
    assert events(session, "scores.professional.read") == []
    response = client.get(
        "/api/v1/reports/scores", params={**params, "level": "professional"}, headers=headers
    )
    assert response.status_code == 200
    [event] = events(session, "scores.professional.read")
    assert event.wave_id == seeded.wave.id and event.municipality_id == seeded.municipality.id
    assert event.api_key_id is not None and event.detail == '{"form":"jongere"}'
    no_answer_values(session)


def test_a_refused_read_is_not_recorded_as_a_read(client, session):
    seeded = seed(session, {"Noord": {"a": 6}})
    headers = report_key(session, seeded, "reports:aggregate")
    params = {"wave_id": seeded.wave.id, "form": "jongere", "level": "professional"}
    assert client.get("/api/v1/reports/scores", params=params, headers=headers).status_code == 403
    assert events(session, "scores.professional.read") == []


def test_the_html_report_with_professionals_is_recorded(client, session):
    seeded = seed(session, {"Noord": {"a": 6}})
    headers = report_key(session, seeded, "reports:aggregate", "reports:professional")
    assert client.get(f"/reports/{seeded.wave.id}", headers=headers).status_code == 200
    assert [event.wave_id for event in events(session, "report.professional.read")] == [seeded.wave.id]


@pytest.mark.parametrize("file_format", ["csv", "sav"])
def test_every_export_download_is_recorded(client, session, file_format):
    seeded = seed(session, {"Noord": {"a": 6}})
    headers = make_key(session, seeded.municipality, "responses:read")
    for _ in range(2):
        response = client.get(
            "/api/v1/exports/responses",
            params={"wave_id": seeded.wave.id, "format": file_format},
            headers=headers,
        )
        assert response.status_code == 200
    recorded = events(session, "responses.export")
    assert len(recorded) == 2
    assert all(event.wave_id == seeded.wave.id for event in recorded)
    assert recorded[0].detail == f'{{"form":null,"format":"{file_format}"}}'
    no_answer_values(session)


def test_every_management_change_is_recorded_once(client, session):
    municipality = make_municipality(session)
    headers = make_key(session, municipality, "manage")
    team = client.post("/api/v1/teams", json={"name": "Noord"}, headers=headers).json()
    partner = client.post(
        "/api/v1/partners", json={"name": "Politie", "kind": "police"}, headers=headers
    ).json()
    professional = client.post(
        "/api/v1/professionals",
        json={"display_name": "Sam", "role": "wijkagent", "team_id": team["id"], "partner_id": partner["id"]},
        headers=headers,
    ).json()
    wave = client.post(
        "/api/v1/waves", json={"name": "Voorjaar", "opens_at": "2026-01-01T00:00:00Z"}, headers=headers
    )
    assert wave.status_code == 201, wave.text
    wave_id = wave.json()["id"]
    invitation = client.post(
        "/api/v1/invitations",
        json={"wave_id": wave_id, "form": "jongere", "professional_id": professional["id"]},
        headers=headers,
    ).json()
    assert client.patch(f"/api/v1/teams/{team['id']}", json={"name": "Zuid"}, headers=headers).is_success
    assert client.get(f"/api/v1/teams/{team['id']}", headers=headers).is_success  # reads are not recorded
    assert client.post(f"/api/v1/invitations/{invitation['id']}/revoke", headers=headers).is_success
    assert client.delete(f"/api/v1/professionals/{professional['id']}", headers=headers).status_code == 204
    assert client.delete(f"/api/v1/partners/{partner['id']}", headers=headers).status_code == 204

    recorded = [(event.action, event.object_id) for event in events(session)]
    assert recorded == [
        ("team.create", team["id"]),
        ("partner.create", partner["id"]),
        ("professional.create", professional["id"]),
        ("wave.create", wave_id),
        ("invitation.create", invitation["id"]),
        ("team.update", team["id"]),
        ("invitation.update", invitation["id"]),
        ("invitation.delete", invitation["id"]),  # taken with the professional (#13)
        ("professional.delete", professional["id"]),
        ("partner.delete", partner["id"]),
    ]
    assert {event.municipality_id for event in events(session)} == {municipality.id}
    assert [event.wave_id for event in events(session, "invitation.create")] == [wave_id]
    assert invitation["token"] not in " ".join(str(event.model_dump()) for event in events(session))


def test_a_refused_change_records_nothing(client, session):
    municipality = make_municipality(session)
    assert (
        client.post("/api/v1/teams", json={"name": ""}, headers=make_key(session, municipality)).status_code
        == 422
    )
    reader = make_key(session, municipality, "reports:aggregate")
    assert client.post("/api/v1/teams", json={"name": "Noord"}, headers=reader).status_code == 403
    assert events(session) == []


def test_the_audit_api_needs_an_admin_key(client, session):
    municipality = make_municipality(session)
    assert client.get(AUDIT).status_code == 401
    assert client.get(AUDIT, headers={"Authorization": "Bearer vb_nope"}).status_code == 401
    assert client.get(AUDIT, headers=make_key(session, municipality, "manage")).status_code == 403
    assert client.get(AUDIT, headers=make_key(session, municipality, "admin")).status_code == 200


def test_the_audit_api_is_read_only(client, session):
    municipality = make_municipality(session)
    admin = make_key(session, municipality, "admin", "manage")
    client.post("/api/v1/teams", json={"name": "Noord"}, headers=admin)
    [event] = events(session)
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        assert client.request(method, AUDIT, headers=admin, json={}).status_code == 405
        assert client.request(method, f"{AUDIT}/{event.id}", headers=admin, json={}).status_code == 405
    assert client.get(f"{AUDIT}/{event.id}", headers=admin).json()["action"] == "team.create"
    assert [row.action for row in events(session)] == ["team.create"]


def test_the_audit_api_pages_filters_and_keeps_municipalities_apart(client, session):
    bars, zuid = make_municipality(session), make_municipality(session)
    manage_bars, manage_zuid = make_key(session, bars, "manage"), make_key(session, zuid, "manage")
    for name in ("A", "B", "C"):
        client.post("/api/v1/teams", json={"name": name}, headers=manage_bars)
    client.post("/api/v1/teams", json={"name": "Z"}, headers=manage_zuid)
    team_id = events(session)[0].object_id
    client.patch(f"/api/v1/teams/{team_id}", json={"name": "AA"}, headers=manage_bars)

    admin_bars = make_key(session, bars, "admin")
    page = client.get(AUDIT, params={"limit": 2}, headers=admin_bars).json()
    assert page["total"] == 4 and page["limit"] == 2 and len(page["items"]) == 2
    assert page["items"][0]["action"] == "team.update"  # newest first
    rest = client.get(AUDIT, params={"limit": 2, "offset": 2}, headers=admin_bars).json()["items"]
    assert len(rest) == 2
    assert {item["municipality_id"] for item in page["items"] + rest} == {bars.id}
    only_creates = client.get(AUDIT, params={"action": "team.create"}, headers=admin_bars).json()
    assert only_creates["total"] == 3
    # Another municipality's trail stays hidden, even when asked for by id or filter.
    zuid_event = events(session)[3]
    assert client.get(f"{AUDIT}/{zuid_event.id}", headers=admin_bars).status_code == 404
    assert client.get(AUDIT, params={"municipality_id": zuid.id}, headers=admin_bars).json()["total"] == 0

    research_admin = make_key(session, None, "admin")
    everything = client.get(AUDIT, headers=research_admin).json()
    assert everything["total"] == 5
    assert client.get(AUDIT, params={"municipality_id": zuid.id}, headers=research_admin).json()["total"] == 1
    assert client.get(AUDIT, params={"limit": 0}, headers=research_admin).status_code == 422


@pytest.fixture
def cli_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    upgrade(url)
    monkeypatch.setenv("VERBONDEN_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def test_key_creation_on_the_command_line_is_recorded_and_the_cli_reads_the_trail(cli_database):
    runner = CliRunner()
    assert runner.invoke(cli.cli, ["municipality", "create", "Bars-A"]).exit_code == 0
    created = runner.invoke(cli.cli, ["apikey", "create", "--municipality", "bars-a", "--scope", "admin"])
    assert created.exit_code == 0, created.output
    secret = created.output.strip().splitlines()[-1]
    shown = runner.invoke(cli.cli, ["audit", "--limit", "5"])
    assert shown.exit_code == 0, shown.output
    lines = shown.output.strip().splitlines()
    assert lines[0].startswith("occurred_at")
    assert "apikey.create" in lines[1] and "api_key" in lines[1] and '{"scopes":"admin"}' in lines[1]
    assert "\tcli\t" in lines[1]
    assert lines[-1] == "1 of 1 events"
    assert secret not in shown.output
    assert runner.invoke(cli.cli, ["audit", "--limit", "0"]).exit_code != 0


def test_audit_rows_outlive_their_key_and_wave(client, session):
    municipality = make_municipality(session)
    headers = make_key(session, municipality, "manage")
    wave = make_wave(session, municipality)
    professional = make_professional(session, make_team(session, municipality))
    make_invitation(session, wave, professional)
    assert client.delete(f"/api/v1/professionals/{professional.id}", headers=headers).status_code == 204
    assert [event.action for event in events(session)] == ["invitation.delete", "professional.delete"]
