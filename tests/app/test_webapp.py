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
    # Opening the page publishes what is due (a's nine answers), as the report would; b's three wait.
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


# -- running a wave: teams, professionals, the CSV import, waves, sheets (app/webapp/running.py) --------

from datetime import timedelta  # noqa: E402

from app.db import utcnow  # noqa: E402
from app.models import AuditEvent, Invitation, Professional, Wave  # noqa: E402
from tests.factories.collection import make_invitation  # noqa: E402
from tests.factories.organisation import make_partner  # noqa: E402

RUN_PAGES = (
    "/app/waves",
    "/app/waves/new",
    "/app/teams/import",
    "/app/teams/{team}",
    "/app/professionals/{professional}",
    "/app/waves/{wave}",
    "/app/waves/{wave}/edit",
    "/app/waves/new?copy_of={wave}",
    "/app/waves/{wave}/sheets?team_id={team}",
)
RUN_FORMS = (
    ("/app/teams", {"name": "X"}),
    ("/app/partners", {"partner_name": "X"}),
    ("/app/teams/import", {"csv_text": "naam;rol;team\nA;b;Team Noord"}),
    ("/app/teams/import/confirm", {"csv_text": "naam;rol;team\nA;b;Team Noord"}),
    ("/app/teams/{team}", {"name": "Y"}),
    ("/app/teams/{team}/professionals", {"display_name": "A", "role": "b"}),
    ("/app/professionals/{professional}", {"display_name": "A", "role": "b", "team_id": "{team}"}),
    ("/app/professionals/{professional}/deactivate", {}),
    ("/app/professionals/{professional}/reactivate", {}),
    ("/app/waves/new", {"name": "W", "opens_on": "2027-03-01"}),
    ("/app/waves/{wave}/edit", {"name": "W", "opens_on": "2027-03-01"}),
    ("/app/waves/{wave}/close", {}),
    ("/app/waves/{wave}/links", {}),
    ("/app/waves/{wave}/personal-links", {"team_id": "{team}", "form": "jongere", "count": "1"}),
)


@pytest.fixture
def world(session: Session, town):
    team = make_team(session, town, "Team Noord")
    professional = make_professional(session, team, display_name="Sam Jansen", code="SAM-1")
    wave = make_wave(session, town, opens_at=utcnow() - timedelta(days=3))
    make_invitation(session, wave, professional, form="jongere")
    make_invitation(session, wave, professional, form="professional")
    return {"team": team.id, "professional": professional.id, "wave": wave.id}


def follow(client, response, headers):
    """The page a form's 303 leads to, opened with the same browser's cookie."""
    assert response.status_code == 303, (response.status_code, response.text[:300])
    return client.get(response.headers["location"], headers=headers)


def filled(template: str, ids: dict[str, int]) -> str:
    return template.format(**ids)


def form_data(values: dict[str, str], ids: dict[str, int], token: str | None) -> dict[str, str]:
    data = {key: filled(value, ids) for key, value in values.items()}
    if token is not None:
        data["csrf_token"] = token
    return data


def test_every_running_page_opens_for_a_coordinator_without_script(client, session, settings, town, world):
    headers = browser(session, settings, town)
    for page in RUN_PAGES:
        response = client.get(filled(page, world), headers=headers)
        assert response.status_code == 200, (page, response.text[:300])
        assert "<script" not in response.text, page
        if "sheets" not in page:
            for form in re.findall(r"<form[^>]*method=\"post\".*?</form>", response.text, re.S):
                assert 'name="csrf_token"' in form, (page, form[:200])


def test_another_municipalitys_ids_are_not_found_on_every_page_and_form(client, session, settings, world):
    elsewhere = make_municipality(session, "Gemeente Zuid")
    headers = browser(session, settings, elsewhere)
    token = csrf_of(client.get("/app/teams", headers=headers).text)
    for page in RUN_PAGES:
        if "{" not in page:
            continue
        response = client.get(filled(page, world), headers=headers)
        assert response.status_code == 404, (page, response.status_code)
    for action, values in RUN_FORMS:
        if "{" not in action:
            continue
        response = client.post(
            filled(action, world),
            data=form_data(values, world, token),
            headers=headers,
            follow_redirects=False,
        )
        assert response.status_code == 404, (action, response.status_code, response.text[:200])
    assert session.get(Professional, world["professional"]).deactivated_at is None
    assert session.get(Professional, world["professional"]).display_name == "Sam Jansen"


def test_a_role_without_manage_gets_403_on_every_page_and_form(client, session, settings, town, world):
    researcher = browser(session, settings, town, "researcher")
    token = csrf_of(client.get("/app/", headers=researcher).text)
    for page in RUN_PAGES:
        assert client.get(filled(page, world), headers=researcher).status_code == 403, page
    for action, values in RUN_FORMS:
        response = client.post(
            filled(action, world), data=form_data(values, world, token), headers=researcher
        )
        assert response.status_code == 403, (action, response.status_code)
    home = client.get("/app/", headers=researcher).text
    assert 'href="/app/waves"' not in home and 'href="/app/teams"' not in home


def test_every_form_needs_the_csrf_token(client, session, settings, town, world):
    headers = browser(session, settings, town)
    before = session.exec(select(AuditEvent)).all()
    for action, values in RUN_FORMS:
        response = client.post(filled(action, world), data=form_data(values, world, None), headers=headers)
        assert response.status_code == 403, (action, response.status_code)
    assert session.exec(select(AuditEvent)).all() == before
    assert session.get(Professional, world["professional"]).deactivated_at is None


def test_signed_out_the_running_pages_go_to_the_sign_in(client, session, world):
    for page in RUN_PAGES:
        response = client.get(filled(page, world), follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/login", page


def test_the_import_previews_every_row_and_stores_all_or_nothing(client, session, settings, town, world):
    make_partner(session, town, "Politie")
    headers = browser(session, settings, town)
    token = csrf_of(client.get("/app/teams/import", headers=headers).text)
    csv_bad = (
        "naam;rol;team;partner;code\n"
        "Noor;wijkagent;team noord;Politie;NOOR-1\n"
        "Ali;jongerenwerker;Team Nergens;;\n"
        "Kim;;Team Noord;;SAM-1\n"
    )
    preview = client.post(
        "/app/teams/import",
        files={"file": ("team.csv", csv_bad.encode("utf-8"), "text/csv")},
        data={"csrf_token": token},
        headers=headers,
    )
    assert preview.status_code == 422
    shown = text_of(preview.text)
    assert "2 regels kunnen niet worden ingelezen" in shown
    assert "Regel 3: Team ‘Team Nergens’ bestaat niet" in shown
    assert "Regel 4: Rol: Vul dit in. Code ‘SAM-1’ is al in gebruik." in shown
    assert "Wordt toegevoegd" in shown  # Noor's row is fine
    assert "opslaan</button>" not in preview.text  # nothing to confirm while a row is refused
    # Confirming the bad file anyway (a forged post) stores nothing.
    refused = client.post(
        "/app/teams/import/confirm", data={"csv_text": csv_bad, "csrf_token": token}, headers=headers
    )
    assert refused.status_code == 422
    assert session.exec(select(Professional).where(Professional.display_name == "Noor")).all() == []
    good = (
        "naam,rol,team,partner,code\r\n"
        "Noor,wijkagent,Team Noord,politie,NOOR-1\r\n"
        "Ali,jongerenwerker,Team Noord,,\r\n"
    )
    preview = client.post(
        "/app/teams/import",
        files={"file": ("team.csv", good.encode("cp1252"), "text/csv")},
        data={"csrf_token": token},
        headers=headers,
    )
    assert preview.status_code == 200 and "2 professionals opslaan" in preview.text
    stored = client.post(
        "/app/teams/import/confirm",
        data={"csv_text": good, "csrf_token": csrf_of(preview.text)},
        headers=headers,
        follow_redirects=False,
    )
    assert stored.status_code == 303 and stored.headers["location"] == "/app/teams?imported=2"
    names = {p.display_name: p for p in session.exec(select(Professional)).all()}
    assert set(names) == {"Sam Jansen", "Noor", "Ali"}
    assert names["Noor"].code == "NOOR-1" and names["Noor"].partner_id is not None
    assert names["Ali"].code and names["Ali"].team_id == world["team"]
    created = session.exec(select(AuditEvent).where(AuditEvent.action == "professional.create")).all()
    assert len(created) == 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Kies een CSV-bestand."),
        ("naam;team\nA;Team Noord\n", "De eerste regel mist de kolom ‘rol’"),
        ("naam;rol;team\n", "Het bestand heeft geen regels onder de kolomnamen."),
    ],
)
def test_an_unreadable_import_says_why(client, session, settings, town, world, text, message):
    headers = browser(session, settings, town)
    token = csrf_of(client.get("/app/teams/import", headers=headers).text)
    refused = client.post("/app/teams/import", data={"csv_text": text, "csrf_token": token}, headers=headers)
    assert refused.status_code == 422 and message in refused.text


def test_a_professional_is_added_edited_moved_and_deactivated(client, session, settings, town, world):
    other = make_team(session, town, "Team Zuid")
    partner = make_partner(session, town, "Welzijn")
    headers = browser(session, settings, town)
    team_page = client.get(f"/app/teams/{world['team']}", headers=headers)
    token = csrf_of(team_page.text)
    refused = client.post(
        f"/app/teams/{world['team']}/professionals",
        data={"display_name": "Noor", "role": "", "code": "SAM-1", "csrf_token": token},
        headers=headers,
    )
    assert refused.status_code == 422
    assert 'id="role-error"' in refused.text and 'value="Noor"' in refused.text
    taken = client.post(
        f"/app/teams/{world['team']}/professionals",
        data={"display_name": "Noor", "role": "wijkagent", "code": "SAM-1", "csrf_token": token},
        headers=headers,
    )
    assert taken.status_code == 422 and "Deze code is al in gebruik" in taken.text
    assert 'value="wijkagent"' in taken.text
    added = client.post(
        f"/app/teams/{world['team']}/professionals",
        data={
            "display_name": "Noor",
            "role": "wijkagent",
            "partner_id": str(partner.id),
            "csrf_token": token,
        },
        headers=headers,
        follow_redirects=False,
    )
    assert added.status_code == 303
    noor = session.exec(select(Professional).where(Professional.display_name == "Noor")).one()
    assert noor.partner_id == partner.id
    moved = client.post(
        f"/app/professionals/{noor.id}",
        data={
            "display_name": "Noor B",
            "role": "wijkagent",
            "team_id": str(other.id),
            "partner_id": "",
            "code": "",
            "csrf_token": token,
        },
        headers=headers,
        follow_redirects=False,
    )
    assert moved.status_code == 303
    session.refresh(noor)
    assert (noor.display_name, noor.team_id, noor.partner_id) == ("Noor B", other.id, None)
    bad_code = client.post(
        f"/app/professionals/{noor.id}",
        data={
            "display_name": "Noor B",
            "role": "x",
            "team_id": str(other.id),
            "code": "met spatie",
            "csrf_token": token,
        },
        headers=headers,
    )
    assert bad_code.status_code == 422 and 'value="met spatie"' in bad_code.text
    assert "Gebruik alleen letters, cijfers" in bad_code.text
    elsewhere_team = make_team(session, make_municipality(session, "Gemeente Zuid"), "Team Elders")
    foreign = client.post(
        f"/app/professionals/{noor.id}",
        data={"display_name": "Noor B", "role": "x", "team_id": str(elsewhere_team.id), "csrf_token": token},
        headers=headers,
    )
    assert foreign.status_code == 422 and "Kies een team uit de lijst" in foreign.text
    session.refresh(noor)
    assert noor.team_id == other.id and noor.role == "wijkagent"
    # Deactivating revokes the links at once.
    sam = world["professional"]
    stopped = client.post(
        f"/app/professionals/{sam}/deactivate",
        data={"csrf_token": token},
        headers=headers,
        follow_redirects=False,
    )
    assert "gestopt op" in follow(client, stopped, headers).text
    links = session.exec(select(Invitation).where(Invitation.professional_id == sam)).all()
    assert links and all(link.revoked_at is not None for link in links)


def test_a_wave_is_created_with_plain_days_and_refused_input_comes_back(
    client, session, settings, town, world
):
    headers = browser(session, settings, town)
    page = client.get("/app/waves/new", headers=headers)
    token = csrf_of(page.text)
    assert 'name="modules"' in page.text and 'name="professional_feedback"' in page.text
    refused = client.post(
        "/app/waves/new",
        data={"name": "Voorjaar", "opens_on": "1-3-2027", "closes_on": "1-2-2027", "csrf_token": token},
        headers=headers,
    )
    assert refused.status_code == 422
    assert "De laatste dag moet na de eerste dag liggen." in refused.text
    assert 'value="Voorjaar"' in refused.text and 'value="1-2-2027"' in refused.text
    assert 'href="#closes_on"' in refused.text
    nonsense = client.post(
        "/app/waves/new", data={"name": "", "opens_on": "morgen", "csrf_token": token}, headers=headers
    )
    assert nonsense.status_code == 422
    assert 'id="name-error"' in nonsense.text and 'id="opens_on-error"' in nonsense.text
    made = client.post(
        "/app/waves/new",
        data={
            "name": "Voorjaar 2027",
            "opens_on": "1-3-2027",
            "closes_on": "2027-03-31",
            "modules": "bejegening",
            "csrf_token": token,
        },
        headers=headers,
        follow_redirects=False,
    )
    assert made.status_code == 303
    wave = session.exec(select(Wave).where(Wave.name == "Voorjaar 2027")).one()
    assert wave.module_ids == ("bejegening",) and wave.professional_feedback is False
    assert f"{wave.opens_at:%Y-%m-%d %H:%M}" == "2027-02-28 23:00"  # 1 March, Amsterdam
    assert f"{wave.closes_at:%Y-%m-%d %H:%M}" == "2027-03-31 22:00"  # through 31 March
    edit = client.get(f"/app/waves/{wave.id}/edit", headers=headers).text
    assert 'value="2027-03-01"' in edit and 'value="2027-03-31"' in edit
    unknown = client.post(
        f"/app/waves/{wave.id}/edit",
        data={
            "name": "Voorjaar 2027",
            "opens_on": "2027-03-01",
            "modules": "geen_module",
            "csrf_token": token,
        },
        headers=headers,
    )
    assert unknown.status_code == 422 and 'id="modules-error"' in unknown.text
    session.refresh(wave)
    assert wave.module_ids == ("bejegening",)


def test_copying_the_last_wave_copies_its_professionals_and_modules(client, session, settings, town, world):
    gone = make_professional(session, session.get(Team, world["team"]), display_name="Weg", code="WEG-1")
    old = session.get(Wave, world["wave"])
    old.modules = "bejegening"
    session.add(old)
    make_invitation(session, old, gone, form="ouder")
    make_professional(session, session.get(Team, world["team"]), display_name="Nieuw", code="NIEUW-1")
    headers = browser(session, settings, town)
    waves_page = client.get("/app/waves", headers=headers).text
    assert f'href="/app/waves/new?copy_of={old.id}"' in waves_page
    form = client.get(f"/app/waves/new?copy_of={old.id}", headers=headers).text
    assert 'name="copy_of"' in form and "checked" in form
    token = csrf_of(form)
    stopped = client.post(
        f"/app/professionals/{gone.id}/deactivate",
        data={"csrf_token": token},
        headers=headers,
        follow_redirects=False,
    )
    assert stopped.status_code == 303
    made = client.post(
        "/app/waves/new",
        data={
            "name": "Najaar",
            "opens_on": (utcnow() - timedelta(days=1)).strftime("%Y-%m-%d"),
            "modules": "bejegening",
            "professional_feedback": "on",
            "copy_of": str(old.id),
            "csrf_token": token,
        },
        headers=headers,
        follow_redirects=False,
    )
    assert made.status_code == 303
    new = session.exec(select(Wave).where(Wave.name == "Najaar")).one()
    links = session.exec(select(Invitation).where(Invitation.wave_id == new.id)).all()
    # Sam's two links again; the one who stopped and the one without links in the old wave get none.
    assert sorted((link.professional_id, link.form) for link in links) == [
        (world["professional"], "jongere"),
        (world["professional"], "professional"),
    ]
    assert new.module_ids == ("bejegening",) and new.professional_feedback


def test_the_wave_page_shows_link_states_and_closes_early(client, session, settings, town, world):
    headers = browser(session, settings, town)
    page = client.get(f"/app/waves/{world['wave']}", headers=headers)
    shown = text_of(page.text)
    assert re.search(
        r"Sam Jansen: 0 antwoorden ontvangen .*? nog 5 antwoorden nodig\. Link: open link actief", shown
    )
    assert "Professionals (zelf): link: open link actief" in shown
    token = csrf_of(page.text)
    made = client.post(
        f"/app/waves/{world['wave']}/links",
        data={"csrf_token": token},
        headers=headers,
        follow_redirects=False,
    )
    assert "1 link gemaakt" in follow(client, made, headers).text  # the ouder form had none
    closed = client.post(
        f"/app/waves/{world['wave']}/close",
        data={"csrf_token": token},
        headers=headers,
        follow_redirects=False,
    )
    assert "De meetronde is gesloten" in follow(client, closed, headers).text
    wave = session.get(Wave, world["wave"])
    assert wave.closes_at is not None and wave.closes_at <= utcnow()
    # a closed wave's sheets (an old bookmark) lead back to the wave page, which says why
    sheets = client.get(
        f"/app/waves/{world['wave']}/sheets?team_id={world['team']}", headers=headers, follow_redirects=False
    )
    assert sheets.status_code == 303
    page = follow(client, sheets, headers)
    assert page.status_code == 200 and "de QR-codes werken niet meer" in page.text
    assert "/s/" not in page.text.split("de QR-codes werken niet meer")[0][-200:]


def test_the_team_sheet_has_each_link_as_text_and_never_the_self_report(
    client, session, settings, town, world
):
    team = session.get(Team, world["team"])
    noor = make_professional(session, team, display_name="Noor", code="NOOR-1")
    wave = session.get(Wave, world["wave"])
    theirs = make_invitation(session, wave, noor, form="ouder")
    other_wave = make_wave(session, town)
    make_invitation(session, other_wave, noor, form="jongere")
    headers = browser(session, settings, town)
    sheet = client.get(f"/app/waves/{wave.id}/sheets?team_id={team.id}", headers=headers)
    assert sheet.status_code == 200 and "<script" not in sheet.text
    links = session.exec(select(Invitation)).all()
    by_form = {(link.professional_id, link.wave_id, link.form): link for link in links}
    sam_jongere = by_form[(world["professional"], wave.id, "jongere")]
    sam_self = by_form[(world["professional"], wave.id, "professional")]
    assert f"/s/{sam_jongere.token}</p>" in sheet.text and f"/s/{theirs.token}</p>" in sheet.text
    assert sam_self.token not in sheet.text
    assert by_form[(noor.id, other_wave.id, "jongere")].token not in sheet.text  # another wave's link
    assert sheet.text.count('class="page"') == 2 and sheet.text.count("<svg") == 2


def test_personal_links_come_as_an_injection_safe_csv(client, session, settings, town, world):
    team = session.get(Team, world["team"])
    make_professional(session, team, display_name="=HYPERLINK(1)", code="X-1")
    headers = browser(session, settings, town)
    token = csrf_of(client.get(f"/app/waves/{world['wave']}", headers=headers).text)
    refused = client.post(
        f"/app/waves/{world['wave']}/personal-links",
        data={"team_id": str(team.id), "form": "ouder", "count": "0", "csrf_token": token},
        headers=headers,
    )
    assert refused.status_code == 422 and 'id="count-error"' in refused.text and 'value="0"' in refused.text
    csv_file = client.post(
        f"/app/waves/{world['wave']}/personal-links",
        data={"team_id": str(team.id), "form": "ouder", "count": "2", "csrf_token": token},
        headers=headers,
    )
    assert csv_file.status_code == 200 and csv_file.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv_file.headers["content-disposition"]
    rows = csv_file.content.decode("utf-8-sig").splitlines()
    assert rows[0] == "naam,rol,team,code,vragenlijst,link,werkt_tot" and len(rows) == 5
    assert any(row.startswith("'=HYPERLINK(1)") for row in rows)
    personal = session.exec(select(Invitation).where(Invitation.kind == "personal")).all()
    assert len(personal) == 4 and all(f"/s/{link.token}" in csv_file.text for link in personal)


def test_the_overview_shows_received_published_and_held_back_per_form(client, session, settings):
    seeded = seed(session, {"Noord": {"a": 9, "b": 3}}, missing=0.0)
    headers = browser(session, settings, seeded.municipality)
    assert client.get(f"/app/waves/{seeded.wave.id}/report?form=jongere", headers=headers).status_code == 200
    home = client.get("/app/", headers=headers)
    assert home.status_code == 200 and "<script" not in home.text
    shown = text_of(home.text)
    assert "Jongeren Ontvangen 12 Gepubliceerd 9 Achtergehouden 3 (te weinig antwoorden" in shown
    assert "1 professional is gepubliceerd, 1 wacht nog op genoeg antwoorden" in shown
    assert "Rapport bijgewerkt op" in shown
    assert home.text.count('class="daychart"') >= 1 and "<rect" in home.text
