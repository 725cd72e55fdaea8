"""The printable HTML report: self-contained, disclosure-controlled, scope-aware."""

from __future__ import annotations

import re

from sqlmodel import select

from app.instrument_versions.service import published_instrument
from instrument.codebook import neutral_label
from tests.app.test_reports import report_key, seed


def page(client, seeded, headers, **params):
    response = client.get(f"/reports/{seeded.wave.id}", params={"form": "jongere", **params}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    return response.text


def test_the_page_is_self_contained_and_shows_the_reliability(client, session):
    seeded = seed(session, {"Noord": {"a": 9, "b": 3, "c": 6}, "Zuid": {"d": 8, "e": 7}})
    headers = report_key(session, seeded)
    json_body = client.get(
        "/api/v1/reports/reliability", params={"wave_id": seeded.wave.id, "form": "jongere"}, headers=headers
    ).json()
    html = page(client, seeded, headers)
    assert "<script" not in html
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert html.count("<svg") >= 5  # three distributions, the team profile, caterpillars
    alpha = json_body["subscales"][0]["alpha"]
    assert f"{alpha:.3f}".replace(".", ",") in html  # Dutch: a decimal comma
    assert f"{alpha:.3f}" in page(client, seeded, headers, lang="en")
    assert "Betrouwbaarheid per subschaal" in html
    assert "built-in method" not in html and "object at 0x" not in html  # no Python object in a heading
    assert "Reliability per subscale" in page(client, seeded, headers, lang="en")


def test_hidden_professionals_and_teams_are_left_out(client, session):
    seeded = seed(
        session, {"Noord": {"a": 9, "b": 3, "c": 6}, "Zuid": {"d": 8, "e": 7}, "Klein": {"f": 2}}, missing=0.0
    )
    html = page(client, seeded, report_key(session, seeded))
    assert "C-a" in html and "C-c" in html and "C-d" in html
    assert "C-b" not in html  # 3 respondents: never published
    assert "C-f" not in html
    assert "Naam a" not in html  # display names never leave the service
    assert "<td>Klein</td>" not in html  # nothing published: the team is in no table and no total
    assert "<title>Klein" not in html  # no point for the hidden team in the profile
    assert "Cijfers bijgewerkt" in html and "minstens 5 nieuwe antwoorden" in html


def test_professionals_only_with_their_scope(client, session):
    seeded = seed(session, {"Noord": {"a": 6, "b": 6}}, missing=0.0)
    html = page(client, seeded, report_key(session, seeded, "reports:aggregate"))
    assert "C-a" not in html and "Gemiddelden per professional" not in html
    html = page(client, seeded, report_key(session, seeded, "reports:aggregate", "reports:professional"))
    assert "C-a" in html and "Gemiddelden per professional" in html


def test_an_empty_wave_renders(client, session):
    seeded = seed(session, {})
    html = page(client, seeded, report_key(session, seeded))
    assert "Nog geen gegevens" in html


def visible_text(html: str) -> str:
    """The page's text as a reader sees it (SVG labels and tooltips included), without markup."""
    html = re.sub(r"<style.*?</style>", " ", html, flags=re.S)
    html = re.sub(r"<[^>]+>", " ", html)
    return re.sub(r"\s+", " ", html)


def test_the_dutch_report_writes_every_number_with_a_decimal_comma(client, session):
    seeded = seed(
        session, {"Noord": {"a": 9, "b": 6, "c": 6}, "Zuid": {"d": 8, "e": 7}}, modules=("bejegening",)
    )
    html = page(client, seeded, report_key(session, seeded))
    text = visible_text(html.split('<table class="meta">', 1)[0] + html.split("</table>", 1)[1])
    assert not re.findall(r"\d\.\d", text), re.findall(r".{30}\d\.\d.{30}", text)[:5]
    assert re.search(r"\d,\d{2}", text)
    assert "[0," in text or "; 0," in text  # intervals as [low; high]
    english = visible_text(page(client, seeded, report_key(session, seeded), lang="en"))
    assert re.search(r"\d\.\d{2}", english) and not re.search(r"\d,\d{2}\b", english)


def test_warnings_in_the_dutch_report_are_in_dutch(client, session):
    # Few respondents: every subscale warns that alpha and omega are unstable below 30.
    seeded = seed(session, {"Noord": {"a": 6, "b": 6}})
    headers = report_key(session, seeded)
    reliability = client.get(
        "/api/v1/reports/reliability", params={"wave_id": seeded.wave.id, "form": "jongere"}, headers=headers
    ).json()
    assert any("unstable" in warning for entry in reliability["subscales"] for warning in entry["warnings"])
    text = visible_text(page(client, seeded, headers))
    for english in (
        "unstable",
        "cannot be",
        "respondents answered",
        "Alpha of",
        "is hidden",
        "of the answers",
    ):
        assert english not in text, re.findall(f".{{120}}{re.escape(english)}.{{60}}", text)[:2]
    assert "onstabiel" in text


def test_items_show_their_text_and_legends_their_answer_labels(client, session):
    seeded = seed(session, {"Noord": {"a": 9, "c": 6}, "Zuid": {"d": 8, "e": 7}})
    html = page(client, seeded, report_key(session, seeded))
    instrument = published_instrument()
    form = instrument.form("jongere")
    for item in form.items():
        assert f"<td>{item.id}" in html or f'nowrap">{item.id}' in html
        assert neutral_label(item, "nl", instrument.neutral_name["nl"]) in html
    for point in instrument.scale.points:
        label = instrument.scale.labels[point]["nl"]
        assert f"{point} {label}</text>" in html  # in the legend of every distribution plot
    english = page(client, seeded, report_key(session, seeded), lang="en")
    assert f"5 {instrument.scale.labels[5]['en']}</text>" in english


def test_professionals_are_ordered_by_code_never_by_score(client, session):
    sizes = {"Noord": {"k": 6, "b": 7, "x": 6, "a": 8}, "Zuid": {"m": 9, "c": 6}}
    seeded = seed(session, sizes, missing=0.0)
    headers = report_key(session, seeded)
    html = page(client, seeded, headers)
    section = html.split('id="professionals"')[1]
    first_plot = section.split("</svg>")[0]
    shown = re.findall(r">(C-[a-z])</text>", first_plot)
    assert len(shown) >= 4 and shown == sorted(shown)
    scores = client.get(
        "/api/v1/reports/scores",
        params={"wave_id": seeded.wave.id, "form": "jongere", "level": "professional"},
        headers=headers,
    ).json()
    subscale = scores["subscales"][0]["subscale"]
    means = {group["code"]: group["scores"][subscale]["mean"] for group in scores["groups"]}
    by_score = sorted((code for code in shown), key=lambda code: means[code])
    assert by_score != shown  # the seed makes the two orders differ, so the test can fail
    assert "niet om professionals te rangschikken" in html


def test_one_team_reliability_explained_and_the_profile_shows_the_modules(client, session):
    seeded = seed(session, {"Noord": {"a": 9, "c": 6}, "Zuid": {"d": 8, "e": 7}}, modules=("bejegening",))
    html = page(client, seeded, report_key(session, seeded))
    assert "betr. teamgem." not in html
    groups = html.split('id="groups"')[1].split('id="teams"')[0]
    assert "Betrouwbaarheid van het teamgemiddelde:" in groups
    assert groups.count("ICC(2)") == 3  # a column per professional and two explanations, none per team
    profile = html.split("Profiel per team")[1].split("</div>")[0]
    form = published_instrument().form("jongere")
    titles = [subscale.title["nl"] for subscale in form.core_subscales.values()]
    titles += [subscale.title["nl"] for subscale in form.modules["bejegening"].subscales.values()]
    assert profile.count("<svg") == len(titles) == 6
    for title in titles:
        assert f"<figcaption>{title}</figcaption>" in profile


def test_the_methods_section_in_both_languages(client, session):
    seeded = seed(session, {"Noord": {"a": 6, "b": 6}})
    headers = report_key(session, seeded)
    dutch = page(client, seeded, headers).split('id="methods"')[1]
    for words in (
        "Feldt",
        "paarsgewijze covarianties",
        "één-factormodel",
        "weet ik niet",
        "publicatiesneden",
        "minder dan 5 respondenten",
        "Jacobson",
        "Literatuur",
    ):
        assert words in dutch, words
    english = page(client, seeded, headers, lang="en").split('id="methods"')[1]
    for words in (
        "Feldt",
        "pairwise covariances",
        "one-factor model",
        "don't know",
        "publication cuts",
        "fewer than 5 respondents",
        "References",
    ):
        assert words in english, words


WARNINGS = [
    "Alpha of gezien_worden is 0.65, below .70: the items do not yet measure one thing reliably enough to "
    "compare people or groups on this subscale.",
    "Only 12 respondents answered every item of erbij_horen; alpha and omega are unstable below 30 (see the "
    "width of the interval).",
    "Removing item jg_gz_2 would raise alpha of gezien_worden from 0.71 to 0.76: check its wording and how "
    "respondents read it.",
    "Omega of ertoe_doen cannot be computed: omega needs at least 2 complete rows, got 1.",
    "ICC(1) of gezien_worden is -0.012: teams do not differ more than chance, so no number of respondents "
    "makes a team's mean reliable.",
    "3 of 40 professionals are hidden on gezien_worden: fewer than 5 respondents (or hidden so a hidden one "
    "cannot be worked out).",
    "Alpha of gezien_worden in the baseline wave is -0.20: no detectable change.",
    "2 groups have both a published youth and a published parent mean on erbij_horen: a correlation needs "
    "at least three.",
    "Mixed fit (CFI 0.931, RMSEA 0.071, SRMR 0.052): CFI, RMSEA outside the cut-offs of Hu & Bentler "
    "(1999). The items roughly measure 3 distinct factors, but some items or pairs of items do not behave "
    "as the model expects; look at the loadings.",
]


def test_every_known_warning_has_its_dutch_wording_with_dutch_numbers():
    from app.reports.language import Say

    say = Say(
        "nl", {"gezien_worden": "Gezien worden", "erbij_horen": "Erbij horen", "ertoe_doen": "Ertoe doen"}
    )
    for english in WARNINGS:
        dutch = say.warning(english)
        assert dutch != english, english
        assert not re.search(r"\d\.\d", dutch), dutch
        assert "gezien_worden" not in dutch and "erbij_horen" not in dutch, dutch
        assert not re.search(r"\b(the|cannot|below|would|answers)\b", dutch), dutch
    assert "0,65" in say.warning(WARNINGS[0]) and "Gezien worden" in say.warning(WARNINGS[0])
    assert say.warning("Something new.") == "Something new."  # unknown: shown as it is, never dropped
    assert Say("en", {"gezien_worden": "Seen"}).warning(WARNINGS[0]).startswith("Alpha of Seen is 0.65")
    assert say.interval([-0.5, 0.25]) == "[−0,50; 0,25]" and say.signed(0.1) == "+0,10"
    assert Say("en").interval([-0.5, 0.25]) == "[−0.50, 0.25]"


def test_a_report_read_again_is_reused_until_its_version_changes(client, session, monkeypatch):
    """The computed page is kept while the published cut, the wave and the names it shows are the
    same; a new cut, a renamed team, another language or retention make it computed anew."""
    import numpy as np

    from app.reports import views
    from tests.app.test_reports import item_ids, random_answers, store

    computed: list[int] = []
    original = views.report_context

    def counting(*args, **kwargs):
        computed.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(views, "report_context", counting)
    seeded = seed(session, {"Noord": {"a": 6, "b": 6}}, missing=0.0)
    headers = report_key(session, seeded)
    first = page(client, seeded, headers)
    assert page(client, seeded, headers) == first and len(computed) == 1  # the same minute: the same page
    page(client, seeded, headers, lang="en")
    assert len(computed) == 2
    rng = np.random.default_rng(3)
    for _ in range(4):  # pending: no new cut, the same numbers
        store(session, seeded.wave, seeded.professionals["a"], random_answers(rng, 3.0, item_ids(()), 0.0))
    assert page(client, seeded, headers) == first and len(computed) == 2
    store(session, seeded.wave, seeded.professionals["a"], random_answers(rng, 3.0, item_ids(()), 0.0))
    published = page(client, seeded, headers)  # the fifth makes a batch: a new cut
    assert len(computed) == 3 and published != first
    seeded.teams["Noord"].name = "Noordkant"
    session.add(seeded.teams["Noord"])
    session.commit()
    assert "Noordkant" in page(client, seeded, headers) and len(computed) == 4
    seeded.wave.name = "Voorjaar, hernoemd"
    session.add(seeded.wave)
    session.commit()
    assert "Voorjaar, hernoemd" in page(client, seeded, headers) and len(computed) == 5
    aggregate_only = report_key(session, seeded, "reports:aggregate")
    assert "C-a" not in page(client, seeded, aggregate_only) and len(computed) == 6


def test_retention_makes_the_report_computed_anew(client, session, monkeypatch):
    from datetime import timedelta

    from app.db import utcnow
    from app.models import Response
    from app.publication.retention import apply_retention

    seeded = seed(session, {"Noord": {"a": 6}, "Zuid": {"b": 6}}, missing=0.0)
    headers = report_key(session, seeded)
    before = page(client, seeded, headers)
    assert "C-b" in before
    rows = session.exec(
        select(Response).where(Response.professional_id == seeded.professionals["b"].id)
    ).all()
    for row in rows:
        row.submitted_at = utcnow() - timedelta(days=400)
        session.add(row)
    session.commit()
    assert apply_retention(session, retention_days=365) == 6
    session.commit()
    after = page(client, seeded, headers)
    assert "C-b" not in after and "C-a" in after
