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
from tests.browser.test_phone_form import Server, shoot
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
