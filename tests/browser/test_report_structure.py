"""The report's "Structuur" section on the demo data, in a real Chromium: it shows, and axe is clean.

The demo (``app.demo``) has young people answering in Dutch and in English, two waves and a parent
form with parallel items, so every invariance table of the structure report is filled. Screenshots
of the section go to ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlmodel import Session, select

from app.demo import CURRENT_WAVE, WAVES, load_demo
from app.models import Wave
from tests.browser.test_phone_form import SCREENSHOTS, assert_accessible, serve

pytestmark = pytest.mark.browser

SIZES = {"360x640": (360, 640), "1280x800": (1280, 800)}


@pytest.fixture(scope="module")
def report_path(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    with serve("sqlite", tmp_path_factory.mktemp("browser-structure")) as server:
        with Session(server.database.engine, expire_on_commit=False) as session:
            demo = load_demo(session, base_url=server.base_url)
            waves = {
                wave.name: wave.id
                for wave in session.exec(select(Wave).where(Wave.municipality_id == demo.municipality.id))
            }
            session.commit()
        path = f"/reports/{waves[CURRENT_WAVE]}?form=jongere&baseline_wave_id={waves[WAVES[0].name]}"
        yield server.base_url + path, demo.api_key


@pytest.mark.parametrize("size", list(SIZES))
def test_the_structure_section_shows_every_invariance_table(
    browser: Any, report_path: tuple[str, str], size: str
) -> None:
    url, key = report_path
    width, height = SIZES[size]
    context = browser.new_context(
        viewport={"width": width, "height": height}, extra_http_headers={"Authorization": f"Bearer {key}"}
    )
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        response = page.goto(url)
        assert response is not None and response.status == 200
        heading = page.get_by_role("heading", name="Structuur: meten de items de bedoelde subschalen?")
        heading.scroll_into_view_if_needed()
        for title in (
            "Meetinvariantie tussen talen",
            "Meetinvariantie tussen meetrondes",
            "Meetinvariantie tussen vragenlijsten (parallelle items)",
        ):
            assert page.get_by_role("heading", name=title).count() >= 1, title
        # the demo wave is still open: the languages are announced, not compared
        assert (
            page.get_by_text("De vergelijking tussen talen verschijnt als de meting is afgesloten.").count()
            >= 1
        )
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        section = page.locator(
            "section", has=page.get_by_role("heading", name="Meetinvariantie tussen talen")
        )
        section.first.screenshot(path=str(SCREENSHOTS / f"report-structure-{size}.png"))
        assert_accessible(page, f"report structure {size}")
    finally:
        context.close()
