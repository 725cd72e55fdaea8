"""Signing in: passwords, sessions, CSRF, throttling, the second factor, one-time links, roles."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pyotp
import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.db import utcnow
from app.models import AuditEvent, LoginThrottle, User, UserSession, UserToken
from app.users import crypto, service
from app.users.sessions import FORM_COOKIE, SESSION_COOKIE
from tests.factories.collection import make_invitation, make_wave
from tests.factories.organisation import make_key, make_municipality, make_professional, make_team
from tests.factories.users import PASSWORD, enrol_totp, make_user, signed_in_headers

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(page_text: str) -> str:
    found = CSRF.search(page_text)
    assert found, page_text[:500]
    return found.group(1)


def login(client: TestClient, email: str, password: str = PASSWORD, **extra: str):
    token = csrf_of(client.get("/login").text)
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token, **extra},
        follow_redirects=False,
    )


def set_cookies(response) -> dict[str, str]:
    """Set-Cookie headers by cookie name."""
    return {header.split("=", 1)[0]: header for header in response.headers.get_list("set-cookie")}


@pytest.fixture
def town(session: Session):
    return make_municipality(session, "Gemeente Noord")


def test_sign_in_lands_on_the_app_and_sign_out_ends_the_session(client, session, town):
    user = make_user(session, town, email="kim@noord.example")
    assert client.get("/app/", follow_redirects=False).headers["location"] == "/login"
    signed_in = login(client, "Kim@Noord.EXAMPLE")  # e-mail addresses compare case-insensitively
    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == "/app/"
    home = client.get("/app/")
    assert home.status_code == 200
    assert "Kim de Vries" in home.text and "Gemeente Noord" in home.text
    assert 'action="/logout"' in home.text
    csrf = csrf_of(home.text)
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "user.login")).all()
    assert [(e.user_id, e.municipality_id, e.api_key_id) for e in events] == [(user.id, town.id, None)]

    out = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/login?done=logout"
    assert "Max-Age=0" in set_cookies(out)[SESSION_COOKIE]
    assert session.exec(select(UserSession)).all() == []
    assert client.get("/app/", follow_redirects=False).headers["location"] == "/login"
    assert "U bent uitgelogd" in client.get("/login?done=logout").text


def test_cookie_flags(client, session, settings, town, app):
    make_user(session, town, email="kim@noord.example")
    cookie = set_cookies(login(client, "kim@noord.example"))[SESSION_COOKIE]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie and "expires" not in cookie.lower()
    app.state.settings = settings.model_copy(update={"https": True})
    with TestClient(app, base_url="https://testserver") as secure:
        assert "Secure" in set_cookies(secure.get("/login"))[FORM_COOKIE]
        cookies = set_cookies(login(secure, "kim@noord.example"))
    assert "Secure" in cookies[SESSION_COOKIE] and "HttpOnly" in cookies[SESSION_COOKIE]


def test_unknown_email_and_wrong_password_get_the_same_answer(client, session, town, monkeypatch):
    make_user(session, town, email="kim@noord.example")
    verified: list[str] = []

    class CountingHasher(PasswordHasher):
        def verify(self, hash, password):
            verified.append(hash if isinstance(hash, str) else hash.decode())
            return super().verify(hash, password)

    cheap = crypto.password_hasher()
    counting = CountingHasher(
        time_cost=cheap.time_cost, memory_cost=cheap.memory_cost, parallelism=cheap.parallelism
    )
    monkeypatch.setattr(crypto, "_hasher", counting)  # both restored after the test
    monkeypatch.setattr(crypto, "_dummy_hash", None)
    unknown = login(client, "niemand@noord.example", "een-ander-wachtwoord-1")
    wrong = login(client, "kim@noord.example", "een-ander-wachtwoord-1")
    # The same work for both: one argon2 verification with the same parameters (a dummy hash for
    # the unknown address), so the time does not tell them apart either.
    assert len(verified) == 2 and verified[0] != verified[1]
    assert verified[0].split("$")[:4] == verified[1].split("$")[:4]
    assert unknown.status_code == wrong.status_code == 200
    assert SESSION_COOKIE not in set_cookies(unknown) and SESSION_COOKIE not in set_cookies(wrong)
    assert unknown.text.replace("niemand@noord.example", "E") == wrong.text.replace("kim@noord.example", "E")
    assert "Het e-mailadres of het wachtwoord klopt niet" in wrong.text
    # Only the existing account's failure is in the audit trail (with its municipality).
    failed = session.exec(select(AuditEvent).where(AuditEvent.action == "user.login_failed")).all()
    assert [(e.municipality_id, e.object_type, e.detail) for e in failed] == [
        (town.id, "user", '{"step":"password"}')
    ]


def test_a_disabled_account_cannot_sign_in_and_answers_like_a_wrong_password(client, session, town):
    user = make_user(session, town, email="kim@noord.example")
    service.disable_user(session, user=user, actor=None)
    refused = login(client, "kim@noord.example")
    assert refused.status_code == 200 and "klopt niet" in refused.text


def test_throttling_per_account(client, session, town):
    make_user(session, town, email="kim@noord.example")
    statuses = [login(client, "kim@noord.example", f"fout-wachtwoord-{n:04d}").status_code for n in range(20)]
    assert 429 in statuses
    assert statuses.index(429) <= 20
    refused = login(client, "KIM@noord.example")  # even the right password waits now
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 15 * 60
    assert "Even wachten" in refused.text and "minuten" in refused.text
    # Another account from elsewhere is not affected by this account's lock... but this address
    # has failed 20 times, fewer than its own limit, so a colleague still signs in.
    make_user(session, town, email="sam@noord.example")
    assert login(client, "sam@noord.example").status_code == 303


def test_throttling_per_address_stores_no_address(client, session, town):
    make_user(session, town, email="kim@noord.example")
    statuses = [
        login(client, f"poging{n}@noord.example", "fout-wachtwoord-123").status_code for n in range(30)
    ]
    assert 429 in statuses
    assert login(client, "kim@noord.example").status_code == 429
    rows = session.exec(select(LoginThrottle)).all()
    assert rows
    stored = " ".join(f"{row.key_hash} {row.failures}" for row in rows)
    assert "testclient" not in stored and "poging" not in stored
    assert all(re.fullmatch(r"[0-9a-f]{64}", row.key_hash) for row in rows)


def session_token(response) -> str:
    return set_cookies(response)[SESSION_COOKIE].split(";")[0].split("=", 1)[1]


def test_a_sign_in_never_keeps_the_session_id_the_browser_brought(client, session, settings, town):
    """Session fixation: a session id planted in the victim's browser is never the one signed in."""
    user = make_user(session, town, email="kim@noord.example")
    secret = enrol_totp(session, settings, user)
    session.commit()
    enrol_totp(session, settings, make_user(session, town, email="mallory@noord.example"))
    session.commit()
    with TestClient(client.app) as attacker:  # half-way into their own account: a session id to plant
        planted = session_token(login(attacker, "mallory@noord.example"))
    client.cookies.set(SESSION_COOKIE, planted)
    after_password = session_token(login(client, "kim@noord.example"))
    assert after_password != planted
    csrf = csrf_of(client.get("/login/totp").text)
    done = client.post(
        "/login/totp", data={"code": code_at(secret), "csrf_token": csrf}, follow_redirects=False
    )
    signed_in = session_token(done)
    assert signed_in not in (planted, after_password)
    hashes = session.exec(select(UserSession.token_hash)).all()
    assert hashes == [crypto.token_hash(signed_in)]
    for stale in (planted, after_password):
        assert (
            client.get(
                "/app/", headers={"Cookie": f"{SESSION_COOKIE}={stale}"}, follow_redirects=False
            ).status_code
            == 303
        )
    assert client.get("/app/").status_code == 200


def test_csrf_refusals(client, session, settings, town):
    user = make_user(session, town, email="kim@noord.example")
    # The sign-in form without its token, or without the cookie it belongs to.
    no_token = client.post("/login", data={"email": "kim@noord.example", "password": PASSWORD})
    assert no_token.status_code == 403 and "Dit formulier is verlopen" in no_token.text
    token = csrf_of(client.get("/login").text)
    stranger = TestClient(client.app)
    forged = stranger.post(
        "/login", data={"email": "kim@noord.example", "password": PASSWORD, "csrf_token": token}
    )
    assert forged.status_code == 403

    assert login(client, "kim@noord.example").status_code == 303
    other = signed_in_headers(session, settings, make_user(session, town))
    for data in ({}, {"csrf_token": "x" * 64}, {"csrf_token": other["X-CSRF-Token"]}):
        refused = client.post("/logout", data=data)
        assert refused.status_code == 403, data
        assert "Dit formulier is verlopen" in refused.text
    assert client.get("/app/").status_code == 200  # still signed in

    # The JSON API with the cookie: writes need X-CSRF-Token; reads do not.
    csrf = csrf_of(client.get("/app/").text)
    assert client.get("/api/v1/teams").status_code == 200
    refused = client.post("/api/v1/teams", json={"name": "Team Zuid"})
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert (
        client.post(
            "/api/v1/teams", json={"name": "Team Zuid"}, headers={"X-CSRF-Token": other["X-CSRF-Token"]}
        ).status_code
        == 403
    )
    created = client.post("/api/v1/teams", json={"name": "Team Zuid"}, headers={"X-CSRF-Token": csrf})
    assert created.status_code == 201
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "team.create")).one()
    assert (event.user_id, event.api_key_id, event.municipality_id) == (user.id, None, town.id)
    # A Bearer key needs no CSRF token (and wins over a cookie).
    key = make_key(session, town, "manage")
    assert client.post("/api/v1/teams", json={"name": "Team Oost"}, headers=key).status_code == 201


def test_idle_and_absolute_lifetime_end_a_session(client, session, settings, town):
    user = make_user(session, town)
    headers = signed_in_headers(session, settings, user)
    assert client.get("/app/", headers=headers).status_code == 200
    row = session.exec(select(UserSession)).one()
    row.last_seen_at = utcnow() - timedelta(minutes=settings.session_idle_minutes + 1)
    session.add(row)
    session.commit()
    assert client.get("/app/", headers=headers, follow_redirects=False).status_code == 303
    assert client.get("/api/v1/teams", headers=headers).status_code == 401

    headers = signed_in_headers(session, settings, user)
    assert len(session.exec(select(UserSession)).all()) == 1  # the ended one is deleted at a sign-in
    row = session.exec(select(UserSession)).one()
    row.expires_at = utcnow() - timedelta(seconds=1)
    session.add(row)
    session.commit()
    assert client.get("/app/", headers=headers, follow_redirects=False).status_code == 303


def test_a_disabled_accounts_live_session_ends(client, session, settings, town):
    user = make_user(session, town)
    headers = signed_in_headers(session, settings, user)
    assert client.get("/api/v1/teams", headers=headers).status_code == 200
    service.disable_user(session, user=user, actor=None)
    session.commit()
    assert client.get("/api/v1/teams", headers=headers).status_code == 401
    assert client.get("/app/", headers=headers, follow_redirects=False).headers["location"] == "/login"


def test_a_new_password_ends_every_session(client, session, settings, town):
    user = make_user(session, town)
    headers = signed_in_headers(session, settings, user)
    service.set_password(session, user=user, password="nog-een-heel-ander-wachtwoord", actor=None)
    session.commit()
    assert client.get("/api/v1/teams", headers=headers).status_code == 401


def test_sign_out_everywhere(client, session, settings, town):
    user = make_user(session, town, email="kim@noord.example")
    elsewhere = signed_in_headers(session, settings, user)
    login(client, "kim@noord.example")
    csrf = csrf_of(client.get("/app/").text)
    assert (
        client.post(
            "/logout", data={"csrf_token": csrf, "everywhere": "1"}, follow_redirects=False
        ).status_code
        == 303
    )
    assert client.get("/api/v1/teams", headers=elsewhere).status_code == 401


def test_roles_map_onto_scopes(client, session, settings, town):
    coordinator = signed_in_headers(session, settings, make_user(session, town, "coordinator"))
    researcher = signed_in_headers(session, settings, make_user(session, town, "researcher"))
    admin = signed_in_headers(session, settings, make_user(session, town, "admin"))
    wave = make_wave(session, town)
    team = make_team(session, town)
    professional = make_professional(session, team)
    make_invitation(session, wave, professional)  # the sheet shows the open wave's codes
    session.commit()
    assert client.post("/api/v1/teams", json={"name": "T"}, headers=coordinator).status_code == 201
    assert client.post("/api/v1/teams", json={"name": "T"}, headers=researcher).status_code == 403
    assert client.get("/api/v1/apikeys", headers=coordinator).status_code == 403
    assert client.get("/api/v1/apikeys", headers=admin).status_code == 200
    assert client.get(f"/api/v1/exports/responses?wave_id={wave.id}", headers=coordinator).status_code == 403
    assert client.get(f"/api/v1/exports/responses?wave_id={wave.id}", headers=researcher).status_code == 200
    # Signed out, a browser opening the report or the QR sheet is sent to sign in (an API client gets 401).
    html = {"Accept": "text/html,application/xhtml+xml"}
    for page in (f"/reports/{wave.id}", f"/api/v1/professionals/{professional.id}/invitations.html"):
        assert client.get(page, headers=html, follow_redirects=False).headers["location"] == "/login"
        assert client.get(page).status_code == 401
    assert client.get("/login", headers=coordinator, follow_redirects=False).headers["location"] == "/app/"
    # The two pages made for people open in a browser with the right role.
    report = client.get(f"/reports/{wave.id}", headers=coordinator)
    assert report.status_code == 200 and report.headers["content-type"].startswith("text/html")
    sheet = client.get(f"/api/v1/professionals/{professional.id}/invitations.html", headers=coordinator)
    assert sheet.status_code == 200 and "<html" in sheet.text
    assert (
        client.get(
            f"/api/v1/professionals/{professional.id}/invitations.html", headers=researcher
        ).status_code
        == 403
    )
    home = client.get("/app/", headers=coordinator).text
    assert f"/reports/{wave.id}?form=jongere" in home
    assert f"/api/v1/professionals/{professional.id}/invitations.html" in home


def test_a_research_account_reads_everywhere_and_writes_nothing(client, session, settings, town):
    other = make_municipality(session, "Gemeente Zuid")
    waves = {make_wave(session, town).id, make_wave(session, other).id}
    research = signed_in_headers(session, settings, make_user(session, None, "admin"))
    session.commit()
    for wave_id in waves:
        assert client.get(f"/reports/{wave_id}", headers=research).status_code == 200
    assert client.post("/api/v1/teams", json={"name": "X"}, headers=research).status_code == 403
    home = client.get("/app/", headers=research).text
    assert "onderzoeksaccount" in home
    with pytest.raises(Exception, match="research account"):
        service.create_user(
            session,
            user_in=service.UserCreate(
                email="a@b.example", display_name="A", role="coordinator", municipality_id=None
            ),
            actor=None,
        )


def code_at(secret: str, offset_steps: int = 0) -> str:
    totp = pyotp.TOTP(secret)
    return totp.at(utcnow().timestamp() + 30 * offset_steps)


def test_sign_in_with_a_second_factor(client, session, settings, town):
    user = make_user(session, town, email="kim@noord.example")
    secret = enrol_totp(session, settings, user)
    session.commit()
    halfway = login(client, "kim@noord.example")
    assert halfway.headers["location"] == "/login/totp"
    # Half-way is not signed in: no page, no API.
    assert client.get("/app/", follow_redirects=False).headers["location"] == "/login/totp"
    assert client.get("/api/v1/teams").status_code == 401
    page = client.get("/login/totp")
    assert 'autocomplete="one-time-code"' in page.text
    csrf = csrf_of(page.text)
    wrong = client.post("/login/totp", data={"code": "000000", "csrf_token": csrf}, follow_redirects=False)
    assert wrong.status_code == 200 and "klopt niet" in wrong.text  # a wrong code can be retried
    code = code_at(secret)
    done = client.post("/login/totp", data={"code": code, "csrf_token": csrf}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/app/"
    assert client.get("/app/").status_code == 200
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "user.login")).one()
    assert event.detail == '{"second_factor":"totp"}'
    failed = session.exec(select(AuditEvent).where(AuditEvent.action == "user.login_failed")).one()
    assert failed.detail == '{"step":"totp"}'

    # The same code again (a replay) is refused, even within its 30 seconds.
    client.cookies.clear()
    login(client, "kim@noord.example")
    csrf = csrf_of(client.get("/login/totp").text)
    replay = client.post("/login/totp", data={"code": code, "csrf_token": csrf}, follow_redirects=False)
    assert replay.status_code == 200


def test_enrolment_when_the_municipality_requires_it_and_recovery_codes(client, session, settings, town):
    from typer.testing import CliRunner  # noqa: F401 - the CLI path is tested in test_users_cli

    user = make_user(session, town, email="kim@noord.example")
    already = signed_in_headers(session, settings, user)
    service.require_second_factor(session, municipality=town, required=True, actor=None)
    session.commit()
    # A live session without a second factor must enrol first.
    assert client.get("/app/", headers=already, follow_redirects=False).headers["location"] == "/login/enrol"
    assert client.get("/api/v1/teams", headers=already).status_code == 401

    assert login(client, "kim@noord.example").headers["location"] == "/login/enrol"
    page = client.get("/login/enrol")
    assert page.status_code == 200
    secret = re.search(r'data-secret="([A-Z2-7]+)"', page.text).group(1)
    assert len(secret) == 32
    assert "<svg" in page.text
    assert client.get("/login/enrol").text.count(secret) >= 1  # a reload shows the same secret
    assert (
        pyotp.TOTP(secret)
        .provisioning_uri(name="kim@noord.example", issuer_name="verbonden")
        .startswith("otpauth://totp/verbonden:kim%40noord.example?secret=")
    )
    csrf = csrf_of(page.text)
    wrong = client.post("/login/enrol", data={"code": "123456", "csrf_token": csrf})
    assert wrong.status_code == 422
    done = client.post("/login/enrol", data={"code": code_at(secret), "csrf_token": csrf})
    assert done.status_code == 200
    codes = re.findall(r"<code>([a-z2-9]{4}-[a-z2-9]{4})</code>", done.text)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert client.get("/app/").status_code == 200
    session.refresh(user)
    assert user.totp_enabled_at is not None
    assert all(code not in (user.recovery_codes or "") for code in codes)
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "user.totp.enrol")).one()

    # A recovery code works once instead of the app's code.
    for attempt, expected in ((codes[0], 303), (codes[0], 200)):
        client.cookies.clear()
        assert login(client, "kim@noord.example").headers["location"] == "/login/totp"
        csrf = csrf_of(client.get("/login/totp").text)
        answer = client.post(
            "/login/totp", data={"code": attempt.upper(), "csrf_token": csrf}, follow_redirects=False
        )
        assert answer.status_code == expected

    # An admin resets the second factor: the person enrols again.
    service.reset_second_factor(session, user=user, actor=None)
    session.commit()
    client.cookies.clear()
    assert login(client, "kim@noord.example").headers["location"] == "/login/enrol"


def invitation_link(session: Session, user: User, purpose: str = service.PURPOSE_INVITE) -> str:
    token = service.issue_link(session, user=user, purpose=purpose, actor=None)
    session.commit()
    return f"/login/password/{token}"


def test_an_invitation_link_sets_the_password_once(client, session, town):
    user = make_user(session, town, email="nieuw@noord.example", password=None)
    link = invitation_link(session, user)
    page = client.get(link)
    assert page.status_code == 200 and "Kies uw wachtwoord" in page.text
    csrf = csrf_of(page.text)
    short = client.post(link, data={"password": "kort", "password_confirm": "kort", "csrf_token": csrf})
    assert short.status_code == 422 and "te kort" in short.text
    common = "password1234"
    weak = client.post(link, data={"password": common, "password_confirm": common, "csrf_token": csrf})
    assert weak.status_code == 422 and "te makkelijk" in weak.text
    mismatch = client.post(
        link, data={"password": PASSWORD, "password_confirm": PASSWORD + "x", "csrf_token": csrf}
    )
    assert mismatch.status_code == 422
    done = client.post(
        link,
        data={"password": PASSWORD, "password_confirm": PASSWORD, "csrf_token": csrf},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/login?done=password"
    assert client.get(link).status_code == 410  # used
    again = client.post(link, data={"password": PASSWORD, "password_confirm": PASSWORD, "csrf_token": csrf})
    assert again.status_code == 410 and "al gebruikt" in again.text
    assert login(client, "nieuw@noord.example").status_code == 303
    assert client.get("/login/password/onbekend-token").status_code == 404


def test_an_expired_link_and_a_replaced_link_no_longer_work(client, session, town):
    user = make_user(session, town, password=None)
    link = invitation_link(session, user, service.PURPOSE_RESET)
    row = session.exec(select(UserToken)).one()
    assert row.expires_at - row.created_at == timedelta(hours=1)
    row.expires_at = utcnow() - timedelta(seconds=1)
    session.add(row)
    session.commit()
    expired = client.get(link)
    assert expired.status_code == 410 and "verlopen" in expired.text
    first = invitation_link(session, user)
    second = invitation_link(session, user)
    assert client.get(first).status_code == 410
    assert client.get(second).status_code == 200
    invite = session.exec(select(UserToken).where(col(UserToken.used_at).is_(None))).one()
    assert invite.expires_at - invite.created_at == timedelta(hours=72)


def test_a_password_hash_with_old_parameters_is_replaced_at_sign_in(client, session, town):
    user = make_user(session, town, email="kim@noord.example", password=None)
    user.password_hash = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1).hash(PASSWORD)
    session.add(user)
    session.commit()
    old = user.password_hash
    assert crypto.needs_rehash(old)
    assert login(client, "kim@noord.example").status_code == 303
    session.refresh(user)
    assert user.password_hash != old and not crypto.needs_rehash(user.password_hash)
    assert user.password_hash.startswith("$argon2id$")


def test_password_rules():
    assert crypto.password_problem("kort-12345") == "too_short"
    assert crypto.password_problem("x" * 1025) == "too_long"
    assert crypto.password_problem("password1234") == "too_common"
    assert crypto.password_problem("aaaaaaaaaaaa") == "too_common"
    assert crypto.password_problem("kim@noord.example", email="kim@noord.example") == "too_common"
    assert crypto.password_problem(PASSWORD) is None
    assert crypto.password_problem("correct horse battery staple") is None


def test_the_english_pages(client):
    page = client.get("/login?lang=en")
    assert (
        '<html lang="en">' in page.text and "Sign in" in page.text and 'name="lang" value="en"' in page.text
    )
    assert "Nederlands" in page.text


def test_no_secret_reaches_the_log(client, session, settings, town, caplog):
    caplog.set_level(logging.DEBUG)
    user = make_user(session, town, email="kim@noord.example")
    secret = enrol_totp(session, settings, user)
    session.commit()
    login(client, "kim@noord.example", "een-fout-wachtwoord-77")
    response = login(client, "kim@noord.example")
    token = set_cookies(response)[SESSION_COOKIE].split(";")[0].split("=", 1)[1]
    code = code_at(secret)
    csrf = csrf_of(client.get("/login/totp").text)
    client.post("/login/totp", data={"code": code, "csrf_token": csrf})
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "POST /login" in logged  # the access log was captured
    session.refresh(user)
    for text in (
        PASSWORD,
        "een-fout-wachtwoord-77",
        token,
        secret,
        code,
        user.password_hash,
        "kim@noord.example",
    ):
        assert text not in logged, text


def test_an_admin_invites_into_their_own_municipality_only(client, session, settings, town):
    other = make_municipality(session, "Gemeente Zuid")
    admin = service.principal_for(make_user(session, town, "admin"))
    coordinator = service.principal_for(make_user(session, town, "coordinator"))
    wanted = service.UserCreate(
        email="Nieuw@Noord.example", display_name="Nieuw", role="researcher", municipality_id=town.id
    )
    user, url = service.invite_user(session, settings, actor=admin, user_in=wanted)
    assert user.email == "nieuw@noord.example" and url.startswith(f"{settings.base_url}/login/password/")
    assert client.get(url.removeprefix(settings.base_url)).status_code == 200
    elsewhere = wanted.model_copy(update={"email": "x@zuid.example", "municipality_id": other.id})
    with pytest.raises(Exception, match="own municipality"):
        service.invite_user(session, settings, actor=admin, user_in=elsewhere)
    with pytest.raises(Exception, match="Only an admin"):
        service.invite_user(
            session,
            settings,
            actor=coordinator,
            user_in=wanted.model_copy(update={"email": "y@noord.example"}),
        )
    actions = session.exec(select(AuditEvent.action).where(AuditEvent.user_id == admin.user_id)).all()
    assert actions == ["user.create", "user.invite"]
