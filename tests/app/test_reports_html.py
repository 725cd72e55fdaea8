"""The printable HTML report: self-contained, disclosure-controlled, scope-aware."""

from __future__ import annotations

import re

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
    assert f"{alpha:.3f}" in html
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
