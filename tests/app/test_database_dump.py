"""A dump of the database holds no key secret, no client address or user agent, no idempotency
key or submission id, and nothing that links an invitation token to a response."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect, text
from sqlmodel import Session

from app.apikeys.service import create_api_key
from app.main import create_app
from app.models import Municipality
from tests.conftest import BACKENDS, Database

USER_AGENT = "Mozilla/5.0 MARKER-UA-telefoon"
ADDRESS = "203.0.113.77"
IDEMPOTENCY_KEY = "MARKER-IDEMPOTENCY-42"


def dump(database: Database) -> dict[str, str]:
    """Every row of every table as text, per table (what a pg_dump or .dump would contain)."""
    tables: dict[str, str] = {}
    with database.engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            rows = connection.execute(text(f'SELECT * FROM "{table}"')).all()
            tables[table] = "\n".join(repr(tuple(row)) for row in rows)
    return tables


@pytest.mark.parametrize("fresh_database", BACKENDS, indirect=True)
def test_a_dump_holds_nothing_that_identifies_a_respondent(fresh_database: Database):
    from app.migrate import upgrade

    upgrade(fresh_database.url)
    with Session(fresh_database.engine) as session:
        municipality = Municipality(slug="dumpstad", name="Dumpstad")
        session.add(municipality)
        session.flush()
        _, secret = create_api_key(
            session,
            municipality_id=municipality.id,
            name="koppeling",
            scopes=["manage", "responses:write", "admin"],
        )
        session.commit()
    key = {"Authorization": f"Bearer {secret}"}
    settings = fresh_database.settings().model_copy(update={"submit_rate_limit": 0, "api_rate_limit": 0})
    client_headers = {"User-Agent": USER_AGENT, "X-Forwarded-For": ADDRESS, "X-Real-IP": ADDRESS}
    with TestClient(create_app(settings), headers=client_headers) as client:
        team = client.post("/api/v1/teams", json={"name": "Team Zuid"}, headers=key).json()
        professional = client.post(
            "/api/v1/professionals",
            headers=key,
            json={"display_name": "Sam", "role": "jongerenwerker", "team_id": team["id"]},
        ).json()
        wave = client.post(
            "/api/v1/waves",
            headers=key,
            json={"name": "Najaar", "opens_at": (datetime.now(UTC) - timedelta(days=1)).isoformat()},
        ).json()
        tokens = [
            client.post(
                "/api/v1/invitations",
                headers=key,
                json={
                    "wave_id": wave["id"],
                    "form": "jongere",
                    "professional_id": professional["id"],
                    "kind": kind,
                },
            ).json()["token"]
            for kind in ("open", "personal")
        ]

        form = client.get(f"/s/{tokens[1]}").text
        submission_id = re.search(r'name="submission_id" value="([^"]+)"', form).group(1)
        items = list(dict.fromkeys(re.findall(r'<input type="radio" name="([^"]+)"', form)))
        posted = client.post(
            f"/s/{tokens[1]}",
            data={"submission_id": submission_id, **dict.fromkeys(items, "4")},
            follow_redirects=False,
        )
        assert posted.status_code == 303
        sent = client.post(
            "/api/v1/responses",
            headers={**key, "Idempotency-Key": IDEMPOTENCY_KEY},
            json={"token": tokens[0], "answers": dict.fromkeys(items, 2)},
        )
        assert sent.status_code == 201

    tables = dump(fresh_database)
    everything = "\n".join(tables.values())
    assert tables["response"].count("\n") == 1  # both responses are there
    for secret_text in (
        secret,
        secret[3:],
        USER_AGENT,
        "MARKER-UA",
        ADDRESS,
        "testclient",
        IDEMPOTENCY_KEY,
        submission_id,
    ):
        assert secret_text not in everything, secret_text
    for token in tokens:
        holders = [table for table, rows in tables.items() if token in rows]
        assert holders == ["invitation"], (token, holders)


@pytest.mark.parametrize("fresh_database", BACKENDS, indirect=True)
def test_a_dump_holds_only_hashes_of_passwords_sessions_links_and_codes(fresh_database: Database):
    """Passwords (argon2id), session tokens, one-time links and recovery codes appear only as hashes;
    the TOTP secret only encrypted; the throttle only keyed hashes of addresses."""
    import pyotp

    from app.migrate import upgrade
    from app.users import service
    from app.users.sessions import SESSION_COOKIE
    from tests.app.test_users import csrf_of, login
    from tests.factories.users import PASSWORD, make_user

    upgrade(fresh_database.url)
    settings = fresh_database.settings().model_copy(update={"submit_rate_limit": 0, "api_rate_limit": 0})
    with Session(fresh_database.engine) as session:
        municipality = Municipality(slug="dumpstad", name="Dumpstad", require_2fa=True)
        session.add(municipality)
        session.flush()
        make_user(session, municipality, "admin", email="kim@dumpstad.example")
        invited = make_user(session, municipality, email="sam@dumpstad.example", password=None)
        link_token = service.issue_link(session, user=invited, purpose=service.PURPOSE_INVITE, actor=None)
        session.commit()
    client_headers = {"User-Agent": USER_AGENT, "X-Forwarded-For": ADDRESS}
    with TestClient(create_app(settings), headers=client_headers) as client:
        login(client, "kim@dumpstad.example", "een-fout-wachtwoord-00")
        assert login(client, "kim@dumpstad.example").headers["location"] == "/login/enrol"
        page = client.get("/login/enrol").text
        secret = re.search(r'data-secret="([A-Z2-7]+)"', page).group(1)
        enrolled = client.post(
            "/login/enrol", data={"code": pyotp.TOTP(secret).now(), "csrf_token": csrf_of(page)}
        )
        codes = re.findall(r"<code>([a-z2-9]{4}-[a-z2-9]{4})</code>", enrolled.text)
        assert len(codes) == 10
        session_token = client.cookies.get(SESSION_COOKIE)
        assert client.get("/app/").status_code == 200
        forgot = client.get("/login/forgot").text
        client.post("/login/forgot", data={"email": "kim@dumpstad.example", "csrf_token": csrf_of(forgot)})

    tables = dump(fresh_database)
    everything = "\n".join(tables.values())
    assert "$argon2id$" in tables["user"]
    assert session_token and tables["user_session"]
    for secret_text in (
        PASSWORD,
        "een-fout-wachtwoord-00",
        session_token,
        link_token,
        secret,
        *codes,
        *(code.replace("-", "") for code in codes),
        ADDRESS,
        "testclient",
        USER_AGENT,
    ):
        assert secret_text not in everything, secret_text
