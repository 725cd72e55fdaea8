"""The professional's feedback page (/f/{token}) and the management routes of its links.

The page shows the reports service's own numbers, nothing below the minimum group size, and no
comparison that a report would hide or that would let a small group of colleagues be worked out.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from html import unescape

import pytest
from sqlmodel import Session, delete, select

from app.apikeys.service import create_api_key
from app.db import utcnow
from app.feedback import service as feedback_service
from app.feedback.certainty import Next, certainty
from app.feedback.views import decimal, messages
from app.models import AuditEvent, FeedbackLink, Response
from tests.app.test_reports import SCORES, item_ids, seed, store
from tests.factories.collection import make_wave
from tests.factories.organisation import make_feedback_link, make_key, make_municipality

T = messages()["nl"]
SUBSCALE_TITLES = {"gezien_worden": "Gezien worden", "erbij_horen": "Erbij horen", "ertoe_doen": "Ertoe doen"}


LINK_SCOPES = ("manage", "reports:professional")
"""A feedback link shows a professional's scores: managing links needs both."""


def links(professional_id: int) -> str:
    return f"/api/v1/professionals/{professional_id}/feedback-links"


def new_link(client, session: Session, seeded, name: str) -> dict:
    response = client.post(
        links(seeded.professionals[name].id), headers=make_key(session, seeded.municipality, *LINK_SCOPES)
    )
    assert response.status_code == 201, response.text
    return response.json()


def page_path(link: dict) -> str:
    return "/f/" + link["token"]


def report(client, session: Session, seeded, level: str) -> dict:
    headers = make_key(session, seeded.municipality, "reports:aggregate", "reports:professional")
    params = {"wave_id": seeded.wave.id, "form": "jongere", "level": level}
    response = client.get(SCORES, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def articles(html: str) -> dict[str, str]:
    """The text of each subscale card, by its title."""
    found = {}
    for chunk in html.split('<article class="sub">')[1:]:
        text = unescape(re.sub(r"<[^>]+>", " ", chunk.split("</article>")[0]))
        text = re.sub(r"\s+", " ", text).strip()
        title = next(title for title in SUBSCALE_TITLES.values() if text.startswith(title))
        found[title] = text
    return found


def row_text(card: str, label: str, next_label: str | None) -> str:
    start = card.index(label + " ")
    end = card.index(next_label + " ", start) if next_label else len(card)
    return card[start:end]


def test_the_management_routes_create_list_get_and_revoke(client, session):
    seeded = seed(session, {"Noord": {"a": 2}})
    professional = seeded.professionals["a"]
    headers = make_key(session, seeded.municipality, *LINK_SCOPES)
    created = client.post(links(professional.id), headers=headers)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["status"] == "active" and body["professional_id"] == professional.id
    assert body["url"] == "http://127.0.0.1:8000/f/" + body["token"]
    assert len(body["token"]) == 32
    assert created.headers["cache-control"] == "no-store"
    expiring = client.post(
        links(professional.id),
        json={"expires_at": (utcnow() + timedelta(days=30)).isoformat()},
        headers=headers,
    )
    assert expiring.status_code == 201 and expiring.json()["expires_at"]
    past = client.post(links(professional.id), json={"expires_at": "2020-01-01T00:00:00Z"}, headers=headers)
    assert past.status_code == 422

    listed = client.get(links(professional.id), headers=headers).json()
    assert [link["id"] for link in listed] == [body["id"], expiring.json()["id"]]

    revoked = client.post(f"/api/v1/feedback-links/{body['id']}/revoke", headers=headers)
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    again = client.post(f"/api/v1/feedback-links/{body['id']}/revoke", headers=headers)
    assert again.json()["revoked_at"] == revoked.json()["revoked_at"]
    assert client.get(f"/api/v1/feedback-links/{body['id']}", headers=headers).json()["status"] == "revoked"

    actions = session.exec(
        select(AuditEvent.action).where(AuditEvent.object_type == "feedback_link").order_by(AuditEvent.id)
    ).all()
    assert actions == ["feedback_link.create", "feedback_link.create", "feedback_link.revoke"]


def test_the_management_routes_refuse_other_callers(client, session):
    seeded = seed(session, {"Noord": {"a": 1}})
    professional = seeded.professionals["a"]
    link = make_feedback_link(session, professional)
    other = make_key(session, make_municipality(session), *LINK_SCOPES)
    research = make_key(session, None, *LINK_SCOPES)
    lacking = [
        make_key(session, seeded.municipality, "reports:professional", "reports:aggregate"),
        make_key(session, seeded.municipality, "manage", "reports:aggregate", "responses:read", "admin"),
    ]
    calls = [
        ("POST", links(professional.id)),
        ("GET", links(professional.id)),
        ("GET", f"/api/v1/feedback-links/{link.id}"),
        ("POST", f"/api/v1/feedback-links/{link.id}/revoke"),
    ]
    for method, path in calls:
        assert client.request(method, path).status_code == 401
        for headers in lacking:
            assert client.request(method, path, headers=headers).status_code == 403, (method, path)
        assert client.request(method, path, headers=other).status_code == 404
        assert client.request(method, path, headers=research).status_code == (
            403 if method == "POST" else 200
        )
    session.refresh(link)
    assert link.revoked_at is None


def test_deleting_the_professional_deletes_their_links(client, session):
    seeded = seed(session, {"Noord": {"a": 1}})
    link = new_link(client, session, seeded, "a")
    headers = make_key(session, seeded.municipality, "manage")
    assert (
        client.delete(f"/api/v1/professionals/{seeded.professionals['a'].id}", headers=headers).status_code
        == 204
    )
    assert client.get(page_path(link)).status_code == 404


def test_above_the_minimum_the_page_shows_the_reports_numbers(client, session):
    seeded = seed(session, {"Noord": {"a": 9, "b": 6}, "Zuid": {"d": 8, "e": 7}}, missing=0.0)
    link = new_link(client, session, seeded, "a")
    response = client.get(page_path(link))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert "Hoi Naam a." in html and seeded.wave.name in html
    assert T["explain_3"] in html

    by_professional = report(client, session, seeded, "professional")
    by_team = report(client, session, seeded, "team")
    own = next(group for group in by_professional["groups"] if group["code"] == "C-a")
    team = next(group for group in by_team["groups"] if group["team_name"] == "Noord")
    needed = {entry["subscale"]: entry["respondents_needed"] for entry in by_professional["subscales"]}

    # The service hands the page exactly the reports' cells.
    page = feedback_service.feedback(session, token=link["token"], wave_id=None, min_group_size=5)
    [form] = page.forms
    assert form.form == "jongere" and form.shown
    for entry in form.subscales:
        mine, theirs = own["scores"][entry.subscale], team["scores"][entry.subscale]
        assert entry.own is not None and entry.team is not None and entry.municipality is not None
        assert (entry.own.n, entry.own.mean, entry.own.ci) == (mine["n"], mine["mean"], mine["ci"])
        assert entry.reliability == mine["group_reliability"]
        assert (entry.team.n, entry.team.mean) == (theirs["n"], theirs["mean"])
        assert entry.municipality.n == sum(
            group["scores"][entry.subscale]["n"] for group in by_team["groups"]
        )
        if needed[entry.subscale] is not None:
            assert entry.more_needed == max(needed[entry.subscale] - mine["n"], 0)

    # And the page prints them.
    cards = articles(html)
    assert set(cards) == set(SUBSCALE_TITLES.values())
    for subscale, title in SUBSCALE_TITLES.items():
        card = cards[title]
        mine, theirs = own["scores"][subscale], team["scores"][subscale]
        you = row_text(card, T["you"], T["team"])
        assert decimal(mine["mean"], "nl") in you
        assert T["range"].format(low=decimal(mine["ci"][0], "nl"), high=decimal(mine["ci"][1], "nl")) in you
        assert T["answers"].format(n=mine["n"]) in you
        team_row = row_text(card, T["team"], T["municipality"])
        assert decimal(theirs["mean"], "nl") in team_row and T["answers"].format(n=theirs["n"]) in team_row
        # How sure: a word, the number in small print (a real reliability only), the next step.
        found = certainty(mine["group_reliability"], mine["n"])
        assert f"{T['certainty']} {T['certainty_' + found.band.value]}" in card
        if found.value is not None:
            assert T["certainty_number"].format(value=decimal(found.value, "nl", 2)) in card
        if found.next is Next.near:
            assert f"Vraag nog {found.more} jongere" in card
    # When the numbers were last published, and that they change only by groups of five.
    assert T["updated"].split("{")[0] in html and "minstens 5 nieuwe antwoorden" in html


def test_english_second(client, session):
    seeded = seed(session, {"Noord": {"a": 6}, "Zuid": {"d": 8}}, missing=0.0)
    link = new_link(client, session, seeded, "a")
    nl = client.get(page_path(link)).text
    assert 'lang="nl"' in nl and f'href="/f/{link["token"]}?wave_id={seeded.wave.id}&amp;lang=en"' in nl
    en = client.get(page_path(link), params={"lang": "en"}).text
    assert 'lang="en"' in en and "What young people say" in en and "Being seen" in en
    assert re.search(r"probably between \d\.\d and \d\.\d", en)


def test_below_the_minimum_no_number_is_shown(client, session):
    seeded = seed(session, {"Noord": {"a": 4, "b": 9}, "Zuid": {"d": 8}})
    link = new_link(client, session, seeded, "a")
    html = client.get(page_path(link)).text
    assert T["too_few_jongere"].format(min=5) in html
    assert "<svg" not in html and 'class="value"' not in html and "<article" not in html
    # No number about the professional's four respondents, in any form.
    assert not re.search(r"\b4\b", re.sub(r"<[^>]+>", " ", html).replace(seeded.wave.name, ""))


def test_without_any_response_the_page_says_what_it_waits_for(client, session):
    municipality = make_municipality(session)
    seeded = seed(session, {"Noord": {"a": 0, "b": 7}}, municipality=municipality)
    link = new_link(client, session, seeded, "a")
    response = client.get(page_path(link))
    assert response.status_code == 200
    assert T["too_few_any"].format(min=5) in response.text


def test_colleagues_too_few_to_publish_are_in_no_comparison(client, session):
    # b and c (one response each) never fill a batch: Noord's team number is a's own, and the
    # municipality's is a's and d's. Subtracting the page's cells reveals nobody.
    seeded = seed(session, {"Noord": {"a": 6, "b": 1, "c": 1}, "Zuid": {"d": 7}}, missing=0.0)
    link = new_link(client, session, seeded, "a")
    page = feedback_service.feedback(session, token=link["token"], wave_id=None, min_group_size=5)
    [form] = page.forms
    for entry in form.subscales:
        assert entry.own is not None and entry.own.n == 6
        assert entry.team is None or entry.team.n == 6
        assert entry.municipality is not None and entry.municipality.n == 13
    html = client.get(page_path(link)).text
    assert articles(html) and 'class="value"' in html


def test_a_professional_without_a_full_batch_sees_no_numbers(client, session):
    # b (3) waits for a batch of five: b sees no number, and nobody sees b's answers in a total.
    seeded = seed(session, {"Noord": {"a": 9, "b": 3, "c": 6}, "Zuid": {"d": 8}}, missing=0.0)
    link = new_link(client, session, seeded, "b")
    html = client.get(page_path(link)).text
    assert T["too_few_jongere"].format(min=5) in html
    assert 'class="value"' not in html and "<svg" not in html
    team = next(
        row for row in report(client, session, seeded, "team")["groups"] if row["team_name"] == "Noord"
    )
    assert team["scores"]["gezien_worden"]["n"] == 15  # a and c; b's three are in no number


@pytest.mark.parametrize(
    ("state", "status", "title"),
    [
        ("unknown", 404, "link_title_unknown"),
        ("revoked", 410, "link_title_revoked"),
        ("expired", 410, "link_title_expired"),
        ("other_wave", 404, "link_title_wave"),
        ("bad_wave", 404, "link_title_wave"),
    ],
)
def test_unusable_links_get_their_own_page(client, session, state, status, title):
    seeded = seed(session, {"Noord": {"a": 5}})
    professional = seeded.professionals["a"]
    link = make_feedback_link(
        session,
        professional,
        revoked_at=utcnow() if state == "revoked" else None,
        expires_at=utcnow() - timedelta(minutes=1) if state == "expired" else None,
    )
    token = "x" * 32 if state == "unknown" else link.token
    params = {}
    if state == "other_wave":
        params["wave_id"] = make_wave(session, make_municipality(session)).id
    if state == "bad_wave":
        params["wave_id"] = "99999999999999999999"
    response = client.get(f"/f/{token}", params=params)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    assert T[title] in response.text and "Traceback" not in response.text
    assert "<script" not in response.text


def test_an_older_wave_can_be_chosen(client, session):
    seeded = seed(session, {"Noord": {"a": 6}, "Zuid": {"d": 7}}, missing=0.0)
    later = make_wave(session, seeded.municipality, name="Najaar", opens_at=utcnow())
    for _ in range(2):
        store(session, later, seeded.professionals["a"], {item: 4 for item in item_ids()})
    link = new_link(client, session, seeded, "a")
    latest = client.get(page_path(link)).text
    assert "Najaar" in latest and T["too_few_any"].format(min=5) in latest
    assert f"wave_id={seeded.wave.id}" in latest  # a link to the older wave
    older = client.get(page_path(link), params={"wave_id": seeded.wave.id}).text
    assert articles(older)


def test_the_page_is_light_has_no_script_and_logs_no_token(client, session, caplog):
    seeded = seed(session, {"Noord": {"a": 9, "b": 6}, "Zuid": {"d": 8}})
    link = new_link(client, session, seeded, "a")
    caplog.set_level(logging.DEBUG)
    response = client.get(page_path(link))
    assert response.status_code == 200
    assert "<script" not in response.text and " style=" not in response.text and "<style" not in response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "script-src" not in response.headers["content-security-policy"]
    # The test client's own httpx logger prints the URL it requested; the service prints nothing of it.
    served = [record.getMessage() for record in caplog.records if not record.name.startswith("httpx")]
    assert any("/f/{token}" in message for message in served)
    assert not any(link["token"] in message for message in served)
    stylesheets = re.findall(r'href="(/static/[^"]+\.css)"', response.text)
    css = sum(len(client.get(path).content) for path in stylesheets)
    assert len(response.content) < 24_000 and css < 8_000, (len(response.content), css)

    events = session.exec(select(AuditEvent).where(AuditEvent.action == "feedback.read")).all()
    assert [(event.object_id, event.wave_id) for event in events] == [
        (seeded.professionals["a"].id, seeded.wave.id)
    ]
    assert link["token"] not in (events[0].detail or "")


def test_every_read_is_audited_under_the_key_that_made_the_link(client, session):
    seeded = seed(session, {"Noord": {"a": 6, "b": 5}})
    maker, secret = create_api_key(
        session, municipality_id=seeded.municipality.id, name="coordinator", scopes=list(LINK_SCOPES)
    )
    headers = {"Authorization": f"Bearer {secret}"}
    rated = client.post(links(seeded.professionals["a"].id), headers=headers).json()
    unrated = client.post(links(seeded.professionals["b"].id), headers=headers).json()
    session.exec(delete(Response).where(Response.professional_id == seeded.professionals["b"].id))
    session.flush()

    assert client.get(page_path(rated)).status_code == 200
    assert client.get(page_path(rated), params={"lang": "en"}).status_code == 200
    assert client.get(page_path(unrated)).status_code == 200  # no wave yet: still a read of the page
    client.post(f"/api/v1/feedback-links/{rated['id']}/revoke", headers=headers)
    assert client.get(page_path(rated)).status_code == 410  # shows nothing, records nothing

    events = session.exec(
        select(AuditEvent).where(AuditEvent.action == "feedback.read").order_by(AuditEvent.id)
    ).all()
    assert [(event.api_key_id, event.object_id, event.wave_id, event.detail) for event in events] == [
        (maker.id, seeded.professionals["a"].id, seeded.wave.id, f'{{"feedback_link_id":{rated["id"]}}}'),
        (maker.id, seeded.professionals["a"].id, seeded.wave.id, f'{{"feedback_link_id":{rated["id"]}}}'),
        (maker.id, seeded.professionals["b"].id, None, f'{{"feedback_link_id":{unrated["id"]}}}'),
    ]
    assert all(event.municipality_id == seeded.municipality.id for event in events)
    # The trail can be read back by key: everything a key's links showed.
    admin = make_key(session, seeded.municipality, "admin")
    trail = client.get(
        "/api/v1/audit", params={"api_key_id": maker.id, "action": "feedback.read"}, headers=admin
    )
    assert trail.json()["total"] == 3


def test_a_link_remembers_the_key_that_made_it(client, session):
    seeded = seed(session, {"Noord": {"a": 1}})
    maker, secret = create_api_key(
        session, municipality_id=seeded.municipality.id, name="coordinator", scopes=list(LINK_SCOPES)
    )
    body = client.post(
        links(seeded.professionals["a"].id), headers={"Authorization": f"Bearer {secret}"}
    ).json()
    link = session.get(FeedbackLink, body["id"])
    assert link is not None and link.created_by_api_key_id == maker.id


def test_the_self_report_side_is_the_teams_published_aggregate_only(client, session):
    from app.instrument_versions.service import published_instrument
    from tests.app.test_disclosure_attacks import store_self_report

    seeded = seed(session, {"Noord": {"a": 6, "b": 0, "c": 0, "d": 0}}, missing=0.0)
    items = [item.id for item in published_instrument().form("professional").items(())]
    link = new_link(client, session, seeded, "a")
    for name in ("a", "b", "c", "d"):
        store_self_report(session, seeded, name, dict.fromkeys(items, 4))
    waiting = client.get(page_path(link)).text
    assert T["form_self"] not in waiting  # four self-reports: the team waits for a batch of five
    store_self_report(session, seeded, "a", dict.fromkeys(items, 2))
    html = unescape(client.get(page_path(link)).text)
    section = html.split(T["form_self"], 1)[1].split("</section>", 1)[0]
    assert T["answers"].format(n=5) in section and "3,6" in section  # (4 + 4 + 4 + 4 + 2) / 5
