"""Managing API keys through /api/v1/apikeys (scope admin)."""

from __future__ import annotations

from sqlmodel import select

from app.models import ApiKey, AuditEvent
from tests.factories.organisation import make_key, make_municipality


def test_admin_creates_lists_and_revokes_a_key(client, session):
    municipality = make_municipality(session)
    admin = make_key(session, municipality, "admin")
    created = client.post("/api/v1/apikeys", json={"name": "koppeling", "scopes": ["manage"]}, headers=admin)
    assert created.status_code == 201, created.text
    body = created.json()
    secret = body["key"]
    assert secret.startswith("vb_") and len(secret) >= 46
    assert body["prefix"] == secret[: len(body["prefix"])]
    assert created.headers["cache-control"] == "no-store"
    assert session.exec(select(ApiKey).where(ApiKey.id == body["id"])).one().secret_hash != secret

    listed = client.get("/api/v1/apikeys", headers=admin).json()
    assert body["id"] in [item["id"] for item in listed["items"]]
    assert secret not in str(listed)

    new_key = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/teams", headers=new_key).status_code == 200
    assert client.delete(f"/api/v1/apikeys/{body['id']}", headers=admin).status_code == 204
    assert client.get("/api/v1/teams", headers=new_key).status_code == 401
    revoked = client.get(f"/api/v1/apikeys/{body['id']}", headers=admin).json()
    assert revoked["revoked_at"] is not None

    actions = {event.action for event in session.exec(select(AuditEvent))}
    assert {"apikey.create", "apikey.revoke"} <= actions


def test_keys_of_another_municipality_are_invisible(client, session):
    own, other = make_municipality(session), make_municipality(session)
    admin = make_key(session, own, "admin")
    foreign = client.post(
        "/api/v1/apikeys", json={"name": "x", "scopes": ["manage"]}, headers=make_key(session, other, "admin")
    ).json()
    assert client.get(f"/api/v1/apikeys/{foreign['id']}", headers=admin).status_code == 404
    assert client.delete(f"/api/v1/apikeys/{foreign['id']}", headers=admin).status_code == 404
    assert foreign["id"] not in [
        item["id"] for item in client.get("/api/v1/apikeys", headers=admin).json()["items"]
    ]


def test_research_keys_come_only_from_a_research_admin_and_read_only(client, session):
    municipality = make_municipality(session)
    municipal_admin = make_key(session, municipality, "admin")
    research_admin = make_key(session, None, "admin")
    body = {"name": "lectoraat", "scopes": ["reports:aggregate"], "research": True}
    assert client.post("/api/v1/apikeys", json=body, headers=municipal_admin).status_code == 403
    assert client.post("/api/v1/apikeys", json=body, headers=research_admin).status_code == 201
    writing = {**body, "scopes": ["manage"]}
    assert client.post("/api/v1/apikeys", json=writing, headers=research_admin).status_code == 422


def test_bad_input_is_refused_with_problem_json(client, session):
    admin = make_key(session, make_municipality(session), "admin")
    for body in (
        {"name": "x", "scopes": []},
        {"name": "x", "scopes": ["root"]},
        {"name": "", "scopes": ["manage"]},
        {"name": "x", "scopes": ["manage"], "expires_at": "2000-01-01T00:00:00Z"},
        {"name": "x", "scopes": ["manage"], "extra": 1},
    ):
        response = client.post("/api/v1/apikeys", json=body, headers=admin)
        assert response.status_code == 422, body
        assert response.headers["content-type"].startswith("application/problem+json")


def test_a_research_admin_cannot_revoke_a_municipality_key(client, session):
    municipality = make_municipality(session)
    created = client.post(
        "/api/v1/apikeys",
        json={"name": "koppeling", "scopes": ["manage"]},
        headers=make_key(session, municipality, "admin"),
    ).json()
    research_admin = make_key(session, None, "admin")
    assert client.delete(f"/api/v1/apikeys/{created['id']}", headers=research_admin).status_code == 404
    assert (
        client.get("/api/v1/teams", headers={"Authorization": f"Bearer {created['key']}"}).status_code == 200
    )
