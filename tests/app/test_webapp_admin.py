"""The admin's pages under /app/ (colleagues, API keys, the audit trail), the report's downloads and
feedback links, and the Dutch error pages."""

from __future__ import annotations

import io
import re

import pandas as pd
import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.models import ApiKey, AuditEvent, FeedbackLink, Municipality, User
from tests.app.test_reports import seed
from tests.app.test_webapp import browser, csrf_of, text_of
from tests.factories.collection import make_wave
from tests.factories.organisation import make_key, make_municipality, make_professional, make_team
from tests.factories.users import make_user, signed_in_headers


@pytest.fixture
def town(session: Session) -> Municipality:
    return make_municipality(session, "Gemeente Noord")


def signed_in(client, session, settings, municipality, role="admin"):
    """Cookie headers and the CSRF token of the /app/users page (any page's token is the session's)."""
    user = make_user(session, municipality, role)
    headers = {"Cookie": signed_in_headers(session, settings, user)["Cookie"]}
    token = csrf_of(client.get("/app/", headers=headers).text) if role != "x" else ""
    return user, headers, token


# -- colleagues ---------------------------------------------------------------------------------------


def test_an_admin_invites_a_colleague_and_sees_the_link_once_without_a_mail_server(
    client, session, settings, town
):
    _, headers, token = signed_in(client, session, settings, town)
    page = client.get("/app/users", headers=headers)
    assert page.status_code == 200 and 'action="/app/users"' in page.text
    invited = client.post(
        "/app/users",
        data={
            "email": "Sam@Noord.example",
            "display_name": "Sam Jansen",
            "role": "coordinator",
            "csrf_token": token,
        },
        headers=headers,
    )
    assert invited.status_code == 200, invited.text
    assert invited.headers["cache-control"] == "no-store"
    link = re.search(r"<code>(http[^<]+/login/password/[^<]+)</code>", invited.text)
    assert link, text_of(invited.text)
    user = session.exec(select(User).where(User.email == "sam@noord.example")).one()
    assert user.municipality_id == town.id and user.role == "coordinator"
    assert "user.invite" in {event.action for event in session.exec(select(AuditEvent)).all()}
    again = client.get("/app/users", headers=headers).text
    assert link.group(1) not in again and "Sam Jansen" in again  # shown once


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"email": "geen-adres", "display_name": "Sam", "role": "coordinator"},
            "email",
            "geldig e-mailadres",
        ),
        (
            {"email": "sam@noord.example", "display_name": "  ", "role": "admin"},
            "display_name",
            "Vul de naam in",
        ),
        ({"email": "sam@noord.example", "display_name": "Sam", "role": "baas"}, "role", "Kies een rol"),
    ],
)
def test_a_refused_invitation_comes_back_with_the_values_and_the_message_at_the_field(
    client, session, settings, town, data, field, message
):
    _, headers, token = signed_in(client, session, settings, town)
    refused = client.post("/app/users", data={**data, "csrf_token": token}, headers=headers)
    assert refused.status_code == 422
    assert message in refused.text and f'href="#{field}"' in refused.text
    assert re.search(rf'id="{field}"[^>]*aria-invalid="true"', refused.text)
    if field != "email":
        assert f'value="{data["email"]}"' in refused.text  # the values are kept
    assert session.exec(select(User).where(User.display_name == "Sam")).first() is None


def test_an_address_with_an_account_already_is_refused_at_the_field(client, session, settings, town):
    make_user(session, make_municipality(session, "Gemeente Zuid"), email="ali@zuid.example")
    _, headers, token = signed_in(client, session, settings, town)
    refused = client.post(
        "/app/users",
        data={"email": "ali@zuid.example", "display_name": "Ali", "role": "researcher", "csrf_token": token},
        headers=headers,
    )
    assert refused.status_code == 422 and "Er is al een account met dit e-mailadres." in refused.text
    assert "ali@zuid.example" in refused.text  # kept in the form, not listed as a colleague
    assert "Gemeente Zuid" not in refused.text


def test_an_admin_sets_a_role_disables_a_colleague_and_requires_the_second_factor(
    client, session, settings, town
):
    admin, headers, token = signed_in(client, session, settings, town)
    colleague = make_user(session, town, "coordinator", name="Sam Jansen")
    colleague_headers = signed_in_headers(session, settings, colleague)
    changed = client.post(
        f"/app/users/{colleague.id}/role",
        data={"role": "researcher", "csrf_token": token},
        headers=headers,
        follow_redirects=False,
    )
    assert changed.status_code == 303 and changed.headers["location"] == "/app/users?done=role"
    session.refresh(colleague)
    assert colleague.role == "researcher"
    assert "De rol is gewijzigd." in client.get(changed.headers["location"], headers=headers).text
    own = client.post(
        f"/app/users/{admin.id}/role", data={"role": "coordinator", "csrf_token": token}, headers=headers
    )
    assert own.status_code == 422 and "U kunt uw eigen rol niet wijzigen." in own.text
    assert (
        client.post(f"/app/users/{admin.id}/disable", data={"csrf_token": token}, headers=headers).status_code
        == 422
    )
    disabled = client.post(
        f"/app/users/{colleague.id}/disable",
        data={"csrf_token": token},
        headers=headers,
        follow_redirects=False,
    )
    assert disabled.status_code == 303
    session.refresh(colleague)
    assert colleague.disabled_at is not None
    gone = client.get("/app/", headers={"Cookie": colleague_headers["Cookie"]}, follow_redirects=False)
    assert gone.status_code == 303  # their session ended
    required = client.post(
        "/app/users/second-factor",
        data={"required": "ja", "csrf_token": token},
        headers=headers,
        follow_redirects=False,
    )
    assert required.status_code == 303
    session.refresh(town)
    assert town.require_2fa
    actions = {event.action for event in session.exec(select(AuditEvent)).all()}
    assert {"user.role.change", "user.disable", "municipality.require_2fa"} <= actions


def test_another_municipalitys_account_is_not_found(client, session, settings, town):
    elsewhere = make_user(session, make_municipality(session, "Gemeente Zuid"), "coordinator")
    _, headers, token = signed_in(client, session, settings, town)
    for action, data in (("role", {"role": "admin"}), ("disable", {})):
        response = client.post(
            f"/app/users/{elsewhere.id}/{action}", data={**data, "csrf_token": token}, headers=headers
        )
        assert response.status_code == 404 and "text/html" in response.headers["content-type"]
    session.refresh(elsewhere)
    assert elsewhere.role == "coordinator" and elsewhere.disabled_at is None


# -- API keys -----------------------------------------------------------------------------------------


def test_an_admin_makes_a_key_sees_it_once_with_its_scopes_and_revokes_it(client, session, settings, town):
    _, headers, token = signed_in(client, session, settings, town)
    made = client.post(
        "/app/apikeys",
        data={
            "name": "Koppeling",
            "scopes": ["manage", "reports:aggregate"],
            "expires": "31-12-2099",
            "csrf_token": token,
        },
        headers=headers,
    )
    assert made.status_code == 200, text_of(made.text)
    secret = re.search(r"<code>(vb_[A-Za-z0-9_-]+)</code>", made.text)
    assert secret and made.headers["cache-control"] == "no-store"
    assert "rapporten lezen" in made.text and "31-12-2099" in made.text
    key = session.exec(select(ApiKey).where(ApiKey.name == "Koppeling")).one()
    assert key.scope_set == {"manage", "reports:aggregate"} and key.municipality_id == town.id
    assert (
        client.get("/api/v1/teams", headers={"Authorization": f"Bearer {secret.group(1)}"}).status_code == 200
    )
    listed = client.get("/app/apikeys", headers=headers).text
    assert secret.group(1) not in listed and key.prefix in listed
    revoked = client.post(
        f"/app/apikeys/{key.id}/revoke", data={"csrf_token": token}, headers=headers, follow_redirects=False
    )
    assert revoked.status_code == 303
    assert (
        client.get("/api/v1/teams", headers={"Authorization": f"Bearer {secret.group(1)}"}).status_code == 401
    )
    assert "ingetrokken" in client.get("/app/apikeys?done=revoked", headers=headers).text


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "scopes": ["manage"]}, "Geef de sleutel een naam"),
        ({"name": "Zonder rechten"}, "Kies minstens één recht."),
        ({"name": "Oud", "scopes": ["manage"], "expires": "01-01-2001"}, "in de toekomst"),
        ({"name": "Raar", "scopes": ["manage"], "expires": "morgen"}, "in de toekomst"),
    ],
)
def test_a_refused_key_comes_back_with_the_values_and_the_message(
    client, session, settings, town, data, message
):
    _, headers, token = signed_in(client, session, settings, town)
    refused = client.post("/app/apikeys", data={**data, "csrf_token": token}, headers=headers)
    assert refused.status_code == 422 and message in refused.text
    if data["name"]:
        assert f'value="{data["name"]}"' in refused.text
    for scope in data.get("scopes", []):
        assert re.search(rf'value="{scope}" checked', refused.text)
    assert session.exec(select(ApiKey).where(ApiKey.municipality_id == town.id)).all() == []


def test_a_research_admin_makes_research_keys_only(client, session, settings):
    _, headers, token = signed_in(client, session, settings, None)
    page = client.get("/app/apikeys", headers=headers).text
    assert 'value="manage"' not in page and 'value="responses:read"' in page
    made = client.post(
        "/app/apikeys",
        data={"name": "Onderzoek", "scopes": ["responses:read", "manage"], "csrf_token": token},
        headers=headers,
    )
    assert made.status_code == 200
    key = session.exec(select(ApiKey).where(ApiKey.name == "Onderzoek")).one()
    assert key.municipality_id is None and key.scope_set == {"responses:read"}


# -- the audit trail ----------------------------------------------------------------------------------


def test_the_audit_trail_filters_by_actor_action_and_date_and_pages(client, session, settings, town):
    admin, headers, token = signed_in(client, session, settings, town)
    key_headers = make_key(session, town, "manage")
    for number in range(55):
        assert (
            client.post("/api/v1/teams", json={"name": f"Team {number}"}, headers=key_headers).status_code
            == 201
        )
    added = client.post(
        "/app/teams",
        data={"name": "Team van de beheerder", "csrf_token": token},
        headers=headers,
        follow_redirects=False,
    )
    assert added.status_code == 303
    elsewhere = make_key(session, make_municipality(session, "Gemeente Zuid"), "manage")
    client.post("/api/v1/teams", json={"name": "Team Elders"}, headers=elsewhere)
    first = client.get("/app/audit", headers=headers)
    assert first.status_code == 200
    total = len(session.exec(select(AuditEvent).where(AuditEvent.municipality_id == town.id)).all())
    assert f"1–50 van {total} gebeurtenissen" in text_of(first.text)
    assert 'rel="next"' in first.text and "/app/audit?page=2" in first.text
    second = client.get("/app/audit?page=2", headers=headers)
    assert f"51–{total} van {total}" in text_of(second.text) and 'rel="prev"' in second.text
    mine = client.get(f"/app/audit?actor=u{admin.id}&action=team.create", headers=headers)
    assert "1–1 van 1 gebeurtenissen" in text_of(mine.text)
    assert "selected>team.create" in mine.text.replace('"team.create" ', '"team.create"')
    paged = client.get(f"/app/audit?actor=u{admin.id}&action=team.create&page=1", headers=headers)
    assert paged.status_code == 200
    tomorrow = client.get("/app/audit?since=01-01-2099", headers=headers)
    assert "Geen gebeurtenissen met dit filter" in tomorrow.text
    today = client.get("/app/audit?since=2000-01-01&until=31-12-2099&action=team.create", headers=headers)
    assert "van 56 gebeurtenissen" in text_of(today.text)


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("since=gisteren", "since", "Vul een datum in"),
        ("until=32-13-2026", "until", "Vul een datum in"),
        ("since=02-12-2026&until=01-12-2026", "until", "vóór de begindatum"),
        ("actor=iemand", "actor", "Kies iemand uit de lijst."),
    ],
)
def test_a_filter_that_cannot_be_read_comes_back_with_its_message(
    client, session, settings, town, query, field, message
):
    _, headers, _ = signed_in(client, session, settings, town)
    refused = client.get(f"/app/audit?{query}", headers=headers)
    assert refused.status_code == 422 and message in refused.text
    assert re.search(rf'id="{field}"[^>]*aria-invalid="true"', refused.text)


# -- the report: nothing yet, downloads, feedback links ---------------------------------------------


def test_the_report_offers_the_downloads_the_role_allows(client, session, settings):
    seeded = seed(session, {"Noord": {"a": 9, "b": 3}}, missing=0.0)
    wave_id = seeded.wave.id
    coordinator = browser(session, settings, seeded.municipality)
    page = client.get(f"/app/waves/{wave_id}/report?form=jongere", headers=coordinator).text
    assert "/export?" not in page and "/feedback" not in page
    assert client.get(f"/app/waves/{wave_id}/export?format=csv", headers=coordinator).status_code == 403
    admin = browser(session, settings, seeded.municipality, "admin")
    page = client.get(f"/app/waves/{wave_id}/report?form=jongere", headers=admin).text
    assert f"/app/waves/{wave_id}/export?format=sav&amp;form=jongere" in page
    assert f'href="/app/waves/{wave_id}/feedback"' in page
    csv = client.get(f"/app/waves/{wave_id}/export?format=csv&form=jongere", headers=admin)
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv.headers["content-disposition"] and csv.headers["cache-control"] == "no-store"
    rows = pd.read_csv(io.BytesIO(csv.content), encoding="utf-8-sig")
    assert len(rows) == 9  # the published rows only, as the API gives them
    sav = client.get(f"/app/waves/{wave_id}/export?format=sav&form=jongere", headers=admin)
    assert sav.status_code == 200 and sav.content[:4] == b"$FL2"
    codebook = client.get(f"/app/waves/{wave_id}/codebook?form=jongere", headers=admin)
    assert codebook.status_code == 200 and "jg_gz_1" in codebook.text
    exports = session.exec(select(AuditEvent).where(AuditEvent.action == "responses.export")).all()
    assert len(exports) == 2 and all(event.wave_id == wave_id for event in exports)
    bad = client.get(f"/app/waves/{wave_id}/export?format=xls", headers=admin)
    assert bad.status_code == 422 and "text/html" in bad.headers["content-type"]


def test_a_researcher_downloads_from_two_municipalities(client, session, settings):
    north = seed(session, {"Noord": {"a": 6}}, missing=0.0)
    south = seed(session, {"Zuid": {"b": 7}}, missing=0.0)
    researcher = browser(session, settings, None, "researcher")
    for seeded in (north, south):
        page = client.get(f"/app/waves/{seeded.wave.id}/report?form=jongere", headers=researcher)
        assert page.status_code == 200 and "/export?format=sav" in page.text
        sav = client.get(f"/app/waves/{seeded.wave.id}/export?format=sav&form=jongere", headers=researcher)
        assert sav.status_code == 200 and sav.content[:4] == b"$FL2"


def test_feedback_links_are_made_shown_as_link_and_qr_and_revoked(client, session, settings, town):
    team = make_team(session, town, "Team Centrum")
    professional = make_professional(session, team, display_name="Sam Jansen")
    wave = make_wave(session, town)
    _, headers, token = signed_in(client, session, settings, town)
    page = client.get(f"/app/waves/{wave.id}/feedback", headers=headers)
    assert page.status_code == 200 and "Nog geen werkende feedbacklink." in page.text
    made = client.post(
        f"/app/waves/{wave.id}/feedback/{professional.id}",
        data={"csrf_token": token},
        headers=headers,
        follow_redirects=False,
    )
    assert made.status_code == 303
    link = session.exec(select(FeedbackLink)).one()
    shown = client.get(made.headers["location"], headers=headers).text
    assert f"/f/{link.token}" in shown and "<svg" in shown and "De feedbacklink is gemaakt." in shown
    assert client.get(f"/f/{link.token}").status_code == 200
    admin_id = link.created_by_user_id
    assert admin_id is not None and link.created_by_api_key_id is None
    read = session.exec(select(AuditEvent).where(AuditEvent.action == "feedback.read")).one()
    assert read.user_id == admin_id  # recorded under the account that made the link
    revoked = client.post(
        f"/app/waves/{wave.id}/feedback/links/{link.id}/revoke",
        data={"csrf_token": token},
        headers=headers,
        follow_redirects=False,
    )
    assert revoked.status_code == 303
    assert client.get(f"/f/{link.token}").status_code == 410
    after = client.get(f"/app/waves/{wave.id}/feedback", headers=headers).text
    assert f"/f/{link.token}" not in after and "1 ingetrokken of verlopen." in after
    actions = {event.action for event in session.exec(select(AuditEvent)).all()}
    assert {"feedback_link.create", "feedback_link.revoke"} <= actions


def test_no_feedback_links_where_the_wave_gives_no_feedback(client, session, settings, town):
    professional = make_professional(session, make_team(session, town))
    wave = make_wave(session, town)
    wave.professional_feedback = False
    session.add(wave)
    session.flush()
    _, headers, token = signed_in(client, session, settings, town)
    report = client.get(f"/app/waves/{wave.id}/report", headers=headers).text
    assert "/feedback" not in report
    page = client.get(f"/app/waves/{wave.id}/feedback", headers=headers)
    assert page.status_code == 200 and "staat feedback voor professionals uit" in page.text
    refused = client.post(
        f"/app/waves/{wave.id}/feedback/{professional.id}", data={"csrf_token": token}, headers=headers
    )
    assert refused.status_code == 409 and "text/html" in refused.headers["content-type"]
    assert session.exec(select(FeedbackLink)).all() == []


# -- Dutch error pages under /app/, problem+json elsewhere --------------------------------------------


def test_the_web_app_answers_errors_with_dutch_pages_and_the_api_with_problem_json(
    client, session, settings, town, app
):
    headers = browser(session, settings, town)
    cases = {
        "/app/users": (403, "Dit mag u niet openen"),
        "/app/waves/999999": (404, "Deze pagina bestaat niet"),
        "/app/bestaat-niet": (404, "Deze pagina bestaat niet"),
        "/app/waves/abc": (422, "Dat klopt niet helemaal"),
        "/app/waves/1/report?form=" + "x" * 40: (422, "Dat klopt niet helemaal"),
    }
    for path, (status, heading) in cases.items():
        response = client.get(path, headers=headers)
        assert response.status_code == status, path
        assert response.headers["content-type"].startswith("text/html"), path
        assert heading in response.text and 'href="/app/"' in response.text, path
        assert "Traceback" not in response.text and "<script" not in response.text
    wrong_method = client.get("/app/users/1/disable", headers=headers)
    assert wrong_method.status_code == 405 and "Dat kan op deze pagina niet" in wrong_method.text
    assert "text/html" in wrong_method.headers["content-type"] and "allow" in wrong_method.headers
    not_allowed = client.put("/app/teams", headers=headers)
    assert not_allowed.status_code in (403, 405)  # a write without the CSRF token is refused first
    assert "text/html" in not_allowed.headers["content-type"]
    api = client.get("/api/v1/waves/999999", headers=make_key(session, town, "manage"))
    assert api.status_code == 404 and api.headers["content-type"] == "application/problem+json"


def test_an_unexpected_error_is_a_dutch_page_not_a_stack_trace(session, settings, app):
    router = APIRouter()

    @router.get("/app/kapot")
    def broken() -> None:
        raise RuntimeError("geheim detail")

    @router.get("/api/v1/kapot")
    def broken_api() -> None:
        raise RuntimeError("geheim detail")

    app.include_router(router)
    with TestClient(app, raise_server_exceptions=False) as client:
        page = client.get("/app/kapot")
        assert page.status_code == 500 and "Er ging iets mis bij ons" in page.text
        assert "geheim" not in page.text and "Traceback" not in page.text
        api = client.get("/api/v1/kapot")
        assert api.status_code == 500 and api.headers["content-type"] == "application/problem+json"
        assert "geheim" not in api.text
