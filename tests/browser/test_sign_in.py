"""Signing in with a real Chromium, on a phone and a laptop: with and without a second factor, the
reset pages, the report for a signed-in person, axe-core on every sign-in page.

The server, the browser and the axe check are those of ``test_phone_form.py``.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pyotp
import pytest
from sqlmodel import Session

from app.users import service
from tests.browser import test_phone_form as phone_form
from tests.browser.test_phone_form import Server, assert_accessible, shoot
from tests.factories.collection import make_wave
from tests.factories.organisation import make_municipality
from tests.factories.users import PASSWORD, make_user

pytestmark = pytest.mark.browser

# The phone form's browser and servers (module-scoped: one uvicorn per backend for this module).
browser = phone_form.browser
sqlite_server = phone_form.sqlite_server
postgres_server = phone_form.postgres_server
SCREENS = {"360x640": (360, 640), "1280x800": (1280, 800)}


@pytest.fixture
def screen(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    width, height = SCREENS[request.param]
    phone = width < 600
    context = browser.new_context(
        viewport={"width": width, "height": height}, has_touch=phone, is_mobile=phone
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def new_account(
    server: Server, *, require_2fa: bool = False, password: str | None = PASSWORD
) -> tuple[str, int]:
    """A municipality with a wave and a coordinator; returns the e-mail and the wave id."""
    with Session(server.database.engine, expire_on_commit=False) as session:
        municipality = make_municipality(session, f"Gemeente {uuid.uuid4().hex[:6]}")
        municipality.require_2fa = require_2fa
        session.add(municipality)
        wave = make_wave(session, municipality)
        user = make_user(session, municipality, "coordinator", password=password)
        session.commit()
        assert wave.id is not None
        return user.email, wave.id


def size_of(page: Any) -> str:
    return f"{page.viewport_size['width']}x{page.viewport_size['height']}"


def check(page: Any, name: str) -> None:
    shoot(page, name)
    assert_accessible(page, name)
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{name}: scrolls sideways"


def sign_in(page: Any, server: Server, email: str, password: str = PASSWORD) -> None:
    page.goto(f"{server.base_url}/login")
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord").fill(password)
    page.get_by_role("button", name="Inloggen").click()


def sign_out(page: Any) -> None:
    page.get_by_role("button", name="Uitloggen", exact=True).click()
    page.wait_for_url("**/login?done=logout")


@pytest.mark.parametrize("screen", list(SCREENS), indirect=True)
def test_sign_in_without_a_second_factor_and_open_the_report(sqlite_server: Server, screen: Any) -> None:
    page, server = screen, sqlite_server
    name = f"signin-{size_of(page)}"
    email, wave_id = new_account(server)
    response = page.goto(f"{server.base_url}/app/")
    assert page.url.endswith("/login")  # signed out: the app sends you to sign in
    assert response is not None and response.status == 200
    check(page, f"{name}-login")

    sign_in(page, server, email, "een-verkeerd-wachtwoord")
    assert page.locator(".error-summary").is_visible()
    check(page, f"{name}-login-error")

    sign_in(page, server, email)
    page.wait_for_url("**/app/")
    assert "Kim de Vries" in page.locator("h1").inner_text()
    check(page, f"{name}-home")
    with page.expect_navigation():
        page.locator(f"a[href^='/reports/{wave_id}?form=jongere']").click()
    assert page.locator("html").get_attribute("lang") == "nl"
    assert page.title()  # the report page itself, not a 401
    page.go_back()
    sign_out(page)
    assert "U bent uitgelogd" in page.content()
    page.goto(f"{server.base_url}/app/")
    assert page.url.endswith("/login")


def enrol_and_sign_in(server: Server, page: Any, name: str) -> None:
    email, _ = new_account(server, require_2fa=True)
    sign_in(page, server, email)
    page.wait_for_url("**/login/enrol")
    check(page, f"{name}-enrol")
    secret = page.locator("#secret").get_attribute("data-secret")
    assert secret and re.fullmatch(r"[A-Z2-7]{32}", secret)
    assert page.locator("#secret").inner_text().replace(" ", "") == secret
    page.get_by_label("Code", exact=True).fill("000000")
    page.get_by_role("button", name="Instellen").click()
    assert page.locator(".error-summary").is_visible()  # a wrong code can be retried
    page.get_by_label("Code", exact=True).fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Instellen").click()
    page.wait_for_selector("ul.codes")
    assert page.locator("ul.codes li").count() == 10
    check(page, f"{name}-recovery-codes")
    page.get_by_role("link", name="Verder").click()
    page.wait_for_url("**/app/")
    sign_out(page)

    sign_in(page, server, email)
    page.wait_for_url("**/login/totp")
    check(page, f"{name}-totp")
    page.get_by_label("Code", exact=True).fill("000000")
    page.get_by_role("button", name="Verder").click()
    assert page.locator(".error-summary").is_visible()
    check(page, f"{name}-totp-error")
    # The code used at enrolment is spent; the next time step's code is accepted (one step of drift).
    page.get_by_label("Code", exact=True).fill(pyotp.TOTP(secret).at(time.time() + 30))
    page.get_by_role("button", name="Verder").click()
    page.wait_for_url("**/app/")
    assert "Inloggen met twee stappen staat aan" in page.content()


@pytest.mark.parametrize("screen", list(SCREENS), indirect=True)
def test_sign_in_with_a_second_factor(sqlite_server: Server, screen: Any) -> None:
    enrol_and_sign_in(sqlite_server, screen, f"signin-2fa-{size_of(screen)}")


@pytest.mark.parametrize("screen", ["360x640"], indirect=True)
def test_sign_in_with_a_second_factor_on_postgresql(postgres_server: Server, screen: Any) -> None:
    enrol_and_sign_in(postgres_server, screen, f"signin-2fa-postgresql-{size_of(screen)}")


@pytest.mark.parametrize("screen", list(SCREENS), indirect=True)
def test_reset_pages(sqlite_server: Server, screen: Any) -> None:
    page, server = screen, sqlite_server
    name = f"reset-{size_of(page)}"
    email, _ = new_account(server, password=None)
    page.goto(f"{server.base_url}/login")
    page.get_by_role("link", name="Wachtwoord vergeten?").click()
    page.wait_for_url("**/login/forgot")
    check(page, f"{name}-forgot")
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_role("button", name="Stuur mij een link").click()
    assert "Kijk in uw e-mail" in page.locator("h1").inner_text()
    check(page, f"{name}-sent")

    with Session(server.database.engine) as session:
        from app.users import repository

        user = repository.user_by_email(session, email)
        assert user is not None
        token = service.issue_link(session, user=user, purpose=service.PURPOSE_INVITE, actor=None)
        session.commit()
    page.goto(f"{server.base_url}/login/password/{token}")
    check(page, f"{name}-set-password")
    page.get_by_label("Nieuw wachtwoord").fill("kort")
    page.get_by_label("Typ het wachtwoord nog een keer").fill("kort")
    page.get_by_role("button", name="Wachtwoord opslaan").click()
    assert "te kort" in page.locator(".error-summary").inner_text()
    check(page, f"{name}-set-password-error")
    page.get_by_label("Nieuw wachtwoord").fill(PASSWORD)
    page.get_by_label("Typ het wachtwoord nog een keer").fill(PASSWORD)
    page.get_by_role("button", name="Wachtwoord opslaan").click()
    page.wait_for_url("**/login?done=password")
    response = page.goto(f"{server.base_url}/login/password/{token}")
    assert response is not None and response.status == 410
    check(page, f"{name}-link-used")
    sign_in(page, server, email)
    page.wait_for_url("**/app/")
