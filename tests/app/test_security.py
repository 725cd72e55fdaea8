"""Security headers on every kind of response, on SQLite and PostgreSQL."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.main import create_app
from app.models import Municipality
from app.security import docs_content_security_policy, style_hash
from tests.app.test_reports import report_key, seed
from tests.conftest import Database, use_test_session
from tests.factories.collection import make_invitation, make_wave
from tests.factories.organisation import make_key, make_municipality, make_professional, make_team

STRICT = {
    "default-src 'none'",
    "img-src 'self' data:",
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
}


def policy(response) -> dict[str, str]:
    """The CSP as {directive: "directive sources"}."""
    directives = [part.strip() for part in response.headers["content-security-policy"].split(";")]
    return {directive.split()[0]: directive for directive in directives if directive}


def assert_strict(response) -> None:
    csp = policy(response)
    assert set(csp.values()) >= STRICT, csp
    assert "script-src" not in csp
    assert "'unsafe-inline'" not in csp["style-src"]
    assert csp["style-src"].startswith("style-src 'self'")
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert "strict-transport-security" not in response.headers


def client_with(database: Database, session: Session, **settings: object) -> TestClient:
    app = create_app(database.settings(**settings))
    use_test_session(app, session)
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture
def invitation(session: Session):
    municipality = make_municipality(session, "Bars-A")
    professional = make_professional(session, make_team(session, municipality))
    return make_invitation(session, make_wave(session, municipality), professional)


def test_respondent_form_and_thanks_page(client, invitation):
    for path in (f"/s/{invitation.token}", f"/s/{invitation.token}/bedankt"):
        response = client.get(path)
        assert response.status_code == 200
        assert_strict(response)
        assert response.headers["cache-control"] == "no-store"


def test_respondent_link_problem_page(client):
    response = client.get("/s/no-such-token-at-all")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert_strict(response)
    assert response.headers["cache-control"] == "no-store"


def test_json_and_problem_json(client, session):
    public = client.get("/api/v1/instrument")
    assert public.status_code == 200
    assert_strict(public)
    assert public.headers["cache-control"] == "no-store"
    for response in (
        client.get("/api/v1/teams"),  # 401
        client.get("/api/v1/teams", headers=make_key(session, make_municipality(session), "admin")),  # 403
        client.get("/api/v1/no-such-route"),  # 404
        client.get("/no-such-page"),
        client.delete("/api/v1/instrument"),  # 405
    ):
        assert response.status_code in {401, 403, 404, 405}, response.status_code
        assert response.headers["content-type"].startswith("application/problem+json")
        assert_strict(response)
        assert response.headers["cache-control"] == "no-store"


def test_static_files_keep_their_caching(client):
    response = client.get("/static/respondent.css")
    assert response.status_code == 200
    assert_strict(response)
    assert response.headers.get("cache-control") != "no-store"


def test_health(client):
    response = client.get("/healthz")
    assert_strict(response)


def test_an_unhandled_error_still_carries_the_headers(database, session):
    client = client_with(database, session)

    @client.app.get("/boom")  # type: ignore[attr-defined]
    def boom() -> None:
        raise RuntimeError("boom")

    response = client.get("/boom")
    assert response.status_code == 500
    assert_strict(response)


def test_hsts_only_with_https(database, session):
    plain = client_with(database, session).get("/healthz")
    assert "strict-transport-security" not in plain.headers
    secure = client_with(database, session, https=True).get("/healthz")
    hsts = secure.headers["strict-transport-security"]
    assert re.fullmatch(r"max-age=(\d+); includeSubDomains", hsts)
    assert int(hsts.split("=")[1].split(";")[0]) >= 180 * 24 * 3600
    assert "strict-transport-security" in client_with(database, session, https=True).get("/s/x").headers


def inline_styles(html: str) -> list[str]:
    return re.findall(r"<style>(.*?)</style>", html, re.DOTALL)


def test_the_report_inline_style_is_allowed_by_its_hash(client, session):
    seeded = seed(session, {"Noord": {"a": 6, "b": 6}})
    response = client.get(
        f"/reports/{seeded.wave.id}", params={"form": "jongere"}, headers=report_key(session, seeded)
    )
    assert response.status_code == 200
    assert_strict(response)
    styles = inline_styles(response.text)
    assert styles
    for css in styles:
        assert style_hash(css) in policy(response)["style-src"]


def test_the_print_sheet_inline_style_is_allowed_by_its_hash(client, session, invitation):
    sheet = "/api/v1/professionals/{professional_id}/invitations.html"
    if sheet not in client.app.openapi()["paths"]:
        pytest.skip("the printable invitation sheet is not part of this build yet")
    municipality_key = make_key(session, session.get(Municipality, invitation.municipality_id), "manage")
    response = client.get(
        f"/api/v1/professionals/{invitation.professional_id}/invitations.html", headers=municipality_key
    )
    assert response.status_code == 200, response.text
    assert_strict(response)
    for css in inline_styles(response.text):
        assert style_hash(css) in policy(response)["style-src"]
    assert "<script" not in response.text


def test_docs_get_their_own_policy_and_are_not_framed(client):
    response = client.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-security-policy"] == docs_content_security_policy()
    csp = policy(response)
    assert csp["frame-ancestors"] == "frame-ancestors 'none'"
    # Our own origin and the hash of the inline starter only: nothing from another site.
    assert not re.search(r"https?:", response.headers["content-security-policy"])
    assert "'unsafe-inline'" not in csp["script-src"] and "'unsafe-inline'" not in csp["style-src"]
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"
