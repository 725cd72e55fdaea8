"""The web app in Dutch first and in English (issue #16): every text in both languages, every
``/app/`` page in English without Dutch leftovers, the choice remembered in the ``lang`` cookie,
and the Dutch pages as they were (the contract texts of the issue)."""

from __future__ import annotations

import html
import re
import string

from sqlmodel import Session

from app.webapp import language
from tests.app import test_webapp_walk as walk
from tests.app.test_webapp_walk import app_pages, fill, person
from tests.factories.collection import make_wave
from tests.factories.organisation import make_municipality, make_professional, make_team
from tests.factories.users import make_user, signed_in_headers

client = walk.client  # the walk's fixtures: a client without rate limits, and its world of objects
world = walk.world

# Words an English page never has unless a Dutch text was left behind (whole words, any case).
DUTCH_WORDS = (
    "de",
    "het",
    "een",
    "van",
    "niet",
    "nog",
    "en",
    "u",
    "uw",
    "meetronde",
    "meetrondes",
    "antwoorden",
    "antwoord",
    "vragenlijst",
    "gepubliceerd",
    "ontvangen",
    "opslaan",
    "toevoegen",
    "wijzigen",
    "terug",
    "naam",
    "jongeren",
    "ouders",
    "gebruikers",
    "sleutel",
    "logboek",
    "overzicht",
    "maken",
    "geen",
    "zijn",
    "wordt",
    "kies",
    "vul",
)
SENTINEL = re.compile(r"\b(" + "|".join(DUTCH_WORDS) + r")\b", re.IGNORECASE)
ATTRIBUTE_TEXT = re.compile(r'\b(?:aria-label|title|placeholder|alt)="([^"]*)"')
# Pages whose body is for respondents (the printed QR sheets) stay Dutch: not the staff's language.
RESPONDENT_PAGES = ("/app/waves/{wave_id}/sheets",)
# Fixed names that are Dutch in every language: the CSV columns (naam;rol;team;partner;code).
KEPT = ("naam;rol;team;partner;code", "‘naam’")


def visible_text(page: str) -> str:
    """What a reader (or a screen reader) meets: the text and the labelling attributes, no markup."""
    page = re.sub(r"<(svg|style|script|code|pre)\b.*?</\1>", " ", page, flags=re.DOTALL)
    attributes = " ".join(ATTRIBUTE_TEXT.findall(page))
    text = re.sub(r"<[^>]+>", " ", page) + " " + attributes
    return html.unescape(text)


def dutch_leftovers(page: str, names: tuple[str, ...]) -> list[str]:
    text = visible_text(page)
    for kept in (*KEPT, *names):
        text = text.replace(kept, " ")
    return [text[max(0, m.start() - 40) : m.end() + 40] for m in SENTINEL.finditer(text)]


# -- the texts ------------------------------------------------------------------------------------------


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_text_is_there_in_both_languages_with_the_same_placeholders():
    texts = language.messages()
    assert set(texts) == {"nl", "en"}
    assert set(texts["nl"]) == set(texts["en"]), set(texts["nl"]) ^ set(texts["en"])
    for key, dutch in texts["nl"].items():
        assert isinstance(dutch, str) and dutch.strip(), key
        assert _placeholders(dutch) == _placeholders(texts["en"][key]), key


def test_every_key_a_template_or_module_names_exists():
    from pathlib import Path

    root = Path(language.__file__).parents[1]
    keys = set(language.messages()["nl"])
    used: set[str] = set()
    for template in (root / "templates" / "app").glob("*.html"):
        text = template.read_text(encoding="utf-8")
        used |= set(re.findall(r"\bt\.([a-z][a-z0-9_]*)\b", text))
        used |= set(re.findall(r"\bt\(\s*\"([a-z][a-z0-9_]*)\"\s*[,)]", text))
    for module in (root / "webapp").glob("*.py"):
        used |= set(re.findall(r"\bsay\(\s*\"([a-z][a-z0-9_]*)\"\s*[,)]", module.read_text(encoding="utf-8")))
    used -= {"get", "lang"}  # Mapping methods and attributes of the texts object
    assert used and used <= keys, sorted(used - keys)


def test_the_language_comes_from_the_query_then_the_cookie_then_dutch():
    assert language.chosen("en", "nl") == "en"
    assert language.chosen(None, "en") == "en"
    assert language.chosen("fr", "xx") == "nl"
    assert language.chosen(None, None) == "nl"
    with language.speaking("en"):
        assert language.say("field_missing") == "Fill this in."
        assert language.number(0.5, 1) == "0.5"
    assert language.say("field_missing") == "Vul dit in."
    assert language.number(0.5, 1) == "0,5"


# -- every page in English --------------------------------------------------------------------------------


def test_every_app_page_in_english_has_no_dutch_left(client, session, settings, app, world):
    headers, _ = person(client, session, settings, world.a, "admin")
    from sqlmodel import select

    from app.models import User

    people = tuple(session.exec(select(User.display_name)).all())  # data, not texts: "Kim de Vries"
    names = ("ALLEEN-VAN-A", "Gemeente", "walk.marker", *people)
    checked = []
    for page in app_pages(app):
        if page.method != "GET":
            continue
        path, params = fill(page, world.ids)
        response = client.get(path, params={**params, "lang": "en"}, headers=headers, follow_redirects=False)
        assert response.status_code < 500, page.label
        if "text/html" not in response.headers.get("content-type", ""):
            continue
        body = response.text
        if page.path in RESPONDENT_PAGES:  # the sheets stay Dutch; only the staff's frame is English
            body = re.search(r'<div class="screen-only" lang="en">.*?</div>', body, flags=re.DOTALL).group(0)
            assert "Back to the wave" in body and "Vragenlijst voor" in response.text
        elif page.path == "/app/waves/{wave_id}/report":
            body = re.search(r'<nav class="apppanel".*?</nav>', body, flags=re.DOTALL).group(0)
        else:
            assert '<html lang="en">' in response.text, page.label
        assert not dutch_leftovers(body, names), (page.label, dutch_leftovers(body, names))
        assert "Nederlands" in body or page.path in RESPONDENT_PAGES, page.label  # the way back
        checked.append(page.label)
    assert len(checked) >= 12, checked


def test_the_switch_link_of_every_page_opens_a_page(client, session, settings, app, world):
    """The link "English" / "Nederlands" of every GET page, and of a refused form, answers 200."""
    headers, token = person(client, session, settings, world.a, "admin")
    for page in app_pages(app):
        if page.method != "GET" or page.path in RESPONDENT_PAGES:
            continue
        path, params = fill(page, world.ids)
        response = client.get(path, params=params, headers=headers)
        found = re.search(r'href="([^"]+)" hreflang="en" lang="en">English</a>', response.text)
        if "text/html" not in response.headers.get("content-type", ""):
            continue
        assert found, page.label
        switched = client.get(html.unescape(found.group(1)), headers=headers)
        assert switched.status_code == 200, (page.label, found.group(1))
    refused = client.post("/app/partners", data={"partner_name": "", "csrf_token": token}, headers=headers)
    assert refused.status_code == 422
    assert 'href="/app/teams?lang=en"' in refused.text


# -- the choice remembered ------------------------------------------------------------------------------


def test_the_choice_is_kept_in_a_cookie_for_every_later_page_form_and_message(client, session, settings):
    town = make_municipality(session, "Gemeente Oost")
    team = make_team(session, town, "Team Oost")
    make_professional(session, team, display_name="Sam")
    user = make_user(session, town, "coordinator")
    cookie = signed_in_headers(session, settings, user)["Cookie"]
    first = client.get("/app/teams?lang=en", headers={"Cookie": cookie})
    assert first.status_code == 200 and '<html lang="en">' in first.text
    set_cookie = first.headers["set-cookie"]
    assert set_cookie.startswith("lang=en;") and "SameSite=Lax" in set_cookie and "Path=/app" in set_cookie
    assert "HttpOnly" in set_cookie
    english = {"Cookie": f"{cookie}; lang=en"}
    again = client.get("/app/teams", headers=english)
    assert "Add a team" in again.text and "set-cookie" not in again.headers
    token = re.search(r'name="csrf_token" value="([^"]+)"', again.text).group(1)
    # A refused form comes back in English, with its field message.
    refused = client.post("/app/teams", data={"name": "", "csrf_token": token}, headers=english)
    assert refused.status_code == 422
    assert "The team was not added" in refused.text and "Enter the team&#39;s name." in refused.text
    # A stored form's notice after the redirect.
    added = client.post(
        "/app/teams", data={"name": "Team West", "csrf_token": token}, headers=english, follow_redirects=False
    )
    assert added.status_code == 303
    notice = client.get(added.headers["location"], headers=english)
    assert "Team ‘Team West’ has been added." in notice.text
    # A field message of the services (forms.py) and a CSV import's row errors.
    team_page = client.post(
        f"/app/teams/{team.id}/professionals",
        data={"display_name": "Noor", "role": "", "code": "", "csrf_token": token},
        headers=english,
    )
    assert team_page.status_code == 422 and "Fill this in." in team_page.text
    preview = client.post(
        "/app/teams/import",
        data={"csv_text": "naam;rol;team\nKim;wijkagent;Team Nergens\n", "csrf_token": token},
        headers=english,
    )
    assert preview.status_code == 422
    assert "1 row cannot be imported" in preview.text
    assert "Team ‘Team Nergens’ does not exist. Create it first on the Teams page." in preview.text
    # Back to Dutch with ?lang=nl: the cookie follows.
    dutch = client.get("/app/teams?lang=nl", headers=english)
    assert '<html lang="nl">' in dutch.text and dutch.headers["set-cookie"].startswith("lang=nl;")
    assert "Een team toevoegen" in dutch.text


def test_error_pages_speak_the_chosen_language(client, session, settings):
    town = make_municipality(session, "Gemeente Zuid")
    user = make_user(session, town, "coordinator")
    cookie = signed_in_headers(session, settings, user)["Cookie"]
    missing = client.get("/app/waves/999999", headers={"Cookie": f"{cookie}; lang=en"})
    assert missing.status_code == 404 and '<html lang="en">' in missing.text
    assert "This page does not exist" in missing.text and "Error code 404." in missing.text
    forbidden = client.get("/app/users?lang=en", headers={"Cookie": cookie})
    assert forbidden.status_code == 403 and "You may not open this" in forbidden.text
    dutch = client.get("/app/waves/999999", headers={"Cookie": cookie})
    assert dutch.status_code == 404 and '<html lang="nl">' in dutch.text
    assert "Deze pagina bestaat niet" in dutch.text and "Foutcode 404." in dutch.text


# -- the Dutch contract, and its English twin --------------------------------------------------------------


def test_the_wave_page_says_what_is_still_needed_in_digits_in_both_languages(
    client, session: Session, settings
):
    import numpy as np

    from tests.app.test_reports import item_ids, random_answers, store

    town = make_municipality(session, "Gemeente Midden")
    team = make_team(session, town, "Team Midden")
    professional = make_professional(session, team, display_name="Sam")
    wave = make_wave(session, town, name="Voorjaar")
    rng = np.random.default_rng(1)
    for _ in range(3):
        store(session, wave, professional, random_answers(rng, 3.3, item_ids(), 0.0))
    user = make_user(session, town, "coordinator")
    cookie = signed_in_headers(session, settings, user)["Cookie"]
    dutch = client.get(f"/app/waves/{wave.id}", headers={"Cookie": cookie}).text
    needed = settings.min_group_size - 3
    assert "Sam: 3 antwoorden ontvangen" in dutch
    assert f"nog {needed} antwoorden nodig" in dutch
    assert 'name="csrf_token"' in dutch
    english = client.get(f"/app/waves/{wave.id}?lang=en", headers={"Cookie": cookie}).text
    assert "Sam: 3 responses received" in english
    assert f"{needed} more responses needed" in english
    assert "nodig" not in english


def test_no_text_key_is_named_like_an_attribute_of_the_texts():
    """Templates read ``t.key`` as a plain attribute: a key named like a method would hide it."""
    from app.webapp.language import Texts, messages, texts

    for lang, by_key in messages().items():
        assert not set(by_key) & (set(dir(Texts)) | {"lang", "_texts"}), lang
        shown = texts(lang)
        assert all(getattr(shown, key) == value for key, value in by_key.items())
        assert shown.lang == lang and callable(shown.get)
