"""How the feedback page (/f/{token}) says things: certainty in words, the next step, a short page.

The numbers come from the feedback service (tests/app/test_feedback.py); these tests are about
what the page makes of them: a word for the reliability with the number in small print and never
an impossible one, the nearest step that makes a difference, the core subscales first and the
modules folded, comparisons only when they differ, and the strongest and weakest item each with
a conversation prompt from ``templates/feedback/messages.yaml``.
"""

from __future__ import annotations

import itertools
import math
import re
from html import unescape

import pytest
from sqlmodel import Session

import psychometrics
from app.feedback import service as feedback_service
from app.feedback.certainty import (
    FAIR,
    NEAR,
    PRECISE,
    STEP,
    Band,
    Next,
    answers_for,
    certainty,
    projected_reliability,
)
from app.feedback.views import messages, prompts
from app.instrument_versions.service import instrument_for_version
from instrument.loader import load_definitions
from tests.app.test_reports import item_ids, seed, store
from tests.factories.collection import make_wave
from tests.factories.organisation import make_feedback_link, make_municipality, make_professional, make_team

T = messages()["nl"]


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def page(client, session: Session, professional) -> str:
    link = make_feedback_link(session, professional)
    response = client.get(f"/f/{link.token}")
    assert response.status_code == 200, response.text
    return response.text


# -- certainty: the word, the small print, the next step ------------------------------------------


@pytest.mark.parametrize(
    ("reliability", "band"),
    [
        (0.97, Band.precise),
        (0.80, Band.precise),
        (0.7996, Band.precise),
        (0.75, Band.fair),
        (0.70, Band.fair),
        (0.69, Band.unsure),
        (0.0, Band.unsure),
    ],
)
def test_the_word_follows_the_number_as_shown(reliability, band):
    found = certainty(reliability, 30)
    assert found.band is band
    assert found.value == round(reliability, 2)


@pytest.mark.parametrize("impossible", [-9.36, -0.01, 1.2, math.nan, math.inf, None])
def test_an_impossible_reliability_is_not_shown(impossible):
    found = certainty(impossible, 12)
    assert found.band is Band.unknown and found.value is None and found.next is Next.unknown


@pytest.mark.parametrize(("rho", "n"), [(0.05, 6), (0.12, 9), (0.30, 5), (0.20, 14), (0.02, 40)])
def test_the_projection_is_spearman_brown_on_the_same_icc(rho, n):
    reliability = n * rho / (1 + (n - 1) * rho)
    for extra in (1, 10, 54):
        total = n + extra
        assert projected_reliability(reliability, n, extra) == pytest.approx(
            total * rho / (1 + (total - 1) * rho), abs=1e-12
        )
    # To the reports' target it agrees with respondents_needed (Spearman-Brown as well).
    if reliability < FAIR:
        assert answers_for(reliability, n, FAIR) == psychometrics.respondents_needed(rho, target=FAIR) - n


@pytest.mark.parametrize(("reliability", "n"), [(0.45, 8), (0.65, 12), (0.78, 30), (0.69, 10)])
def test_a_near_band_is_the_next_step(reliability, n):
    found = certainty(reliability, n)
    assert found.next is Next.near and found.more is not None and 1 <= found.more <= NEAR
    target = FAIR if reliability < FAIR else PRECISE
    assert found.target is (Band.fair if target == FAIR else Band.precise)
    # Exactly enough: one fewer would not reach the band.
    assert projected_reliability(reliability, n, found.more) >= target - 1e-9
    if found.more > 1:
        assert projected_reliability(reliability, n, found.more - 1) < target


def test_a_far_band_becomes_ten_more_and_what_they_do():
    found = certainty(0.20, 6)  # about 50 more to go: not what the page says
    assert found.next is Next.step and found.more == STEP
    assert found.projected == pytest.approx(projected_reliability(0.20, 6, STEP))
    assert found.projected is not None and found.projected > 0.20 + 0.03


def test_when_more_answers_hardly_help_the_page_says_so():
    assert certainty(0.02, 30).next is Next.slow
    assert certainty(0.0, 10).next is Next.slow
    assert certainty(0.85, 40).next is Next.done


# -- the texts ------------------------------------------------------------------------------------


def test_every_language_has_every_text():
    nl, en = messages()["nl"], messages()["en"]
    assert set(nl) == set(en)
    for key, value in nl.items():
        assert set(re.findall(r"{(\w+)}", value)) == set(re.findall(r"{(\w+)}", en[key])), key


def test_every_rated_item_of_every_instrument_version_has_a_prompt():
    versions = load_definitions()
    assert versions
    for version in versions.values():
        for form in ("jongere", "ouder"):
            for subscale in version.form(form).core_subscales.values():
                for item in subscale.items:
                    for lang in ("nl", "en"):
                        assert prompts()[lang].get(item.id), (version.version, item.id, lang)
    # The prompts are questions the professional can take into a conversation.
    for lang in ("nl", "en"):
        assert all(prompt.rstrip().endswith("?") or "." in prompt for prompt in prompts()[lang].values())


# -- the page -------------------------------------------------------------------------------------


def test_an_impossible_reliability_never_reaches_the_page(client, session):
    # Every professional gets the same answers in turn: they differ less than chance (ICC(1) < 0),
    # so the reliability of a professional's mean is negative.
    municipality = make_municipality(session)
    wave = make_wave(session, municipality)
    items = item_ids()
    patterns = [dict.fromkeys(items, value) for value in (2, 3, 4, 5, 3, 4)]
    chosen = None
    for team_name, sizes in (("Noord", (6, 7)), ("Zuid", (8,))):
        team = make_team(session, municipality, name=team_name)
        for number, size in enumerate(sizes):
            professional = make_professional(session, team, display_name=f"P{team_name}{number}")
            chosen = chosen or professional
            for answers in itertools.islice(itertools.cycle(patterns), size):
                store(session, wave, professional, answers)
    assert chosen is not None
    link = make_feedback_link(session, chosen)
    [form] = feedback_service.feedback(session, token=link.token, wave_id=None, min_group_size=5).forms
    reliabilities = [entry.reliability for entry in form.subscales]
    # Negative here (ICC(1) < 0): the reports service withholds it as not estimable.
    assert all(value is None for value in reliabilities), reliabilities
    html = page(client, session, chosen)
    text = text_of(html)
    assert f"{T['certainty']} {T['certainty_unknown']}" in text
    assert T["next_unknown"] in text
    assert not re.search(r"[-−]\s?\d", text), "a negative number on the page"
    assert "betrouwbaarheid" not in text


def test_core_subscales_first_and_modules_folded(client, session):
    seeded = seed(
        session, {"Noord": {"a": 9, "b": 6}, "Zuid": {"d": 8, "e": 7}}, modules=("bejegening",), missing=0.0
    )
    html = page(client, session, seeded.professionals["a"])
    section = html.split('<section class="fb-form">')[1].split("</section>")[0]
    before_modules, modules = section.split('<details class="module">', 1)
    assert before_modules.count('<article class="sub">') == 3
    for title in ("Gezien worden", "Erbij horen", "Ertoe doen"):
        assert f"<h3>{title}</h3>" in before_modules
    assert "<summary>" in modules and modules.count('<article class="sub">') == 3
    assert "<script" not in html
    # The legend and "how sure" question are said per card only where a card needs it.
    assert html.count(T["legend"]) == 1


def test_team_and_municipality_only_when_they_differ(client, session):
    # a is the whole of team Noord; Zuid is other people: the team row would repeat a's own.
    seeded = seed(session, {"Noord": {"a": 7}, "Zuid": {"d": 8, "e": 6}}, missing=0.0)
    text = text_of(page(client, session, seeded.professionals["a"]))
    assert f" {T['team']} " not in text and f" {T['municipality']} " in text
    # One team is the whole municipality: the municipality row would repeat the team's.
    alone = seed(
        session, {"Oost": {"x": 7, "y": 8}}, municipality=make_municipality(session, "Ander"), missing=0.0
    )
    text = text_of(page(client, session, alone.professionals["x"]))
    assert f" {T['team']} " in text and f" {T['municipality']} " not in text
    assert T["comparison_hidden"] not in text  # nothing is hidden: it is the same group


def test_the_strongest_and_weakest_item_with_their_prompts(client, session):
    municipality = make_municipality(session)
    wave = make_wave(session, municipality)
    items = item_ids()
    people = {}
    for team_name, sizes in (("Noord", {"a": 6, "b": 7}), ("Zuid", {"d": 8})):
        team = make_team(session, municipality, name=team_name)
        for name, size in sizes.items():
            people[name] = make_professional(session, team, display_name=f"Naam {name}")
            for number in range(size):
                answers: dict[str, int | None] = dict.fromkeys(items, 3 + number % 2)
                if name == "a":
                    answers["jg_gz_2"] = 5
                    answers["jg_ed_3"] = 1 + number % 2
                store(session, wave, people[name], answers)
    html = page(client, session, people["a"])
    text = text_of(html)
    strongest = (
        instrument_for_version(wave.instrument_version).form("jongere").core_subscales["gezien_worden"]
    )
    assert T["items_heading"] in text
    assert T["items_strongest"].format(who=T["who_jongere"]) in text
    assert strongest.items[1].render("nl", "Naam a") in text  # jg_gz_2
    assert prompts()["nl"]["jg_gz_2"] in text
    assert "Naam a doet iets met wat je zegt." in text and prompts()["nl"]["jg_ed_3"] in text
    assert text.index(prompts()["nl"]["jg_gz_2"]) < text.index(T["items_weakest"])
    # The item means themselves are not printed (5,0 and 1,5 are nowhere).
    assert "5,0" not in text and "1,5" not in text

    # d's answers are all alike: no item stands out, no block.
    assert T["items_heading"] not in text_of(page(client, session, people["d"]))


def test_no_standout_items_where_the_scores_are_hidden(client, session):
    seeded = seed(session, {"Noord": {"a": 9, "b": 3, "c": 6}, "Zuid": {"d": 8}}, missing=0.0)
    html = page(client, session, seeded.professionals["b"])  # 3 answers: nothing published
    assert T["items_heading"] not in html and "<blockquote>" not in html


def test_english_wording(client, session):
    seeded = seed(session, {"Noord": {"a": 9, "b": 6}, "Zuid": {"d": 8, "e": 7}}, missing=0.0)
    link = make_feedback_link(session, seeded.professionals["a"])
    text = text_of(client.get(f"/f/{link.token}", params={"lang": "en"}).text)
    assert "How sure is your score?" in text
    assert any(word in text for word in ("precise", "fair", "still unsure", "cannot be said yet"))
    assert "Hoe zeker" not in text
