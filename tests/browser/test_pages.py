"""The start page, the API docs and the professional's feedback page in a real Chromium.

Each page is looked at on a phone (360x640) and a desktop (1280x800): screenshots in
``test-artifacts/screenshots/``, axe-core finds nothing serious or critical, nothing scrolls
sideways, and no request leaves for another site. The feedback pages show the demo data
(``app.demo``), as a newcomer would see them after ``make run``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlmodel import Session, func, select

from app.demo import CURRENT_WAVE, load_demo
from app.feedback import service as feedback_service
from app.models import Professional, Response, Wave
from tests.browser.test_phone_form import SCREENSHOTS, Server, assert_accessible, serve
from tests.factories.organisation import make_feedback_link

pytestmark = pytest.mark.browser

SIZES = {"360x640": (360, 640), "1280x800": (1280, 800)}


@dataclass
class DemoSite:
    server: Server
    feedback: dict[str, str]
    """Feedback page paths by what they show: ``many``, ``some`` (8 or a few more), ``few`` responses."""


def fewest_shown(session: Session, wave: Wave, counts: Sequence[tuple[int | None, int]]) -> int:
    """The professional with the fewest young people's responses whose scores the page shows."""
    for professional_id, _ in counts:
        professional = session.get_one(Professional, professional_id)
        link = make_feedback_link(session, professional)
        page = feedback_service.feedback(session, token=link.token, wave_id=wave.id, min_group_size=5)
        session.delete(link)
        if any(entry.own is not None for form in page.forms for entry in form.subscales):
            return professional.id or 0
    raise AssertionError("no professional's scores are shown in the demo")


@pytest.fixture(scope="module")
def demo_site(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoSite]:
    with serve("sqlite", tmp_path_factory.mktemp("browser-pages")) as server:
        with Session(server.database.engine, expire_on_commit=False) as session:
            demo = load_demo(session, base_url=server.base_url)
            wave = session.exec(
                select(Wave).where(Wave.municipality_id == demo.municipality.id, Wave.name == CURRENT_WAVE)
            ).one()
            counts = session.exec(
                select(Response.professional_id, func.count())
                .where(Response.wave_id == wave.id, Response.form == "jongere")
                .group_by(Response.professional_id)
                .order_by(func.count(), Response.professional_id)
            ).all()
            # The most responses; the fewest whose scores are shown (still unsure); too few to show.
            chosen = {"many": counts[-1][0], "some": fewest_shown(session, wave, counts), "few": counts[0][0]}
            feedback = {}
            for name, professional_id in chosen.items():
                link = make_feedback_link(session, session.get_one(Professional, professional_id))
                feedback[name] = f"/f/{link.token}"
            session.commit()
        yield DemoSite(server, feedback)


@pytest.fixture(params=list(SIZES))
def screen(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    width, height = SIZES[request.param]
    phone = width < 600
    context = browser.new_context(
        viewport={"width": width, "height": height}, has_touch=phone, is_mobile=phone
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.elsewhere = []  # requests to any other origin
    page.csp_errors = []
    yield page
    context.close()


def open_page(page: Any, site: DemoSite, path: str) -> Any:
    origin = urlsplit(site.server.base_url).netloc
    page.on(
        "request",
        lambda request: (
            urlsplit(request.url).netloc in (origin, "")
            or request.url.startswith(("data:", "blob:"))
            or page.elsewhere.append(request.url)
        ),
    )
    page.on(
        "console",
        lambda message: "Content Security Policy" in message.text and page.csp_errors.append(message.text),
    )
    response = page.goto(site.server.base_url + path)
    return response


def look(page: Any, name: str) -> None:
    """Screenshot, no sideways scrolling, axe, nothing from elsewhere, no CSP violation."""
    size = f"{page.viewport_size['width']}x{page.viewport_size['height']}"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{size}.png"), full_page=True)
    width = page.viewport_size["width"]
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"{name} {size}: scrolls sideways ({scroll_width}px > {width}px)"
    assert_accessible(page, f"{name} {size}")
    assert not page.elsewhere, page.elsewhere
    assert not page.csp_errors, page.csp_errors


def test_start_page(demo_site: DemoSite, screen: Any) -> None:
    response = open_page(screen, demo_site, "/")
    assert response.status == 200
    assert screen.locator("h1").inner_text() == "Welkom bij verbonden"
    assert screen.get_by_text("Heb je een QR-code gekregen?").is_visible()
    assert screen.locator("a[href='/login']").is_visible()
    look(screen, "start-nl")
    screen.locator("a[lang=en]").click()
    screen.wait_for_url("**/?lang=en")
    assert screen.locator("html").get_attribute("lang") == "en"
    look(screen, "start-en")


def test_swagger_ui_renders_from_our_own_origin(demo_site: DemoSite, screen: Any) -> None:
    response = open_page(screen, demo_site, "/docs")
    assert response.status == 200
    screen.locator(".swagger-ui .info .title").wait_for()
    assert "verbonden" in screen.locator(".swagger-ui .info .title").inner_text()
    operations = screen.locator(".opblock")
    operations.first.wait_for()
    assert operations.count() > 20
    # Open one operation and try it: the UI works under the page's policy.
    health = screen.locator(".opblock", has=screen.locator("[data-path='/healthz']"))
    health.locator(".opblock-summary").first.click()
    health.get_by_role("button", name="Try it out").click()
    health.get_by_role("button", name="Execute").click()
    status = health.locator(".live-responses-table tbody .response-col_status").first
    status.wait_for()
    assert status.inner_text().strip().startswith("200")
    size = f"{screen.viewport_size['width']}x{screen.viewport_size['height']}"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    screen.screenshot(path=str(SCREENSHOTS / f"docs-{size}.png"))
    assert not screen.elsewhere, screen.elsewhere
    assert not screen.csp_errors, screen.csp_errors


@pytest.mark.parametrize("which", ["many", "some", "few"])
def test_feedback_page(demo_site: DemoSite, screen: Any, which: str) -> None:
    response = open_page(screen, demo_site, demo_site.feedback[which])
    assert response.status == 200
    assert screen.locator("h1").inner_text() == "Jouw feedback"
    look(screen, f"feedback-{which}")
    text = screen.locator("main").inner_text()
    assert "−" not in text and "-9" not in text
    if which != "few":
        # Three core subscales first, the modules folded until tapped.
        first_form = screen.locator("section.fb-form", has=screen.locator("article.sub")).first
        assert first_form.locator(":scope > article.sub").count() == 3
        module = first_form.locator("details.module").first
        assert not module.locator("article.sub").first.is_visible()
        module.locator("summary").click()
        assert module.locator("article.sub").first.is_visible()
        look(screen, f"feedback-{which}-open")


def test_feedback_link_problem_page(demo_site: DemoSite, screen: Any) -> None:
    response = open_page(screen, demo_site, "/f/" + "x" * 32)
    assert response.status == 404
    look(screen, "feedback-unknown-link")
