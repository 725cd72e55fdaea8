"""The web app's pages in a real Chromium, on a phone and a laptop: a coordinator adds a team (one
refused name first), opens a wave's progress and its report; axe-core on every page.

The server, the browser and the axe check are those of ``test_phone_form.py``.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlmodel import Session

from tests.browser import test_sign_in as sign_in_pages
from tests.browser.test_phone_form import Server, assert_accessible, shoot
from tests.browser.test_sign_in import SCREENS, check, sign_in, size_of
from tests.factories.collection import make_wave
from tests.factories.organisation import make_municipality, make_professional, make_team
from tests.factories.users import make_user

pytestmark = pytest.mark.browser

browser = sign_in_pages.browser
sqlite_server = sign_in_pages.sqlite_server
screen = sign_in_pages.screen


def coordinator_with_a_wave(server: Server) -> tuple[str, int]:
    with Session(server.database.engine, expire_on_commit=False) as session:
        municipality = make_municipality(session, f"Gemeente {uuid.uuid4().hex[:6]}")
        team = make_team(session, municipality, "Team Centrum")
        make_professional(session, team, display_name="Sam Jansen")
        wave = make_wave(session, municipality)
        user = make_user(session, municipality, "coordinator")
        session.commit()
        assert wave.id is not None
        return user.email, wave.id


@pytest.mark.parametrize("screen", list(SCREENS), indirect=True)
def test_teams_wave_and_report_pages(sqlite_server: Server, screen: Any) -> None:
    page, server = screen, sqlite_server
    name = f"webapp-{size_of(page)}"
    email, wave_id = coordinator_with_a_wave(server)
    sign_in(page, server, email)
    page.wait_for_url("**/app/")

    page.goto(f"{server.base_url}/app/teams")
    assert "Team Centrum" in page.content()
    check(page, f"{name}-teams")
    page.get_by_label("Naam van het team").fill("   ")
    page.get_by_role("button", name="Team toevoegen").click()
    assert page.locator(".error-summary").is_visible()
    check(page, f"{name}-teams-error")
    page.get_by_label("Naam van het team").fill("Team Oost")
    page.get_by_role("button", name="Team toevoegen").click()
    page.wait_for_url("**/app/teams?added=*")
    assert page.get_by_role("status").inner_text() == "Team ‘Team Oost’ is toegevoegd."
    check(page, f"{name}-teams-added")

    page.goto(f"{server.base_url}/app/waves/{wave_id}")
    assert "Sam Jansen: 0 antwoorden ontvangen" in page.locator("main").inner_text()
    assert "nog 5 antwoorden nodig" in page.locator("main").inner_text()
    check(page, f"{name}-wave")
    with page.expect_navigation():
        page.get_by_role("link", name="Rapport Jongeren").click()
    assert page.title() and "nog niets gepubliceerd" in page.content()
    # The report's own page (app/reports) is checked by its tests; here it is only kept as a picture.
    shoot(page, f"{name}-report")


def researcher_and_two_municipalities(server: Server) -> tuple[str, list[tuple[str, int]]]:
    """Two municipalities with a published wave each (nine answers about one professional), and a
    research account that reads both; returns its e-mail and (municipality name, wave id) pairs."""
    from tests.app.test_reports import seed

    with Session(server.database.engine, expire_on_commit=False) as session:
        waves = []
        for place in ("Noord", "Zuid"):
            municipality = make_municipality(session, f"Gemeente {place} {uuid.uuid4().hex[:4]}")
            seeded = seed(
                session, {f"Team {place}": {place.lower(): 9}}, municipality=municipality, missing=0.0
            )
            assert seeded.wave.id is not None
            waves.append((municipality.name, seeded.wave.id))
        user = make_user(session, None, "researcher")
        session.commit()
        return user.email, waves


@pytest.mark.parametrize("screen", list(SCREENS), indirect=True)
def test_a_researcher_reads_two_municipalities_and_downloads_the_sav(
    sqlite_server: Server, screen: Any, tmp_path: Any
) -> None:
    page, server = screen, sqlite_server
    name = f"webapp-researcher-{size_of(page)}"
    email, waves = researcher_and_two_municipalities(server)
    sign_in(page, server, email)
    page.wait_for_url("**/app/")
    for number, (_, wave_id) in enumerate(waves, start=1):
        page.goto(f"{server.base_url}/app/waves/{wave_id}/report?form=jongere")
        assert page.locator("nav.apppanel").is_visible()
        assert page.get_by_role("link", name="antwoorden als SPSS (.sav)").is_visible()
        assert page.get_by_role("link", name="Feedbacklinks per professional").count() == 0  # reads only
        # The report's own page (its wide tables) is checked by its tests: here axe and a picture.
        shoot(page, f"{name}-report-{number}")
        assert_accessible(page, f"{name}-report-{number}")
        with page.expect_download() as download_info:
            page.get_by_role("link", name="antwoorden als SPSS (.sav)").click()
        download = download_info.value
        assert download.suggested_filename.endswith(".sav")
        saved = tmp_path / f"{number}-{download.suggested_filename}"
        download.save_as(saved)
        assert saved.read_bytes()[:4] == b"$FL2"
    page.goto(f"{server.base_url}/app/teams")  # a researcher manages nothing: a Dutch 403 page
    assert "Dit mag u niet openen" in page.content()
    check(page, f"{name}-403")


def admin_with_a_professional(server: Server) -> tuple[str, int]:
    with Session(server.database.engine, expire_on_commit=False) as session:
        municipality = make_municipality(session, f"Gemeente {uuid.uuid4().hex[:6]}")
        make_professional(
            session, make_team(session, municipality, "Team Centrum"), display_name="Sam Jansen"
        )
        wave = make_wave(session, municipality)
        user = make_user(session, municipality, "admin")
        session.commit()
        assert wave.id is not None
        return user.email, wave.id


@pytest.mark.parametrize("screen", list(SCREENS), indirect=True)
def test_an_admin_invites_makes_a_key_reads_the_trail_and_makes_a_feedback_link(
    sqlite_server: Server, screen: Any
) -> None:
    page, server = screen, sqlite_server
    name = f"webapp-admin-{size_of(page)}"
    email, wave_id = admin_with_a_professional(server)
    sign_in(page, server, email)
    page.wait_for_url("**/app/")

    page.goto(f"{server.base_url}/app/users")
    check(page, f"{name}-users")
    page.get_by_label("Naam", exact=True).fill("Ali Yilmaz")
    page.get_by_label("E-mailadres").fill("geen-adres")
    page.get_by_role("button", name="Uitnodiging versturen").click()
    assert page.locator(".error-summary").is_visible()
    assert page.get_by_label("Naam", exact=True).input_value() == "Ali Yilmaz"  # kept
    check(page, f"{name}-users-error")
    page.get_by_label("E-mailadres").fill(f"ali-{uuid.uuid4().hex[:6]}@gemeente.example")
    page.get_by_role("button", name="Uitnodiging versturen").click()
    assert "Ali Yilmaz is uitgenodigd" in page.content()
    check(page, f"{name}-users-invited")

    page.goto(f"{server.base_url}/app/apikeys")
    page.get_by_label("Naam van de sleutel").fill("Koppeling")
    page.get_by_role("button", name="Sleutel maken").click()
    assert page.locator(".error-summary").is_visible()  # no scope chosen
    check(page, f"{name}-apikeys-error")
    page.get_by_label("rapporten lezen").check()
    page.get_by_role("button", name="Sleutel maken").click()
    assert page.locator(".secret-once code").inner_text().startswith("vb_")
    check(page, f"{name}-apikeys-created")

    page.goto(f"{server.base_url}/app/audit")
    assert "apikey.create" in page.content()
    page.get_by_label("Vanaf (datum)").fill("gisteren")
    page.get_by_role("button", name="Filteren").click()
    assert page.locator(".error-summary").is_visible()
    check(page, f"{name}-audit-error")
    page.get_by_label("Vanaf (datum)").fill("")
    page.get_by_label("Actie").select_option("apikey.create")
    page.get_by_role("button", name="Filteren").click()
    check(page, f"{name}-audit")

    page.goto(f"{server.base_url}/app/waves/{wave_id}/feedback")
    page.get_by_role("button", name="Nieuwe feedbacklink voor Sam Jansen").click()
    assert page.get_by_role("status").inner_text() == "De feedbacklink is gemaakt."
    assert page.locator(".qr-small svg").count() == 1 and "/f/" in page.locator(".url").inner_text()
    check(page, f"{name}-feedback-links")
    page.goto(f"{server.base_url}/app/bestaat-niet")
    check(page, f"{name}-404")
