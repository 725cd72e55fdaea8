"""The printable QR sheets in a real Chromium: on A4 paper (print media) and on a 360 px phone.

The sheets are self-contained (inline CSS and SVG), so the HTML the app serves is loaded as it is.
Screenshots land in ``test-artifacts/screenshots/`` (git-ignored): look at them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session

from app.db import utcnow
from tests.browser.test_phone_form import assert_accessible, browser, shoot  # noqa: F401 - a fixture
from tests.factories.collection import make_invitation, make_wave
from tests.factories.organisation import make_key, make_municipality, make_professional, make_team

pytestmark = pytest.mark.browser

A4 = {"width": 794, "height": 1123}  # 210 x 297 mm at 96 px per inch
PHONE = {"width": 360, "height": 640}
MM = 96 / 25.4
MIN_QR_MM = 40  # a code this size scans from a phone held at arm's length


@pytest.fixture
def sheets(client, session: Session) -> dict[str, str]:
    """The sheet for young people and parents, and the professional's own page, of a wave not yet open."""
    municipality = make_municipality(session, "Bars-A")
    professional = make_professional(
        session, make_team(session, municipality), display_name="Samira El Amrani", role="jongerenwerker"
    )
    opens = datetime(utcnow().year + 1, 3, 1, 8, 0, tzinfo=UTC)
    wave = make_wave(
        session, municipality, name="Voorjaar", opens_at=opens, closes_at=opens + timedelta(days=60)
    )
    make_invitation(session, wave, professional, form="jongere")
    make_invitation(session, wave, professional, form="ouder", kind="personal")
    make_invitation(session, wave, professional, form="professional")
    headers = make_key(session, municipality, "manage")
    path = f"/api/v1/professionals/{professional.id}/invitations.html"
    found = {}
    for audience in ("respondents", "professional"):
        response = client.get(path, params={"wave_id": wave.id, "audience": audience}, headers=headers)
        assert response.status_code == 200, response.text
        found[audience] = response.text
    return found


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:  # noqa: F811 - the fixture imported above
    context = browser.new_context(viewport=A4)
    opened = context.new_page()
    opened.set_default_timeout(10_000)
    yield opened
    context.close()


def qr_sizes(page: Any) -> list[float]:
    return page.evaluate(
        "[...document.querySelectorAll('svg.qr')].map(svg => svg.getBoundingClientRect().width)"
    )


@pytest.mark.parametrize("audience", ["respondents", "professional"])
def test_a_sheet_prints_on_a4(page: Any, sheets: dict[str, str], audience: str, database) -> None:
    page.emulate_media(media="print")
    page.set_content(sheets[audience])
    shoot(page, f"sheet-{audience}-a4-{database.backend}")
    sizes = qr_sizes(page)
    assert sizes and all(size >= MIN_QR_MM * MM for size in sizes), sizes
    assert page.evaluate("document.documentElement.scrollWidth") <= A4["width"]
    # A card never breaks across pages: each is shorter than the printable height (297 - 2 x 15 mm).
    heights = page.evaluate(
        "[...document.querySelectorAll('.card')].map(card => card.getBoundingClientRect().height)"
    )
    assert heights and max(heights) < (297 - 30) * MM, heights
    assert "Werkt vanaf 1 maart" in page.inner_text("main")
    assert_accessible(page, f"sheet {audience} (A4)")


@pytest.mark.parametrize("audience", ["respondents", "professional"])
def test_a_sheet_reads_on_a_phone(page: Any, sheets: dict[str, str], audience: str, database) -> None:
    page.set_viewport_size(PHONE)
    page.set_content(sheets[audience])
    shoot(page, f"sheet-{audience}-360-{database.backend}")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "scrolls sideways"
    sizes = qr_sizes(page)
    assert sizes and all(size >= MIN_QR_MM * MM for size in sizes), sizes
    assert_accessible(page, f"sheet {audience} (360 px)")
