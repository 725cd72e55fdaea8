"""The respondent pages speak to each reader in their own voice, say who asks, and ask once about
skipped questions: every page a parent, a young person or a professional can see, rendered."""

from __future__ import annotations

import html as html_lib
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, func, select

from app.collection import caches
from app.collection.service import minutes_to_fill_in
from app.models import Response
from tests.app.test_collection import form_fields, item_ids, make_dead
from tests.factories.collection import make_invitation, make_wave
from tests.factories.organisation import make_municipality, make_professional, make_team

# "je/jij/jouw" (and je-forms: jezelf, jullie is fine for both) never on a parent's page; "u/uw" never on a
# young person's. Whole words, any case, after the markup is stripped.
YOUTH_WORDS = re.compile(r"\b(je|jij|jou|jouw|jezelf)\b", re.IGNORECASE)
PARENT_WORDS = re.compile(r"\b(u|uw|uzelf)\b", re.IGNORECASE)
PAGES = ("form", "error", "skipped", "thanks", "revoked", "expired", "closed", "not_open", "used")


@pytest.fixture
def municipality(session: Session):
    municipality = make_municipality(session, "Bars-A")
    municipality.display_name = "Gemeente Bars, team Jeugd"
    municipality.contact_email = "jeugd@bars.example.nl"
    municipality.contact_phone = "14 010"
    municipality.privacy_url = "https://www.bars.example.nl/privacy"
    session.add(municipality)
    session.flush()
    return municipality


def link(session: Session, municipality, form: str, *, kind: str = "open", modules: tuple[str, ...] = ()):
    team = make_team(session, municipality)
    professional = make_professional(session, team, display_name="Daan", role="wijkagent")
    wave = make_wave(session, municipality, modules=modules)
    return wave, make_invitation(session, wave, professional, form=form, kind=kind)


def visible_text(page: str) -> str:
    """What a reader sees: the text between tags (title included), unescaped; no scripts exist."""
    page = re.sub(r"<(style|script)\b.*?</\1>", " ", page, flags=re.DOTALL)
    return html_lib.unescape(re.sub(r"<[^>]+>", " ", page))


def rendered_pages(client, session: Session, municipality, form: str) -> dict[str, str]:
    """Every page of one form's road, in Dutch: the form, its error, the skipped prompt, the thanks,
    and each link status page."""
    pages = {}
    wave, invitation = link(session, municipality, form)
    token = invitation.token
    page = client.get(f"/s/{token}").text
    pages["form"] = page
    fields = form_fields(page)
    pages["error"] = client.post(f"/s/{token}", data=fields).text
    first = item_ids(page)[0]
    pages["skipped"] = client.post(f"/s/{token}", data={**fields, first: "3"}).text
    sent = client.post(f"/s/{token}", data={**fields, **dict.fromkeys(item_ids(page), "4")})
    pages["thanks"] = sent.text
    for change in ("revoked", "expired", "closed", "not_open"):
        wave, invitation = link(session, municipality, form)
        make_dead(session, change, invitation, wave)
        pages[change] = client.get(f"/s/{invitation.token}").text
    _, personal = link(session, municipality, form, kind="personal")
    personal_page = client.get(f"/s/{personal.token}").text
    client.post(
        f"/s/{personal.token}",
        data={**form_fields(personal_page), **dict.fromkeys(item_ids(personal_page), "4")},
    )
    pages["used"] = client.get(f"/s/{personal.token}").text
    assert set(pages) == set(PAGES)
    return pages


def test_a_parent_is_addressed_as_u_on_every_page(client, session, municipality):
    for name, page in rendered_pages(client, session, municipality, "ouder").items():
        text = visible_text(page)
        assert not YOUTH_WORDS.findall(text), (name, YOUTH_WORDS.findall(text), text)
    assert PARENT_WORDS.search(visible_text(rendered_pages(client, session, municipality, "ouder")["form"]))


@pytest.mark.parametrize("form", ["jongere", "professional"])
def test_a_young_person_and_a_professional_are_addressed_as_je_on_every_page(
    client, session, municipality, form
):
    for name, page in rendered_pages(client, session, municipality, form).items():
        text = visible_text(page)
        assert not PARENT_WORDS.findall(text), (name, PARENT_WORDS.findall(text), text)


def test_the_self_report_shows_its_own_title_and_a_privacy_text_that_fits(client, session, municipality):
    _, invitation = link(session, municipality, "professional")
    text = visible_text(client.get(f"/s/{invitation.token}").text)
    assert "Jouw plek in de samenwerking" in text
    assert "Over Daan" not in text and "Daan ziet" not in text
    assert "samen met die van minstens vijf anderen" in text


@pytest.mark.parametrize("page", ["form", "thanks", "revoked", "expired"])
def test_the_sender_is_named_with_its_contact(client, session, municipality, page):
    text = visible_text(rendered_pages(client, session, municipality, "jongere")[page])
    assert "Gemeente Bars, team Jeugd" in text
    assert "jeugd@bars.example.nl" in text and "14 010" in text


def test_a_link_page_says_whom_to_ask_for_a_new_code(client, session, municipality):
    pages = rendered_pages(client, session, municipality, "ouder")
    assert "Vraag een nieuwe QR-code aan Gemeente Bars, team Jeugd." in visible_text(pages["expired"])
    unknown = visible_text(client.get("/s/no-such-token-xxxxxxxxxxxxxxxxxxxx").text)
    assert "Vraag een nieuwe QR-code aan wie de code gaf." in unknown


def test_not_started_yet_gives_the_first_day(client, session, municipality):
    wave, invitation = link(session, municipality, "jongere")
    wave.opens_at = datetime(2031, 3, 3, 23, 0, tzinfo=UTC)  # Tuesday 4 March 2031, 0:00 in Amsterdam
    session.add(wave)
    session.flush()
    assert "gaat open op dinsdag 4 maart 2031." in visible_text(client.get(f"/s/{invitation.token}").text)
    english = visible_text(client.get(f"/s/{invitation.token}?lang=en").text)
    assert "opens on Tuesday 4 March 2031." in english


def test_status_pages_have_the_language_switch(client, session, municipality):
    wave, invitation = link(session, municipality, "jongere")
    make_dead(session, "closed", invitation, wave)
    page = client.get(f"/s/{invitation.token}").text
    assert 'href="?lang=en"' in page
    english = client.get(f"/s/{invitation.token}?lang=en").text
    assert '<html lang="en">' in english and "The questionnaire has closed" in english


def test_english_translates_the_role(client, session, municipality):
    _, invitation = link(session, municipality, "jongere")
    assert "About Daan, community police officer" in client.get(f"/s/{invitation.token}?lang=en").text


def test_the_time_estimate_follows_the_number_of_items(client, session, municipality):
    _, core = link(session, municipality, "jongere")
    _, longer = link(session, municipality, "jongere", modules=("bejegening",))
    core_text = visible_text(client.get(f"/s/{core.token}").text)
    longer_text = visible_text(client.get(f"/s/{longer.token}").text)
    assert f"12 vragen · ongeveer {minutes_to_fill_in(12)} minuten" in core_text
    assert f"21 vragen · ongeveer {minutes_to_fill_in(21)} minuten" in longer_text
    assert minutes_to_fill_in(21) > minutes_to_fill_in(12)
    assert "ongeveer 2 minuten" not in longer_text


def test_sections_have_a_heading_with_their_part(client, session, municipality):
    _, invitation = link(session, municipality, "ouder", modules=("bejegening",))
    page = client.get(f"/s/{invitation.token}").text
    assert re.findall(r"<h2 id=\"part-\d\">([^<]+)</h2>", page)[:2] == [
        "Deel 1 van 6 · Gezien worden",
        "Deel 2 van 6 · Erbij horen",
    ]


# -- the skipped-questions prompt -------------------------------------------------------------------


def stored(session: Session) -> int:
    return session.exec(select(func.count()).select_from(Response)).one()


def test_too_many_skipped_questions_ask_once_and_store_nothing(client, session, municipality):
    _, invitation = link(session, municipality, "jongere")
    page = client.get(f"/s/{invitation.token}").text
    ids = item_ids(page)
    answers = {**form_fields(page), **dict.fromkeys(ids[:4], "4")}  # 4 of 12: two subscales lost
    response = client.post(f"/s/{invitation.token}", data=answers, follow_redirects=False)
    assert response.status_code == 200
    assert stored(session) == 0
    text = visible_text(response.text)
    assert "Je hebt 8 vragen overgeslagen. Wil je ze nog invullen?" in text
    question = re.search(r'<p class="ask">([^<]+)</p>', response.text)
    assert question and question.group(1).endswith("?")
    buttons = re.findall(r"<button[^>]*>([^<]+)</button>", response.text)
    assert any("toch" in label.lower() for label in buttons)
    assert f'href="#q-{ids[4]}"' in response.text  # back to the first skipped question
    assert response.text.count(" checked") == 4  # the answers given are kept
    assert "<script" not in response.text

    sent = client.post(f"/s/{invitation.token}", data={**answers, "skipped": "send"}, follow_redirects=False)
    assert sent.status_code == 303
    assert session.exec(select(Response.answers)).one() == "4444" + "." * 8


def test_the_prompt_in_english_has_send_anyway(client, session, municipality):
    _, invitation = link(session, municipality, "ouder")
    page = client.get(f"/s/{invitation.token}?lang=en").text
    response = client.post(f"/s/{invitation.token}", data={**form_fields(page), item_ids(page)[0]: "2"})
    assert "You skipped 11 questions. Would you like to answer them?" in response.text
    assert "Send anyway" in response.text


def test_the_parent_prompt_says_u(client, session, municipality):
    _, invitation = link(session, municipality, "ouder")
    page = client.get(f"/s/{invitation.token}").text
    response = client.post(f"/s/{invitation.token}", data={**form_fields(page), item_ids(page)[0]: "2"})
    assert "U hebt 11 vragen overgeslagen. Wilt u ze nog invullen?" in response.text


def test_one_skip_that_keeps_every_score_is_not_asked_about(client, session, municipality):
    _, invitation = link(session, municipality, "jongere")
    page = client.get(f"/s/{invitation.token}").text
    ids = item_ids(page)
    answers = {**form_fields(page), **dict.fromkeys(ids[1:], "5")}  # 3 of 4 in gezien_worden still scores
    assert client.post(f"/s/{invitation.token}", data=answers, follow_redirects=False).status_code == 303
    assert stored(session) == 1


def test_dont_know_is_an_answer_not_a_skip(client, session, municipality):
    _, invitation = link(session, municipality, "jongere")
    page = client.get(f"/s/{invitation.token}").text
    answers = {**form_fields(page), **dict.fromkeys(item_ids(page), "x")}
    assert client.post(f"/s/{invitation.token}", data=answers, follow_redirects=False).status_code == 303
    assert session.exec(select(Response.answers)).one() == "?" * 12


def test_the_first_post_without_a_shown_form_asks_too(client, session, municipality):
    """The hot path (a link this process knows) and the full path ask the same question."""
    _, invitation = link(session, municipality, "jongere")
    page = client.get(f"/s/{invitation.token}").text
    fields = form_fields(page)

    caches.reset()  # as a new worker: the full path
    full = client.post(f"/s/{invitation.token}", data={**fields, item_ids(page)[0]: "1"})
    client.get(f"/s/{invitation.token}")  # the hot path
    hot = client.post(f"/s/{invitation.token}", data={**fields, item_ids(page)[0]: "1"})
    assert full.status_code == hot.status_code == 200
    assert "Toch versturen" in full.text and "Toch versturen" in hot.text
    assert stored(session) == 0


def test_the_api_stores_what_it_gets(client, session, municipality):
    from tests.factories.organisation import make_key

    _, invitation = link(session, municipality, "jongere")
    headers = make_key(session, municipality, "responses:write")
    body = {"token": invitation.token, "answers": {"jg_gz_1": 3, "jg_gz_2": None}}
    assert client.post("/api/v1/responses", json=body, headers=headers).status_code == 201
    assert session.exec(select(Response.answers)).one() == "3?" + "." * 10


def test_the_first_day_is_not_in_the_past_for_a_wave_opening_tomorrow(client, session, municipality):
    wave, invitation = link(session, municipality, "ouder")
    wave.opens_at = datetime.now(UTC) + timedelta(days=1)
    session.add(wave)
    session.flush()
    text = visible_text(client.get(f"/s/{invitation.token}").text)
    assert "Deze vragenlijst gaat open op" in text and "Vanaf die dag kunt u hem invullen." in text


def test_the_thank_you_page_from_another_process_names_the_sender(client, session, municipality):

    _, invitation = link(session, municipality, "ouder")
    caches.reset()  # as if another worker showed the form
    page = client.get(f"/s/{invitation.token}/bedankt?lang=nl")
    assert page.status_code == 200
    text = visible_text(page.text)
    assert "Hartelijk dank!" in text and "Gemeente Bars, team Jeugd" in text


def test_the_thank_you_page_thanks_even_when_the_database_is_down(client, session, municipality, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from app.collection import service

    def unreachable(*_args: object) -> None:
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    caches.reset()
    monkeypatch.setattr(service, "link_sender", unreachable)
    page = client.get("/s/some-token-xxxxxxxxxxxxxxxxxxxx/bedankt?lang=nl")
    assert page.status_code == 200 and "Dank je wel!" in page.text
