"""QR codes of invitations and the printable A4 sheet per professional."""

from __future__ import annotations

import re
from datetime import timedelta

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


def test_print_sheet_escapes_names(client, session, headers, owner, wave):
    professional = make_professional(
        session, make_team(session, owner), display_name="<b>Sam</b>", role='"wijk" & <buurt>'
    )
    make_invitation(session, wave, professional)
    html = client.get(f"{API}/professionals/{professional.id}/invitations.html", headers=headers).text
    assert "<b>Sam</b>" not in html and "&lt;b&gt;Sam&lt;/b&gt;" in html
    assert "&lt;buurt&gt;" in html


def test_print_sheet_without_invitations_says_so(client, headers, professional):
    html = client.get(f"{API}/professionals/{professional.id}/invitations.html", headers=headers).text
    assert "geen geldige uitnodigingen" in html and "<svg" not in html


def test_professional_form_instructions_address_the_professional(
    client, session, headers, wave, professional
):
    make_invitation(session, wave, professional, form="professional")
    html = client.get(f"{API}/professionals/{professional.id}/invitations.html", headers=headers).text
    assert "over je eigen werk" in html
