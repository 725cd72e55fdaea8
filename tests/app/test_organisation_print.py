"""QR codes of invitations and the printable A4 sheet per professional."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
import segno
from sqlmodel import Session

from app.collection.service import minutes_to_fill_in
from app.db import utcnow
from app.organisation import qr
from tests.app.test_organisation_access import one_app_per_backend  # noqa: F401 - an autouse fixture
from tests.factories.collection import make_invitation, make_wave
from tests.factories.organisation import make_key, make_municipality, make_professional, make_team

API = "/api/v1"


@pytest.fixture
def owner(session: Session):
    return make_municipality(session, "Bars-A")


@pytest.fixture
def headers(session: Session, owner) -> dict[str, str]:
    return make_key(session, owner, "manage")


@pytest.fixture
def professional(session: Session, owner):
    return make_professional(session, make_team(session, owner), display_name="Sam", role="jongerenwerker")


@pytest.fixture
def wave(session: Session, owner):
    return make_wave(session, owner, name="Voorjaar 2027")


def test_qr_svg_holds_the_invitation_link(client, session, headers, settings, wave, professional):
    invitation = make_invitation(session, wave, professional)
    response = client.get(f"{API}/invitations/{invitation.id}/qr.svg", headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/svg+xml"
    assert response.headers["cache-control"] == "no-store"
    assert response.content.startswith(b"<?xml") and b"<svg" in response.content
    # The same symbol as a QR code of the link built from its parts: the link is what it encodes.
    assert response.content == qr.qr_svg(f"{settings.base_url}/s/{invitation.token}")


def test_qr_png_is_a_png(client, session, headers, wave, professional):
    invitation = make_invitation(session, wave, professional)
    response = client.get(f"{API}/invitations/{invitation.id}/qr.png", headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.content.startswith(b"\x89PNG\r\n\x1a\n")


def test_the_qr_code_is_scannable_size(settings):
    symbol = segno.make(f"{settings.base_url}/s/{'x' * 32}", error=qr.ERROR_CORRECTION, micro=False)
    assert symbol.version <= 5  # small enough to scan from a phone held at arm's length


def test_print_sheet_shows_the_professional_and_each_active_invitation(
    client, session, headers, owner, wave, professional
):
    jongere = make_invitation(session, wave, professional, form="jongere")
    ouder = make_invitation(session, wave, professional, form="ouder")
    revoked = make_invitation(session, wave, professional)
    revoked.revoked_at = utcnow()
    expired = make_invitation(session, wave, professional, expires_at=utcnow() - timedelta(hours=1))
    closed_wave = make_wave(session, owner, closes_at=utcnow() - timedelta(days=1))
    of_closed_wave = make_invitation(session, closed_wave, professional)
    session.add(revoked)
    session.flush()

    response = client.get(f"{API}/professionals/{professional.id}/invitations.html", headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-store"
    html = response.text
    assert '<html lang="nl">' in html
    assert "<h1>Sam</h1>" in html and "jongerenwerker" in html
    assert "@page" in html and "A4" in html
    shown = {int(found) for found in re.findall(r'data-invitation-id="(\d+)"', html)}
    assert shown == {jongere.id, ouder.id}
    assert not shown & {revoked.id, expired.id, of_closed_wave.id}
    assert html.count("<svg") == 2
    assert str(qr.qr_svg_inline(f"http://127.0.0.1:8000/s/{jongere.token}")) in html
    assert "Voorjaar 2027" in html
    assert "Vragenlijst voor jongeren" in html and "Vragenlijst voor ouders" in html
    minutes = minutes_to_fill_in(12)  # the core items; the wave has no module
    assert f"Invullen duurt ongeveer {minutes} minuten." in html and "geen namen" in html
    assert f"Deze vragenlijst komt van {owner.name}." in html  # the sender
    # Self-contained: nothing is fetched from anywhere when it is opened or printed.
    assert not re.search(r"<(script|link|img)\b", html)


def sheet(client, professional, headers, **params):
    return client.get(
        f"{API}/professionals/{professional.id}/invitations.html", headers=headers, params=params
    )


def shown_ids(html: str) -> set[int]:
    return {int(found) for found in re.findall(r'data-invitation-id="(\d+)"', html)}


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def test_print_sheet_escapes_names(client, session, headers, owner, wave):
    professional = make_professional(
        session, make_team(session, owner), display_name="<b>Sam</b>", role='"wijk" & <buurt>'
    )
    make_invitation(session, wave, professional)
    html = sheet(client, professional, headers).text
    assert "<b>Sam</b>" not in html and "&lt;b&gt;Sam&lt;/b&gt;" in html
    assert "&lt;buurt&gt;" in html


def test_without_an_open_wave_the_sheet_is_404_naming_what_is_coming(client, session, headers, owner):
    professional = make_professional(session, make_team(session, owner))
    response = sheet(client, professional, headers)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "No open wave" in response.json()["detail"]

    later = make_wave(session, owner, name="Najaar", opens_at=utcnow() + timedelta(days=10))
    make_invitation(session, later, professional)
    response = sheet(client, professional, headers)
    assert response.status_code == 404
    assert f"wave_id={later.id}" in response.json()["detail"]


def test_a_wave_with_no_usable_invitation_says_so(client, headers, professional, wave):
    response = sheet(client, professional, headers, wave_id=wave.id)
    assert response.status_code == 200
    assert "geen geldige uitnodigingen" in response.text and "<svg" not in response.text


def test_the_sheet_is_for_one_wave_the_open_one_by_default(client, session, headers, owner, professional):
    now = utcnow()
    current = make_wave(session, owner, name="Voorjaar 2027", opens_at=now - timedelta(days=2))
    upcoming = make_wave(session, owner, name="Najaar 2027", opens_at=now + timedelta(days=30))
    of_current = make_invitation(session, current, professional)
    of_upcoming = make_invitation(session, upcoming, professional)

    by_default = sheet(client, professional, headers)
    assert by_default.status_code == 200
    assert shown_ids(by_default.text) == {of_current.id}
    assert "Najaar 2027" not in by_default.text and "Werkt vanaf" not in by_default.text

    chosen = sheet(client, professional, headers, wave_id=upcoming.id)
    assert chosen.status_code == 200
    assert shown_ids(chosen.text) == {of_upcoming.id}
    assert "Meetronde: Najaar 2027" in text_of(chosen.text)


def test_a_wave_not_yet_open_says_from_when_its_codes_work(client, session, headers, owner, professional):
    # 1 March 2027 08:00 UTC is 09:00 in Amsterdam (CET); 1 May 2027 22:00 UTC is midnight (CEST),
    # so the codes work up to and including 1 May.
    start = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
    end = datetime(2027, 5, 1, 22, 0, tzinfo=UTC)
    upcoming = make_wave(session, owner, name="Voorjaar 2027", opens_at=start, closes_at=end)
    make_invitation(session, upcoming, professional, form="ouder")
    text = text_of(sheet(client, professional, headers, wave_id=upcoming.id).text)
    assert "Werkt vanaf 1 maart 2027 om 9.00 uur" in text
    assert "t/m 1 mei 2027" in text


def test_the_end_of_a_code_is_the_earlier_of_wave_and_expiry(client, session, headers, owner, professional):
    wave = make_wave(session, owner, closes_at=datetime(2099, 6, 30, 22, 0, tzinfo=UTC))
    make_invitation(session, wave, professional, expires_at=datetime(2099, 6, 15, 13, 30, tzinfo=UTC))
    text = text_of(sheet(client, professional, headers).text)
    assert "Werkt tot 15 juni 2099 om 15.30 uur" in text  # CEST: UTC+2
    assert "t/m 30 juni 2099" in text  # the wave itself, in the header


def test_a_closed_or_unknown_wave_is_refused_clearly(client, session, headers, owner, professional):
    closed = make_wave(session, owner, closes_at=utcnow() - timedelta(days=1))
    make_invitation(session, closed, professional)
    response = sheet(client, professional, headers, wave_id=closed.id)
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["query", "wave_id"]
    assert "closed" in response.json()["detail"]
    other_wave = make_wave(session, make_municipality(session, "Elders"))
    assert sheet(client, professional, headers, wave_id=other_wave.id).status_code == 404
    assert sheet(client, professional, headers, wave_id="x").status_code == 422


def test_several_open_waves_need_a_choice(client, session, headers, owner, professional):
    first = make_wave(session, owner, name="Eén")
    second = make_wave(session, owner, name="Twee")
    make_invitation(session, first, professional)
    make_invitation(session, second, professional)
    response = sheet(client, professional, headers)
    assert response.status_code == 422
    assert f"({first.id}, {second.id})" in response.json()["detail"]
    assert sheet(client, professional, headers, wave_id=second.id).status_code == 200


def test_the_self_report_code_is_never_on_the_sheet_for_young_people_and_parents(
    client, session, headers, wave, professional
):
    jongere = make_invitation(session, wave, professional, form="jongere")
    own = make_invitation(session, wave, professional, form="professional")

    for_respondents = sheet(client, professional, headers)
    assert shown_ids(for_respondents.text) == {jongere.id}
    assert own.token not in for_respondents.text
    assert "eigen werk" not in for_respondents.text and "jou als professional" not in for_respondents.text

    for_professional = sheet(client, professional, headers, audience="professional")
    assert for_professional.status_code == 200
    assert shown_ids(for_professional.text) == {own.id}
    assert jongere.token not in for_professional.text
    text = text_of(for_professional.text)
    assert "Alleen voor jou, Sam" in text and "Laat hem niet zien aan jongeren of ouders" in text
    assert "over je eigen plek" in text
    assert sheet(client, professional, headers, audience="iedereen").status_code == 422


def test_a_self_report_code_alone_does_not_open_a_respondent_sheet(
    client, session, headers, wave, professional
):
    make_invitation(session, wave, professional, form="professional")
    assert sheet(client, professional, headers).status_code == 404
    assert sheet(client, professional, headers, audience="professional").status_code == 200
