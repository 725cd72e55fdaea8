"""Generated form posts to ``POST /s/{token}``: bad input is refused with a 4xx and stores nothing.

Each post is built from fields hypothesis picks — the form's own questions, ``lang`` and
``submission_id``, unknown names, huge and unicode values, numbers off the scale, repeated fields —
and is judged against what the form promises: a 303 exactly when the post is a valid submission
(one stored response, or none when its submission id was stored before); a valid one whose skipped
questions leave a subscale without a score is asked about once (200, nothing stored) unless it says
"Toch versturen"; otherwise a 4xx and nothing stored; never a 5xx. Runs on SQLite and, when
configured, PostgreSQL.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from urllib.parse import quote_plus, urlencode

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, func, select

from app.collection import service
from app.config import Settings
from app.models import Response
from tests.conftest import Database
from tests.factories.collection import make_invitation, make_wave
from tests.factories.organisation import make_municipality, make_professional, make_team

pytestmark = pytest.mark.slow

MAX_FIELD_BYTES = 4096  # the form parser's limit per field (name and value, as sent)
MAX_FIELDS = 250
ON_SCALE = ("1", "2", "3", "4", "5", "x")
FUZZ_SETTINGS = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def settings(database: Database) -> Settings:
    """Without the submission rate limit: these posts come fast from one address on purpose."""
    return database.settings(submit_rate_limit=0)


@dataclass
class Link:
    token: str
    wave_id: int
    item_ids: tuple[str, ...]
    scoring: tuple[tuple[tuple[str, ...], int], ...]  # each subscale's items and fewest answered


@pytest.fixture
def link(session: Session) -> Link:
    municipality = make_municipality(session, "Fuzz")
    team = make_team(session, municipality)
    professional = make_professional(session, team)
    wave = make_wave(session, municipality)
    invitation = make_invitation(session, wave, professional)
    assert wave.id is not None
    questionnaire = service.open_questionnaire(session, invitation.token)
    scoring = tuple((group.item_ids, group.min_answered) for group in questionnaire.form.subscales())
    return Link(invitation.token, wave.id, questionnaire.item_ids, scoring)


def stored(session: Session, link: Link) -> int:
    return session.exec(
        select(func.count()).select_from(Response).where(Response.wave_id == link.wave_id)
    ).one()


def key_stored(session: Session, submission_id: str) -> bool:
    key = service.submission_key("form", submission_id)
    return (
        session.exec(select(func.count()).select_from(Response).where(Response.submission_key == key)).one()
        > 0
    )


# NUL, bidi overrides and isolates, zero-width characters, the byte-order mark and controls: what
# PostgreSQL cannot store or a name may not hold (#13), mixed into every kind of text below
HOSTILE_CHARACTERS = "\x00\u202e\u2066\u2069\u200b\u200d\ufeff\x1b\r\t"
unicode_text = st.one_of(
    st.text(st.characters(exclude_categories=("Cs",)), max_size=40),
    st.text(st.sampled_from(HOSTILE_CHARACTERS + "abc3"), min_size=1, max_size=20),
)
answer_values = st.one_of(
    st.sampled_from(ON_SCALE),
    st.sampled_from(
        [
            "",
            "0",
            "6",
            "9",
            "-1",
            "00",
            "05",
            "1.0",
            " 1",
            "1 ",
            "X",
            "true",
            "null",
            "٣",
            "²",
            "５",
            "3\x00",
            "\u202e3",
        ]
    ),
    st.integers().map(str),
    st.floats(allow_nan=True).map(str),
    unicode_text,
)
submission_ids = st.one_of(
    st.text(string.ascii_letters + string.digits + "-_", min_size=16, max_size=64),
    unicode_text,
    st.text(min_size=65, max_size=300),
)


@st.composite
def form_posts(draw: st.DrawFn, item_ids: tuple[str, ...]) -> list[tuple[str, str]]:
    """A list of (name, value) fields, repeated names allowed, in any order."""
    names = st.one_of(
        st.sampled_from(item_ids),
        st.sampled_from(item_ids).map(lambda item: item.upper()),
        st.just("lang"),
        unicode_text,
    )
    noise = st.lists(st.tuples(names, answer_values), max_size=20)
    # A third noise only, a third noise among plausible answers, a third plausible answers only:
    # so valid submissions are generated too.
    mix = draw(st.integers(0, 2))
    fields = draw(noise) if mix < 2 else []
    if mix > 0:
        chosen = draw(st.lists(st.sampled_from(item_ids), unique=True, min_size=1))
        fields += [(item, draw(st.sampled_from(ON_SCALE))) for item in chosen]
    if draw(st.booleans()):
        fields.append(("submission_id", draw(submission_ids)))
    if draw(st.booleans()):
        fields.append(("skipped", draw(st.sampled_from(["send", "", "ja"]))))
    oversized = draw(st.integers(0, 11))
    if oversized == 0:
        fields.append((draw(names), "4" * draw(st.integers(MAX_FIELD_BYTES - 10, 60_000))))
    elif oversized == 1:
        fields.append((draw(st.sampled_from(item_ids)) * 600, "4"))
    elif oversized == 2:
        fields += [(f"extra{number}", "1") for number in range(MAX_FIELDS + 1)]
    return draw(st.permutations(fields))


def on_scale(value: str) -> bool:
    """What the form accepts as an answer: its radio values, and a leading zero ("05" is 5)."""
    return value == "x" or (value.isascii() and value.isdigit() and len(value) <= 2 and 1 <= int(value) <= 5)


def asks_about_skipped(link: Link, answers: dict[str, str]) -> bool:
    """Whether skipped questions leave a subscale below its scoring rule ("weet ik niet" is an answer)."""
    return any(
        sum(answers.get(item, "x") != "x" for item in items) < fewest
        and any(item not in answers for item in items)
        for items, fewest in link.scoring
    )


def expected_outcome(session: Session, link: Link, fields: list[tuple[str, str]]) -> tuple[str, bool]:
    """(thanked | asked | refused, one response stored) for these fields, from the form's rules."""
    if len(fields) > MAX_FIELDS or any(
        len(quote_plus(name)) + len(quote_plus(value)) > MAX_FIELD_BYTES for name, value in fields
    ):
        return "refused", False
    last = dict(fields)
    submission_id = last.get("submission_id", "")
    own = ("lang", "submission_id", "skipped")
    answers = [(name, value) for name, value in fields if name not in own]
    names = [name for name, _ in answers]
    valid = (
        bool(answers)
        and all(name in link.item_ids and on_scale(value) for name, value in answers)
        and len(names) == len(set(names))
    )
    if not valid:
        return "refused", False
    if last.get("skipped") != "send" and asks_about_skipped(link, dict(answers)):
        return "asked", False
    if 16 <= len(submission_id) <= 64 and key_stored(session, submission_id):
        return "thanked", False  # a retry of a stored submission is thanked again, stored once
    return "thanked", True


@FUZZ_SETTINGS
@given(data=st.data())
def test_generated_form_posts_are_refused_or_stored_once(client, session, link, data) -> None:
    fields = data.draw(form_posts(link.item_ids), label="fields")
    outcome, stores = expected_outcome(session, link, fields)
    before = stored(session, link)
    response = client.post(
        f"/s/{link.token}",
        content=urlencode(fields),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )
    event(f"status {response.status_code}")
    assert response.status_code < 500, response.text[:500]
    if outcome == "thanked":
        assert response.status_code == 303
    elif outcome == "asked":
        assert response.status_code == 200 and "Toch versturen" in response.text
    else:
        assert response.status_code in (400, 413, 422), response.status_code
    assert stored(session, link) - before == (1 if stores else 0)


@FUZZ_SETTINGS
@given(
    body=st.one_of(st.binary(max_size=2000), unicode_text.map(str.encode)),
    content_type=st.sampled_from(
        [
            "application/x-www-form-urlencoded",
            "application/json",
            "text/plain",
            "multipart/form-data",
            "multipart/form-data; boundary=xyz",
            "",
        ]
    ),
)
def test_raw_bodies_are_refused(client, session, link, body: bytes, content_type: str) -> None:
    before = stored(session, link)
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.post(f"/s/{link.token}", content=body, headers=headers, follow_redirects=False)
    assert response.status_code in (400, 413, 422), (response.status_code, body[:200])
    assert stored(session, link) == before


def test_a_file_upload_is_refused(client, session, link) -> None:
    before = stored(session, link)
    response = client.post(
        f"/s/{link.token}",
        data={link.item_ids[0]: "3"},
        files={link.item_ids[1]: ("answers.txt", b"3" * 10_000, "text/plain")},
        follow_redirects=False,
    )
    assert response.status_code == 400
    assert stored(session, link) == before
