"""How long the respondent form takes on a phone: Playwright at 360x640, for each form with its module.

For the youth, parent and self-report form (21 items: the core and the wave's module) the real
application is served on SQLite and Debian's Chromium fills the form in as a phone would:

- ``screens``: the form page's height in 640-px screens (how much scrolling it asks);
- ``first answer``: the bottom of the first answer option's label, in px (above 640 = above the fold);
- ``scripted``: seconds from opening the link to the thank-you page, tapping one answer per question
  (Playwright scrolls each into view; this measures the road — pages, scrolling, round trips —
  not a person's reading);
- ``reading``: the words on the way (every text on the form page) at 150 words a minute (a slow
  B1 reader), plus 1.5 s per tap: a model of a person's time, stated as such.

Needs Chromium at ``/usr/bin/chromium`` and the Python package playwright; without them the figures
are skipped with a note.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine
from sqlmodel import Session

from app.migrate import upgrade
from tests.factories.collection import make_invitation, make_wave
from tests.factories.organisation import make_municipality, make_professional, make_team
from tests.load.server import running_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
WORDS_PER_MINUTE = 150
SECONDS_PER_TAP = 1.5
FORMS = {"jongere": "bejegening", "ouder": "bejegening", "professional": "samenwerking"}


def seed(url: str) -> dict[str, str]:
    upgrade(url)
    engine = create_engine(url)
    tokens = {}
    with Session(engine) as session:
        municipality = make_municipality(session, "Meetstad")
        team = make_team(session, municipality)
        professional = make_professional(session, team, display_name="Sam", role="jongerenwerker")
        for form, module in FORMS.items():
            wave = make_wave(session, municipality, modules=(module,), name=f"Ronde {form}")
            tokens[form] = make_invitation(session, wave, professional, form=form).token
        session.commit()
    engine.dispose()
    return tokens


def fill_in(page: Any, url: str) -> dict[str, float]:
    """Open ``url``, answer every question (one tap each) page by page, send; the measurements."""
    started = time.perf_counter()
    page.goto(url)
    screens = page.evaluate("document.documentElement.scrollHeight") / 640
    first = page.locator("label.c").first.bounding_box()
    words = 0
    taps = 0
    while "/bedankt" not in page.url:
        words += len(page.locator("main").inner_text().split())
        for question in page.locator("fieldset.q").all():
            if not question.locator("input:checked").count():
                question.locator("label.c span").nth(3).tap()
                taps += 1
        with page.expect_navigation():
            page.locator("button.next, button[type=submit]").first.tap()
            taps += 1
    scripted = time.perf_counter() - started
    return {
        "screens": screens,
        "first_answer_bottom": first["y"] + first["height"] if first else float("nan"),
        "scripted": scripted,
        "reading": words / WORDS_PER_MINUTE * 60 + taps * SECONDS_PER_TAP,
    }


def run(quick: bool) -> list[dict[str, Any]]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return [{"name": "form completion", "value": "skipped", "unit": "", "target": "install playwright"}]
    if not CHROMIUM.exists():
        return [{"name": "form completion", "value": "skipped", "unit": "", "target": "install chromium"}]
    rounds = 1 if quick else 3
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{directory}/completion.db"
        tokens = seed(url)
        with running_server(url, submit_rate_limit="0") as base, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            for form, token in tokens.items():
                runs = []
                for _ in range(rounds):
                    context = browser.new_context(
                        viewport={"width": 360, "height": 640}, has_touch=True, is_mobile=True
                    )
                    runs.append(fill_in(context.new_page(), f"{base}/s/{token}"))
                    context.close()
                best = min(runs, key=lambda measured: measured["scripted"])
                rows += [
                    {"name": f"{form}: form page height", "value": best["screens"], "unit": "screens"},
                    {
                        "name": f"{form}: first answer label ends at",
                        "value": best["first_answer_bottom"],
                        "unit": "px",
                        "target": "< 640 (above the fold)",
                        "ok": best["first_answer_bottom"] < 640,
                    },
                    {"name": f"{form}: scripted time to complete", "value": best["scripted"], "unit": "s"},
                    {
                        "name": f"{form}: modelled reading + tapping time",
                        "value": best["reading"],
                        "unit": "s",
                        "target": f"{WORDS_PER_MINUTE} words/min + {SECONDS_PER_TAP} s/tap",
                    },
                ]
            browser.close()
    return rows
