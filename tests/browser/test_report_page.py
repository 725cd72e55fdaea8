"""The HTML report of the demo's current wave, with the change since the first wave and youth beside
parents, in a real Chromium at 1280x800 and 360x640.

Each look: a full-page screenshot in ``test-artifacts/screenshots/``, axe-core finds nothing serious
or critical, nothing scrolls sideways (wide tables scroll inside their own focusable region), no
request leaves for another site, and the sections a researcher reads are there: items with their
text, the team profile per subscale, the change section and the informants section.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlmodel import Session, select

from app.demo import CURRENT_WAVE, load_demo
from app.models import Wave
from tests.browser.test_pages import SIZES, look
from tests.browser.test_phone_form import Server, serve

pytestmark = pytest.mark.browser


@dataclass
class DemoReport:
    server: Server
    key: str
    path: str


@pytest.fixture(scope="module")
def demo_report(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoReport]:
    with serve("sqlite", tmp_path_factory.mktemp("browser-report")) as server:
        with Session(server.database.engine, expire_on_commit=False) as session:
            demo = load_demo(session, base_url=server.base_url)
            waves = session.exec(
                select(Wave).where(Wave.municipality_id == demo.municipality.id).order_by(Wave.opens_at)
            ).all()
            session.commit()
        current = next(wave for wave in waves if wave.name == CURRENT_WAVE)
        baseline = next(wave for wave in waves if wave.id != current.id)
        path = f"/reports/{current.id}?form=jongere&baseline_wave_id={baseline.id}"
        yield DemoReport(server, demo.api_key, path)


@pytest.fixture(params=list(SIZES))
def screen(browser: Any, demo_report: DemoReport, request: pytest.FixtureRequest) -> Iterator[Any]:
    width, height = SIZES[request.param]
    phone = width < 600
    context = browser.new_context(
        viewport={"width": width, "height": height},
        has_touch=phone,
        is_mobile=phone,
        extra_http_headers={"Authorization": f"Bearer {demo_report.key}"},
    )
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.elsewhere = []
    page.csp_errors = []
    origin = demo_report.server.base_url.split("//", 1)[1]
    page.on(
        "request",
        lambda request: (
            request.url.startswith(("data:", f"http://{origin}")) or page.elsewhere.append(request.url)
        ),
    )
    page.on(
        "console",
        lambda message: "Content Security Policy" in message.text and page.csp_errors.append(message.text),
    )
    yield page
    context.close()


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_demo_report_with_change_and_informants(demo_report: DemoReport, screen: Any, lang: str) -> None:
    response = screen.goto(f"{demo_report.server.base_url}{demo_report.path}&lang={lang}")
    assert response.status == 200
    change = screen.locator("section.comparison")
    informants = screen.locator("section.informants")
    assert change.locator("svg").count() >= 3 and change.locator("table").count() >= 4
    assert informants.locator("svg").count() >= 3 and informants.locator("table").count() >= 4
    expected = (
        ("Verandering sinds", "Jongeren en ouders") if lang == "nl" else ("Change since", "Youth and parents")
    )
    assert change.locator("h2").inner_text().startswith(expected[0])
    assert informants.locator("h2").inner_text().startswith(expected[1])
    assert screen.locator("#methods").is_visible()
    # The team profile: one panel per subscale (three core and three of the module), none overlapping.
    panels = screen.locator("h3:has-text('Profiel per team'), h3:has-text('Profile per team')").locator(
        "xpath=following-sibling::div[1]//figure"
    )
    assert panels.count() == 6
    boxes = [panels.nth(index).bounding_box() for index in range(panels.count())]
    for index, box in enumerate(boxes):
        for other in boxes[index + 1 :]:
            assert (
                box["x"] + box["width"] <= other["x"] + 1
                or other["x"] + other["width"] <= box["x"] + 1
                or box["y"] + box["height"] <= other["y"] + 1
                or other["y"] + other["height"] <= box["y"] + 1
            ), "profile panels overlap"
    look(screen, f"report-{lang}")
