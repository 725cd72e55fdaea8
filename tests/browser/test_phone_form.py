"""The respondent form in a real phone-sized Chromium: tapping, submitting, the English switch, axe-core.

The real application runs under uvicorn on a loopback port against a migrated throw-away database
(SQLite, and PostgreSQL when configured). Playwright drives Debian's Chromium (``/usr/bin/chromium``);
no browser is ever downloaded. Without Chromium or Playwright the tests are skipped, saying why;
``VERBONDEN_REQUIRE_BROWSER=1`` (set by ``.ci/run``) turns that skip into a failure.
Screenshots land in ``test-artifacts/screenshots/`` (git-ignored).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, func, select

from app.models import Response
from tests.conftest import Database, new_database, remove_database
from tests.factories.collection import make_invitation, make_wave
from tests.factories.organisation import make_municipality, make_professional, make_team

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
REQUIRE_BROWSER_ENV = "VERBONDEN_REQUIRE_BROWSER"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PHONES = {"360x640": (360, 640), "320x568": (320, 568)}
MIN_TAP_HEIGHT = 44
BLOCKING_IMPACTS = {"serious", "critical"}
# The answer tapped for question i: every point of the scale and "weet ik niet" in turn.
CHOICE_CYCLE = ("1", "2", "3", "4", "5", "x")


def unavailable(reason: str) -> None:
    """Skip, or fail when the browser is required (CI)."""
    if os.environ.get(REQUIRE_BROWSER_ENV) == "1":
        pytest.fail(f"{REQUIRE_BROWSER_ENV}=1 but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the Python package playwright is not installed (uv sync installs the dev group)")
    if not CHROMIUM.exists():
        unavailable(f"Chromium is not installed at {CHROMIUM} (Debian package 'chromium')")
    with sync_playwright() as playwright:
        try:
            launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        except PlaywrightError as error:
            unavailable(f"Chromium at {CHROMIUM} did not start: {error.message.splitlines()[0]}")
        yield launched
        launched.close()


@dataclass
class Server:
    """The real application served by uvicorn on a loopback port, with its database."""

    database: Database
    base_url: str


def free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextmanager
def serve(backend: str, tmp_dir: Path) -> Iterator[Server]:
    import uvicorn

    from app.main import create_app

    database = new_database(backend, tmp_dir)
    sock = free_socket()
    config = uvicorn.Config(
        create_app(database.settings()), access_log=False, log_level="warning", lifespan="on"
    )
    uvicorn_server = uvicorn.Server(config)
    thread = threading.Thread(target=uvicorn_server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not uvicorn_server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    host, port = sock.getsockname()
    try:
        yield Server(database, f"http://{host}:{port}")
    finally:
        uvicorn_server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        remove_database(database)


@pytest.fixture(scope="module")
def sqlite_server(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serve("sqlite", tmp_path_factory.mktemp("browser-sqlite")) as server:
        yield server


@pytest.fixture(scope="module")
def postgres_server(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serve("postgresql", tmp_path_factory.mktemp("browser-postgresql")) as server:
        yield server


@dataclass
class Link:
    token: str
    wave_id: int


def new_link(database: Database) -> Link:
    """A municipality, team, professional, wave and open invitation, committed."""
    with Session(database.engine, expire_on_commit=False) as session:
        municipality = make_municipality(session)
        team = make_team(session, municipality)
        professional = make_professional(session, team, display_name="Sam", role="jongerenwerker")
        wave = make_wave(session, municipality)
        invitation = make_invitation(session, wave, professional)
        session.commit()
        assert wave.id is not None
        return Link(invitation.token, wave.id)


def stored_answers(database: Database, link: Link) -> list[str]:
    with Session(database.engine) as session:
        return list(session.exec(select(Response.answers).where(Response.wave_id == link.wave_id)))


def count_stored(database: Database, link: Link) -> int:
    with Session(database.engine) as session:
        return session.exec(
            select(func.count()).select_from(Response).where(Response.wave_id == link.wave_id)
        ).one()


@pytest.fixture
def phone(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    width, height = PHONES[request.param]
    context = browser.new_context(viewport={"width": width, "height": height}, has_touch=True, is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def shoot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def assert_accessible(page: Any, where: str) -> None:
    """axe-core finds nothing serious or critical; lesser findings are printed."""
    from axe_playwright_python.sync_playwright import Axe

    violations = Axe().run(page).response["violations"]
    blocking = []
    for violation in violations:
        nodes = ", ".join(node["target"][0] for node in violation["nodes"][:3])
        line = f"axe {where}: {violation['impact']} {violation['id']}: {violation['help']} ({nodes})"
        print(line)
        if violation["impact"] in BLOCKING_IMPACTS:
            blocking.append(line)
    assert not blocking, "\n".join(blocking)


def assert_fits_the_phone(page: Any, where: str) -> None:
    """No horizontal scrolling, and every answer and the submit button tall enough to tap."""
    width = page.viewport_size["width"]
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"{where}: scrolls sideways ({scroll_width}px > {width}px)"
    heights = page.evaluate(
        """[...document.querySelectorAll("label.c, button[type=submit], a.lang")]
           .map(target => [target.outerHTML.slice(0, 80), target.getBoundingClientRect().height])"""
    )
    assert len(heights) > 2, f"{where}: no answers or submit button found"
    low = [(target, round(height)) for target, height in heights if height < MIN_TAP_HEIGHT]
    assert not low, f"{where}: tap targets lower than {MIN_TAP_HEIGHT}px: {low}"


def answer_every_question_by_tapping(page: Any) -> str:
    """Tap one answer label per question; return the answers as stored (digit, or '?' for don't know)."""
    questions = page.locator("fieldset.q")
    expected = []
    for index in range(questions.count()):
        question = questions.nth(index)
        value = CHOICE_CYCLE[index % len(CHOICE_CYCLE)]
        question.locator(f"label.c:has(input[value='{value}']) span").tap()
        assert question.locator(f"input[value='{value}']").is_checked()
        expected.append("?" if value == "x" else value)
    return "".join(expected)


def tap_through(server: Server, page: Any, lang: str) -> None:
    """Open a new link, (switch language,) send it empty, answer by tapping, send, check what is stored."""
    link = new_link(server.database)
    size = f"{page.viewport_size['width']}x{page.viewport_size['height']}"
    name = f"{server.database.backend}-{size}-{lang}"
    response = page.goto(f"{server.base_url}/s/{link.token}")
    assert response.status == 200
    assert page.locator("html").get_attribute("lang") == "nl"
    if lang == "en":
        page.locator("a.lang", has_text="English").tap()
        page.wait_for_url("**/s/*?lang=en")
        assert page.locator("html").get_attribute("lang") == "en"
        assert page.locator("h1").inner_text().startswith("About Sam")
    shoot(page, f"{name}-form")
    assert_fits_the_phone(page, f"{name} form")
    assert_accessible(page, f"{name} form")

    # Sending before answering anything shows the form again with an error, nothing stored.
    with page.expect_navigation() as sent_empty:
        page.locator("button[type=submit]").tap()
    assert sent_empty.value.status == 422
    assert page.locator(".error-summary").is_visible()
    assert page.locator("html").get_attribute("lang") == lang
    shoot(page, f"{name}-error")
    assert_fits_the_phone(page, f"{name} error")
    assert_accessible(page, f"{name} form with an error")
    assert count_stored(server.database, link) == 0

    expected = answer_every_question_by_tapping(page)
    with page.expect_navigation(url="**/bedankt*"):
        page.locator("button[type=submit]").tap()
    assert page.locator("html").get_attribute("lang") == lang
    thanks_heading = {"nl": "Dank je wel!", "en": "Thank you!"}[lang]
    assert page.locator("h1").inner_text() == thanks_heading
    shoot(page, f"{name}-thanks")
    assert_accessible(page, f"{name} thank-you page")
    assert stored_answers(server.database, link) == [expected]


@pytest.mark.parametrize("phone", list(PHONES), indirect=True)
@pytest.mark.parametrize("lang", ["nl", "en"])
def test_answer_by_tapping_and_submit(sqlite_server: Server, phone: Any, lang: str) -> None:
    tap_through(sqlite_server, phone, lang)


@pytest.mark.parametrize("phone", ["320x568"], indirect=True)
def test_answer_by_tapping_stored_on_postgresql(postgres_server: Server, phone: Any) -> None:
    """What the browser sees does not depend on the database; one run shows the row stored there."""
    tap_through(postgres_server, phone, "en")


@pytest.mark.parametrize("phone", ["320x568"], indirect=True)
def test_error_at_a_question_is_accessible(sqlite_server: Server, phone: Any) -> None:
    """An answer the server refuses (a tampered value) is marked at its question, answers kept."""
    page, server = phone, sqlite_server
    link = new_link(server.database)
    page.goto(f"{server.base_url}/s/{link.token}")
    answer_every_question_by_tapping(page)
    page.locator("fieldset.q").nth(2).locator("input:checked").evaluate("input => { input.value = '7' }")
    with page.expect_navigation() as sent:
        page.locator("button[type=submit]").tap()
    assert sent.value.status == 422
    assert page.locator("fieldset.q.has-error").count() == 1
    assert page.locator("fieldset.q").nth(2).locator(".err").is_visible()
    assert page.locator("fieldset.q input:checked").count() == page.locator("fieldset.q").count() - 1
    shoot(page, f"{server.database.backend}-320x568-question-error")
    assert_fits_the_phone(page, "question error")
    assert_accessible(page, "form with an error at a question")
    assert count_stored(server.database, link) == 0


# -- screenshots at 360x640 of each form, the skipped-questions prompt and the status pages ----------

FORM_MODULES = {"jongere": ("bejegening",), "ouder": ("bejegening",), "professional": ("samenwerking",)}


def new_form_link(database: Database, form: str, *, change: str | None = None) -> str:
    """A link to ``form`` (with its module) from a municipality with sender details; ``change``
    makes it unusable in that way (tests/app/test_collection.py's ``make_dead``)."""
    from tests.app.test_collection import make_dead

    with Session(database.engine, expire_on_commit=False) as session:
        municipality = make_municipality(session)
        municipality.display_name = "Gemeente Bars, team Jeugd"
        municipality.contact_email = "jeugd@bars.example.nl"
        municipality.privacy_url = "https://www.bars.example.nl/privacy"
        team = make_team(session, municipality)
        professional = make_professional(session, team, display_name="Daan", role="wijkagent")
        wave = make_wave(session, municipality, modules=FORM_MODULES[form])
        invitation = make_invitation(session, wave, professional, form=form)
        if change:
            make_dead(session, change, invitation, wave)
        session.commit()
        return invitation.token


def assert_first_answer_above_the_fold(page: Any, where: str) -> None:
    """The first answer option's label ends above 640 px (the contract's "above the fold")."""
    box = page.locator("label.c").first.bounding_box()
    assert box is not None, f"{where}: no answer option"
    assert box["y"] + box["height"] < 640, f"{where}: first answer ends at {box['y'] + box['height']:.0f}px"


@pytest.mark.parametrize("phone", ["360x640"], indirect=True)
@pytest.mark.parametrize("form", ["jongere", "ouder", "professional"])
def test_each_form_at_360x640(sqlite_server: Server, phone: Any, form: str) -> None:
    page, server = phone, sqlite_server
    token = new_form_link(server.database, form)
    assert page.goto(f"{server.base_url}/s/{token}").status == 200
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"form-{form}-360x640-first-screen.png"))
    shoot(page, f"form-{form}-360x640")
    assert_first_answer_above_the_fold(page, form)
    assert_fits_the_phone(page, form)
    assert_accessible(page, f"{form} form")
    page.locator("details.about summary").tap()  # who asks, and the privacy text, folded open
    assert page.locator(".sender").is_visible()
    shoot(page, f"form-{form}-360x640-about-open")
    assert_accessible(page, f"{form} form, about open")


@pytest.mark.parametrize("phone", ["360x640"], indirect=True)
def test_skipped_questions_prompt_at_360x640(sqlite_server: Server, phone: Any) -> None:
    page, server = phone, sqlite_server
    token = new_form_link(server.database, "jongere")
    page.goto(f"{server.base_url}/s/{token}")
    for index in range(4):
        page.locator("fieldset.q").nth(index).locator("label.c span").nth(3).tap()
    with page.expect_navigation() as sent:
        page.locator("form button[type=submit]").last.tap()
    assert sent.value.status == 200
    prompt = page.locator(".skipped .ask")
    assert prompt.inner_text().endswith("?")
    shoot(page, "skipped-prompt-360x640")
    assert_fits_the_phone(page, "skipped prompt")
    assert_accessible(page, "skipped-questions prompt")
    with page.expect_navigation(url="**/bedankt*"):
        page.locator("button", has_text="Toch versturen").tap()
    shoot(page, "thanks-jongere-360x640")
    assert_accessible(page, "thank-you page after sending anyway")


@pytest.mark.parametrize("phone", ["360x640"], indirect=True)
@pytest.mark.parametrize("change", ["unknown", "not_open", "closed", "expired", "revoked"])
@pytest.mark.parametrize("lang", ["nl", "en"])
def test_status_pages_at_360x640(sqlite_server: Server, phone: Any, change: str, lang: str) -> None:
    page, server = phone, sqlite_server
    token = (
        "no-such-token-xxxxxxxxxxxxxxxx"
        if change == "unknown"
        else new_form_link(server.database, "ouder", change=change)
    )
    response = page.goto(f"{server.base_url}/s/{token}?lang={lang}")
    assert response.status in (404, 410)
    assert page.locator("a.lang").count() == 1  # the language switch
    shoot(page, f"status-{change}-{lang}-360x640")
    assert_accessible(page, f"status page {change} ({lang})")
