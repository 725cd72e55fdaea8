"""The coordinator's web app under /app/: teams, a wave's progress, its report, the admin lists."""

from __future__ import annotations

import re

import pytest
from sqlmodel import Session, select

from app.models import Team
from tests.app.test_reports import seed
from tests.factories.collection import make_wave
from tests.factories.organisation import make_key, make_municipality, make_professional, make_team
from tests.factories.users import make_user, signed_in_headers

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PAGES = ("/app/teams", "/app/waves/{wave}", "/app/waves/{wave}/report?form=jongere")
ADMIN_PAGES = ("/app/users", "/app/apikeys", "/app/audit")


@pytest.fixture
def town(session: Session):
    return make_municipality(session, "Gemeente Noord")


def browser(session, settings, municipality, role: str = "coordinator") -> dict[str, str]:
    """A signed-in browser's cookie only: forms must bring the page's csrf_token themselves."""
    headers = signed_in_headers(session, settings, make_user(session, municipality, role))
    return {"Cookie": headers["Cookie"]}


def csrf_of(text: str) -> str:
    found = CSRF.search(text)
    assert found, text[:500]
    return found.group(1)


def text_of(html: str) -> str:
    """The page's visible words, one space apart."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_signed_out_every_page_goes_to_the_sign_in(client, session, town):
    wave = make_wave(session, town)
    for page in (*PAGES, *ADMIN_PAGES):
        response = client.get(page.format(wave=wave.id), follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/login", page
    refused = client.post("/app/teams", data={"name": "Team Zuid"}, follow_redirects=False)
    assert refused.status_code == 303 and refused.headers["location"] == "/login"
    assert session.exec(select(Team)).all() == []


def test_teams_lists_the_municipalitys_teams_and_adds_one(client, session, settings, town):
    make_team(session, town, "Team Noord")
    make_team(session, make_municipality(session, "Gemeente Zuid"), "Team Elders")
    headers = browser(session, settings, town)
    page = client.get("/app/teams", headers=headers)
    assert page.status_code == 200
    assert "Team Noord" in page.text and "Team Elders" not in page.text
    assert "<script" not in page.text
    assert re.search(r'<label for="name">[^<]+</label>', page.text)
    assert 'name="name"' in page.text and 'method="post"' in page.text
    added = client.post(
        "/app/teams",
        data={"name": "  Team Zuid  ", "csrf_token": csrf_of(page.text)},
        headers=headers,
        follow_redirects=False,
    )
    assert added.status_code == 303
    assert added.headers["location"].startswith("/app/teams?added=")
    after = client.get(added.headers["location"], headers=headers)
    assert "Team ‘Team Zuid’ is toegevoegd" in after.text
    teams = session.exec(select(Team).where(Team.municipality_id == town.id)).all()
    assert sorted(team.name for team in teams) == ["Team Noord", "Team Zuid"]


@pytest.mark.parametrize(
    ("name", "message"),
    [("   ", "Vul de naam van het team in."), ("x" * 201, "De naam is te lang: hoogstens 200 tekens.")],
)
def test_a_refused_name_comes_back_in_the_form_with_its_message(
    client, session, settings, town, name, message
):
    headers = browser(session, settings, town)
    token = csrf_of(client.get("/app/teams", headers=headers).text)
    refused = client.post("/app/teams", data={"name": name, "csrf_token": token}, headers=headers)
    assert refused.status_code == 422
    assert message in refused.text
    assert 'aria-invalid="true"' in refused.text and 'href="#name"' in refused.text
    assert f'value="{name}"' in refused.text  # the value is kept
    assert session.exec(select(Team)).all() == []


def test_adding_a_team_needs_the_csrf_token_and_the_manage_role(client, session, settings, town):
    headers = browser(session, settings, town)
    assert client.post("/app/teams", data={"name": "Team Zuid"}, headers=headers).status_code == 403
    researcher = browser(session, settings, None, "researcher")
    assert client.get("/app/teams", headers=researcher).status_code == 403
    assert session.exec(select(Team)).all() == []


def test_the_wave_page_shows_counts_published_and_what_is_still_needed(client, session, settings):
    # a: 9 answers (published), b: 3 (waiting, 2 more needed), c: none yet.
    seeded = seed(session, {"Noord": {"a": 9, "b": 3}}, missing=0.0)
    make_professional(session, seeded.teams["Noord"], display_name="Naam c", code="C-c")
    headers = browser(session, settings, seeded.municipality)
    wave_id = seeded.wave.id
    before = text_of(client.get(f"/app/waves/{wave_id}", headers=headers).text)
    assert "Er is nog niets gepubliceerd" in before
    assert "Naam b: 3 antwoorden ontvangen" in before
    # Reading the report publishes what is due (a's nine answers); b's three keep waiting.
    assert client.get(f"/app/waves/{wave_id}/report?form=jongere", headers=headers).status_code == 200
    page = client.get(f"/app/waves/{wave_id}", headers=headers)
    assert page.status_code == 200 and "<script" not in page.text
    shown = text_of(page.text)
    assert "Het rapport is het laatst bijgewerkt op" in shown
    assert re.search(
        r"Naam a: 9 antwoorden ontvangen .*? Jongeren: 9 ontvangen, 9 gepubliceerd; alles", shown
    )
    assert re.search(
        r"Naam b: 3 antwoorden ontvangen .*? Jongeren: 3 ontvangen, 0 gepubliceerd, nog 2 antwoorden nodig",
        shown,
    )
    assert re.search(
        r"Naam c: 0 antwoorden ontvangen .*? Jongeren: 0 ontvangen, 0 gepubliceerd, nog 5", shown
    )
    assert "Naam b" not in shown[: shown.index("Naam a")]  # in the order of the team, then the name


def test_another_municipalitys_wave_is_not_found(client, session, settings, town):
    elsewhere = make_wave(session, make_municipality(session, "Gemeente Zuid"))
    headers = browser(session, settings, town)
    assert client.get(f"/app/waves/{elsewhere.id}", headers=headers).status_code == 404
    assert client.get(f"/app/waves/{elsewhere.id}/report?form=jongere", headers=headers).status_code == 404
    assert client.get("/app/waves/999999", headers=headers).status_code == 404


def test_the_report_answers_before_any_response_and_says_nothing_is_published(
    client, session, settings, town
):
    wave = make_wave(session, town)
    headers = browser(session, settings, town)
    for form in ("jongere", "ouder", "professional"):
        page = client.get(f"/app/waves/{wave.id}/report", params={"form": form}, headers=headers)
        assert page.status_code == 200, page.text
        assert "text/html" in page.headers["content-type"]
        assert "<script" not in page.text
        assert "nog niets gepubliceerd" in page.text
    assert client.get(f"/app/waves/{wave.id}/report?form=geen", headers=headers).status_code == 422


def test_the_report_shows_the_published_cut_only(client, session, settings):
    seeded = seed(session, {"Noord": {"a": 9, "b": 3}}, missing=0.0)
    headers = browser(session, settings, seeded.municipality, "admin")
    html = client.get(f"/app/waves/{seeded.wave.id}/report?form=jongere", headers=headers).text
    assert "C-a" in html and "C-b" not in html


def test_a_coordinator_gets_403_on_the_admin_pages(client, session, settings, town):
    headers = browser(session, settings, town)
    for page in ADMIN_PAGES:
        assert client.get(page, headers=headers).status_code == 403, page
    home = client.get("/app/teams", headers=headers).text
    assert 'href="/app/users"' not in home  # what a role may not do, it does not see


def test_an_admin_reads_users_keys_without_secrets_and_the_audit_trail(client, session, settings, town):
    make_user(session, town, "coordinator", email="sam@noord.example", name="Sam Jansen")
    make_user(session, make_municipality(session, "Gemeente Zuid"), email="ali@zuid.example")
    key_headers = make_key(session, town, "manage")
    secret = key_headers["Authorization"].removeprefix("Bearer ")
    assert client.post("/api/v1/teams", json={"name": "Team via API"}, headers=key_headers).status_code == 201
    headers = browser(session, settings, town, "admin")
    users = client.get("/app/users", headers=headers)
    assert users.status_code == 200
    assert "sam@noord.example" in users.text and "Sam Jansen" in users.text
    assert "ali@zuid.example" not in users.text
    keys = client.get("/app/apikeys", headers=headers)
    assert keys.status_code == 200 and "test key" in keys.text
    assert secret not in keys.text and secret[:6] in keys.text
    trail = client.get("/app/audit", headers=headers)
    assert trail.status_code == 200 and "team.create" in trail.text


def test_the_overview_links_to_the_pages_a_role_may_open(client, session, settings, town):
    wave = make_wave(session, town)
    coordinator = client.get("/app/", headers=browser(session, settings, town)).text
    assert f'href="/app/waves/{wave.id}"' in coordinator and 'href="/app/teams"' in coordinator
    assert 'href="/app/audit"' not in coordinator
    admin = client.get("/app/", headers=browser(session, settings, town, "admin")).text
    assert all(f'href="{page}"' in admin for page in ADMIN_PAGES)
    researcher = client.get("/app/", headers=browser(session, settings, None, "researcher")).text
    assert 'href="/app/teams"' not in researcher and f'href="/app/waves/{wave.id}"' not in researcher


def test_a_wave_that_publishes_per_team_shows_the_teams_progress(client, session, settings):
    seeded = seed(session, {"Noord": {"a": 2, "b": 1}}, missing=0.0)
    seeded.wave.professional_feedback = False
    session.add(seeded.wave)
    session.flush()
    shown = text_of(
        client.get(
            f"/app/waves/{seeded.wave.id}", headers=browser(session, settings, seeded.municipality)
        ).text
    )
    assert "Naam a: 2 antwoorden ontvangen" in shown and "gepubliceerd per team" in shown
    assert re.search(r"Per team .*? Noord Jongeren: 3 wachten, nog 2 antwoorden nodig", shown)
