"""The web app in English in a real Chromium, on a phone and a laptop (issue #16): signed in from
the English sign-in page, every later page keeps English through the ``lang`` cookie, a refused form
and its notice included; axe-core on every page, screenshots kept. The server, the browser and the
checks are those of ``test_sign_in.py``.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser import test_sign_in as sign_in_pages
from tests.browser.test_phone_form import Server
from tests.browser.test_sign_in import SCREENS, check, size_of
from tests.browser.test_webapp import coordinator_with_a_wave
from tests.factories.users import PASSWORD

pytestmark = pytest.mark.browser

browser = sign_in_pages.browser
sqlite_server = sign_in_pages.sqlite_server
screen = sign_in_pages.screen


@pytest.mark.parametrize("screen", list(SCREENS), indirect=True)
def test_a_coordinator_works_in_english(sqlite_server: Server, screen: Any) -> None:
    page, server = screen, sqlite_server
    name = f"webapp-en-{size_of(page)}"
    email, wave_id = coordinator_with_a_wave(server)
    page.goto(f"{server.base_url}/login?lang=en")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/app/?lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    check(page, f"{name}-home")

    page.get_by_role("link", name="Teams", exact=True).click()  # a plain link: the cookie keeps English
    page.wait_for_url("**/app/teams")
    assert page.locator("html").get_attribute("lang") == "en"
    page.get_by_label("Team name").fill("   ")
    page.get_by_role("button", name="Add team").click()
    assert "The team was not added" in page.locator(".error-summary").inner_text()
    check(page, f"{name}-teams-error")
    page.get_by_label("Team name").fill("Team East")
    page.get_by_role("button", name="Add team").click()
    page.wait_for_url("**/app/teams?added=*")
    assert page.get_by_role("status").inner_text() == "Team ‘Team East’ has been added."

    page.goto(f"{server.base_url}/app/waves/{wave_id}")
    main = page.locator("main").inner_text()
    assert "Sam Jansen: 0 responses received" in main and "5 more responses needed" in main
    check(page, f"{name}-wave")

    page.get_by_role("link", name="Nederlands").click()  # and back to Dutch
    assert "nog 5 antwoorden nodig" in page.locator("main").inner_text()
    assert page.locator("html").get_attribute("lang") == "nl"
