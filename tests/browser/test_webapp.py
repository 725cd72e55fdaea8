"""The web app's pages in a real Chromium, on a phone and a laptop: a coordinator adds a team (one
refused name first), opens a wave's progress and its report; axe-core on every page.

The server, the browser and the axe check are those of ``test_phone_form.py``.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlmodel import Session

from tests.browser import test_sign_in as sign_in_pages
from tests.browser.test_phone_form import Server, assert_accessible, shoot
from tests.browser.test_sign_in import SCREENS, check, sign_in, size_of
from tests.factories.collection import make_wave
from tests.factories.organisation import make_municipality, make_professional, make_team
from tests.factories.users import make_user

pytestmark = pytest.mark.browser

browser = sign_in_pages.browser
sqlite_server = sign_in_pages.sqlite_server
screen = sign_in_pages.screen


def coordinator_with_a_wave(server: Server) -> tuple[str, int]:
    with Session(server.database.engine, expire_on_commit=False) as session:
        municipality = make_municipality(session, f"Gemeente {uuid.uuid4().hex[:6]}")
        team = make_team(session, municipality, "Team Centrum")
        make_professional(session, team, display_name="Sam Jansen")
        wave = make_wave(session, municipality)
        user = make_user(session, municipality, "coordinator")
        session.commit()
        assert wave.id is not None
        return user.email, wave.id


@pytest.mark.parametrize("screen", list(SCREENS), indirect=True)
def test_teams_wave_and_report_pages(sqlite_server: Server, screen: Any) -> None:
    page, server = screen, sqlite_server
    name = f"webapp-{size_of(page)}"
    email, wave_id = coordinator_with_a_wave(server)
    sign_in(page, server, email)
    page.wait_for_url("**/app/")

    page.goto(f"{server.base_url}/app/teams")
    assert "Team Centrum" in page.content()
    check(page, f"{name}-teams")
    page.get_by_label("Naam van het team").fill("   ")
    page.get_by_role("button", name="Team toevoegen").click()
    assert page.locator(".error-summary").is_visible()
    check(page, f"{name}-teams-error")
    page.get_by_label("Naam van het team").fill("Team Oost")
    page.get_by_role("button", name="Team toevoegen").click()
    page.wait_for_url("**/app/teams?added=*")
    assert page.get_by_role("status").inner_text() == "Team ‘Team Oost’ is toegevoegd."
    check(page, f"{name}-teams-added")

    page.goto(f"{server.base_url}/app/waves/{wave_id}")
    assert "Sam Jansen: 0 antwoorden ontvangen" in page.locator("main").inner_text()
    assert "nog 5 antwoorden nodig" in page.locator("main").inner_text()
    check(page, f"{name}-wave")
    with page.expect_navigation():
        page.get_by_role("link", name="Rapport Jongeren").click()
    assert page.title() and "nog niets gepubliceerd" in page.content()
    # The report's own page (app/reports) is checked by its tests; here it is only kept as a picture.
    shoot(page, f"{name}-report")


def researcher_and_two_municipalities(server: Server) -> tuple[str, list[tuple[str, int]]]:
    """Two municipalities with a published wave each (nine answers about one professional), and a
    research account that reads both; returns its e-mail and (municipality name, wave id) pairs."""
    from tests.app.test_reports import seed

    with Session(server.database.engine, expire_on_commit=False) as session:
        waves = []
        for place in ("Noord", "Zuid"):
            municipality = make_municipality(session, f"Gemeente {place} {uuid.uuid4().hex[:4]}")
            seeded = seed(
                session, {f"Team {place}": {place.lower(): 9}}, municipality=municipality, missing=0.0
            )
            assert seeded.wave.id is not None
            waves.append((municipality.name, seeded.wave.id))
        user = make_user(session, None, "researcher")
        session.commit()
        return user.email, waves


@pytest.mark.parametrize("screen", list(SCREENS), indirect=True)
def test_a_researcher_reads_two_municipalities_and_downloads_the_sav(
    sqlite_server: Server, screen: Any, tmp_path: Any
) -> None:
    page, server = screen, sqlite_server
    name = f"webapp-researcher-{size_of(page)}"
    email, waves = researcher_and_two_municipalities(server)
    sign_in(page, server, email)
    page.wait_for_url("**/app/")
    for number, (_, wave_id) in enumerate(waves, start=1):
        page.goto(f"{server.base_url}/app/waves/{wave_id}/report?form=jongere")
        assert page.locator("nav.apppanel").is_visible()
        assert page.get_by_role("link", name="antwoorden als SPSS (.sav)").is_visible()
        assert page.get_by_role("link", name="Feedbacklinks per professional").count() == 0  # reads only
        # The report's own page (its wide tables) is checked by its tests: here axe and a picture.
        shoot(page, f"{name}-report-{number}")
        assert_accessible(page, f"{name}-report-{number}")
        with page.expect_download() as download_info:
            page.get_by_role("link", name="antwoorden als SPSS (.sav)").click()
        download = download_info.value
        assert download.suggested_filename.endswith(".sav")
        saved = tmp_path / f"{number}-{download.suggested_filename}"
        download.save_as(saved)
        assert saved.read_bytes()[:4] == b"$FL2"
    page.goto(f"{server.base_url}/app/teams")  # a researcher manages nothing: a Dutch 403 page
    assert "Dit mag u niet openen" in page.content()
    check(page, f"{name}-403")


def admin_with_a_professional(server: Server) -> tuple[str, int]:
    with Session(server.database.engine, expire_on_commit=False) as session:
        municipality = make_municipality(session, f"Gemeente {uuid.uuid4().hex[:6]}")
        make_professional(
            session, make_team(session, municipality, "Team Centrum"), display_name="Sam Jansen"
        )
        wave = make_wave(session, municipality)
        user = make_user(session, municipality, "admin")
        session.commit()
        assert wave.id is not None
        return user.email, wave.id


@pytest.mark.parametrize("screen", list(SCREENS), indirect=True)
def test_an_admin_invites_makes_a_key_reads_the_trail_and_makes_a_feedback_link(
    sqlite_server: Server, screen: Any
) -> None:
    page, server = screen, sqlite_server
    name = f"webapp-admin-{size_of(page)}"
    email, wave_id = admin_with_a_professional(server)
    sign_in(page, server, email)
    page.wait_for_url("**/app/")

    page.goto(f"{server.base_url}/app/users")
    check(page, f"{name}-users")
    page.get_by_label("Naam", exact=True).fill("Ali Yilmaz")
    page.get_by_label("E-mailadres").fill("geen-adres")
    page.get_by_role("button", name="Uitnodiging versturen").click()
    assert page.locator(".error-summary").is_visible()
    assert page.get_by_label("Naam", exact=True).input_value() == "Ali Yilmaz"  # kept
    check(page, f"{name}-users-error")
    page.get_by_label("E-mailadres").fill(f"ali-{uuid.uuid4().hex[:6]}@gemeente.example")
    page.get_by_role("button", name="Uitnodiging versturen").click()
    assert "Ali Yilmaz is uitgenodigd" in page.content()
    check(page, f"{name}-users-invited")

    page.goto(f"{server.base_url}/app/apikeys")
    page.get_by_label("Naam van de sleutel").fill("Koppeling")
    page.get_by_role("button", name="Sleutel maken").click()
    assert page.locator(".error-summary").is_visible()  # no scope chosen
    check(page, f"{name}-apikeys-error")
    page.get_by_label("rapporten lezen").check()
    page.get_by_role("button", name="Sleutel maken").click()
    assert page.locator(".secret-once code").inner_text().startswith("vb_")
    check(page, f"{name}-apikeys-created")

    page.goto(f"{server.base_url}/app/audit")
    assert "apikey.create" in page.content()
    page.get_by_label("Vanaf (datum)").fill("gisteren")
    page.get_by_role("button", name="Filteren").click()
    assert page.locator(".error-summary").is_visible()
    check(page, f"{name}-audit-error")
    page.get_by_label("Vanaf (datum)").fill("")
    page.get_by_label("Actie").select_option("apikey.create")
    page.get_by_role("button", name="Filteren").click()
    check(page, f"{name}-audit")

    page.goto(f"{server.base_url}/app/waves/{wave_id}/feedback")
    page.get_by_role("button", name="Nieuwe feedbacklink voor Sam Jansen").click()
    assert page.get_by_role("status").inner_text() == "De feedbacklink is gemaakt."
    assert page.locator(".qr-small svg").count() == 1 and "/f/" in page.locator(".url").inner_text()
    check(page, f"{name}-feedback-links")
    page.goto(f"{server.base_url}/app/bestaat-niet")
    check(page, f"{name}-404")


# -- a coordinator's whole job: import, copy the last wave, print the team's sheet, follow the answers --

from datetime import timedelta  # noqa: E402
from pathlib import Path  # noqa: E402
from urllib.parse import urlsplit  # noqa: E402

from app.db import utcnow  # noqa: E402
from tests.factories.collection import make_invitation  # noqa: E402

IMPORT_WITH_A_BAD_ROW = (
    "naam;rol;team;partner;code\n"
    "Noor Bakker;wijkagent;Team Centrum;;NOOR-1\n"
    "Ali Demir;jongerenwerker;Team Nergens;;\n"
    "Eva Smit;ambulant hulpverlener;Team Centrum;;\n"
    "Lars Visser;jongerenwerker;team centrum;;\n"
)
IMPORT = "\n".join(line for line in IMPORT_WITH_A_BAD_ROW.splitlines() if "Nergens" not in line) + "\n"


def coordinator_with_last_wave(server: Server) -> str:
    """A municipality whose last wave (closed) asked young people and Sam about Sam."""
    with Session(server.database.engine, expire_on_commit=False) as session:
        municipality = make_municipality(session, f"Gemeente {uuid.uuid4().hex[:6]}")
        team = make_team(session, municipality, "Team Centrum")
        sam = make_professional(session, team, display_name="Sam Jansen", code="SAM-1")
        last = make_wave(
            session,
            municipality,
            opens_at=utcnow() - timedelta(days=120),
            closes_at=utcnow() - timedelta(days=90),
        )
        last.name = "Najaar"
        session.add(last)
        make_invitation(session, last, sam, form="jongere")
        make_invitation(session, last, sam, form="professional")
        user = make_user(session, municipality, "coordinator")
        session.commit()
        return user.email


def answer_without_dont_know(page: Any, respondent: int) -> None:
    """Tap an answer (1-5, never "weet ik niet") on every question, different per respondent."""
    questions = page.locator("fieldset.q")
    for index in range(questions.count()):
        value = str((index + respondent) % 5 + 1)
        questions.nth(index).locator(f"label.c:has(input[value='{value}']) span").tap()


def main_text(page: Any) -> str:
    return " ".join(page.locator("main").inner_text().split())


@pytest.mark.parametrize("screen", list(SCREENS), indirect=True)
def test_a_coordinators_whole_job(sqlite_server: Server, screen: Any, browser: Any, tmp_path: Path) -> None:
    page, server = screen, sqlite_server
    name = f"job-{size_of(page)}"
    sign_in(page, server, coordinator_with_last_wave(server))
    page.wait_for_url("**/app/")
    check(page, f"{name}-01-overview")

    # Import three professionals; the file with a fourth, bad row is refused first, with its message.
    page.get_by_role("link", name="Teams", exact=True).click()
    page.wait_for_url("**/app/teams")
    check(page, f"{name}-02-teams")
    page.get_by_role("link", name="Professionals importeren uit een CSV-bestand").click()
    check(page, f"{name}-03-import")
    bad = tmp_path / "team-met-fout.csv"
    bad.write_text(IMPORT_WITH_A_BAD_ROW, encoding="utf-8")
    page.get_by_label("CSV-bestand").set_input_files(str(bad))
    page.get_by_role("button", name="Voorbeeld bekijken").click()
    summary = page.locator(".error-summary")
    assert "1 regel kan niet worden ingelezen" in summary.inner_text()
    assert "Regel 3: Team ‘Team Nergens’ bestaat niet" in summary.inner_text()
    assert page.get_by_role("button", name="opslaan").count() == 0
    check(page, f"{name}-04-import-refused")
    good = tmp_path / "team.csv"
    good.write_text(IMPORT, encoding="utf-8")
    page.get_by_label("CSV-bestand").set_input_files(str(good))
    page.get_by_role("button", name="Voorbeeld bekijken").click()
    check(page, f"{name}-05-import-preview")
    page.get_by_role("button", name="3 professionals opslaan").click()
    page.wait_for_url("**/app/teams?imported=3")
    assert page.get_by_role("status").inner_text() == "3 professionals zijn toegevoegd."
    page.get_by_role("link", name="Team Centrum").click()
    assert "Noor Bakker" in main_text(page) and "Lars Visser" in main_text(page)
    check(page, f"{name}-06-team")
    page.get_by_role("link", name="Noor Bakker").click()
    check(page, f"{name}-07-professional")

    # Copy the last wave: it opens today; Sam's links come along, the new three get theirs in one go.
    page.get_by_role("link", name="Meetrondes", exact=True).click()
    check(page, f"{name}-08-waves")
    page.get_by_role("link", name="Vorige meetronde kopiëren (Najaar)").click()
    check(page, f"{name}-09-copy")
    page.get_by_label("Naam van de meetronde").fill("Voorjaar")
    page.get_by_label("Eerste dag").fill(f"{utcnow() - timedelta(days=1):%Y-%m-%d}")
    page.get_by_label("Laatste dag (mag leeg)").fill(f"{utcnow() + timedelta(days=30):%Y-%m-%d}")
    page.get_by_role("button", name="Kopie maken").click()
    page.wait_for_url("**/app/waves/*?done=*")
    assert "Sam Jansen: 0 antwoorden ontvangen" in main_text(page)
    assert "Noor Bakker: 0 antwoorden ontvangen" in main_text(page)
    wave_url = page.url.split("?")[0]
    page.get_by_role("button", name="Links maken voor alle professionals").click()
    # Sam's ouder form, and the three forms of each of the three new professionals.
    assert page.get_by_role("status").inner_text() == "10 links gemaakt."
    check(page, f"{name}-10-wave")

    # The team's sheet: one page per professional, each link's URL beside its QR code.
    page.get_by_role("link", name="QR-codes van Team Centrum").click()
    pages = page.locator("section.page")
    assert pages.count() == 4
    sam_page = page.locator("section.page", has_text="Sam Jansen")
    assert sam_page.locator("svg").count() == 2  # jongere and ouder, never Sam's own form
    check(page, f"{name}-11-sheet")
    page.emulate_media(media="print")
    shoot(page, f"{name}-12-sheet-print")
    page.emulate_media(media="screen")
    url = sam_page.locator("section.card", has_text="jongeren").locator("p.url").inner_text()
    path = urlsplit(url).path
    assert path.startswith("/s/")

    # Five young people answer on a phone through the sheet's link; the counts move.
    phone = browser.new_context(viewport={"width": 360, "height": 640}, has_touch=True, is_mobile=True)
    try:
        answering = phone.new_page()
        answering.set_default_timeout(10_000)
        for number in range(1, 6):
            assert answering.goto(f"{server.base_url}{path}").status == 200
            if number == 1:
                shoot(answering, f"{name}-13-form-360x640")
            answer_without_dont_know(answering, number)
            with answering.expect_navigation(url="**/bedankt*"):
                answering.locator("button[type=submit]").tap()
            if number == 2:
                page.goto(wave_url)
                assert "Sam Jansen: 2 antwoorden ontvangen" in main_text(page)
                assert "Jongeren: 2 ontvangen, 0 gepubliceerd, nog 3 antwoorden nodig" in main_text(page)
                check(page, f"{name}-14-wave-two-answers")
        shoot(answering, f"{name}-15-thanks-360x640")
    finally:
        phone.close()
    # The wave page publishes Sam's five (a batch is due) and says so; the report shows them.
    page.goto(wave_url)
    shown = main_text(page)
    assert "Sam Jansen: 5 antwoorden ontvangen" in shown
    assert "Jongeren: 5 ontvangen, 5 gepubliceerd; alles is gepubliceerd" in shown
    assert "Het rapport is het laatst bijgewerkt op" in shown
    check(page, f"{name}-16-wave-published")
    with page.expect_navigation():
        page.get_by_role("link", name="Rapport Jongeren").click()
    report = page.content()
    assert "Team Centrum" in report and "nog niets gepubliceerd" not in report
    shoot(page, f"{name}-17-report")
    page.goto(f"{server.base_url}/app/")
    overview = main_text(page)
    assert "Ontvangen 5 Gepubliceerd 5 Achtergehouden 0" in overview
    assert "1 professional is gepubliceerd" in overview
    check(page, f"{name}-18-overview-after")
