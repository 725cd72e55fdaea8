"""The rules of collecting responses: opening a link, checking answers, storing a response once.

The phone form (``views.py``) and the partner API (``api.py``) share every rule here, so a value
the API refuses is refused by the form too, with the same reason code.
"""

from __future__ import annotations

import functools
import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlmodel import Session

from app.collection import caches, repository
from app.collection.links import LinkProblem
from app.db import utcnow
from app.errors import AppError
from app.instrument_versions.service import instrument_for_version
from app.models import (
    DONT_KNOW_ANSWER,
    MISSING_ANSWER,
    Invitation,
    InvitationKind,
    Municipality,
    Professional,
    Wave,
)
from app.validation import could_be_token
from instrument import Form, Instrument, Item, Scale

LANGUAGES = ("nl", "en")
DEFAULT_LANGUAGE = "nl"
MAX_FIELD_LENGTH = 200
KNOWN_LINKS = 4096
# The time estimate shown on the form and the QR sheet: reading the opening and the privacy lines,
# then one statement with six answers per item, on a phone (measured with bench/bench_form_completion.py:
# 21 items took a slow B1 reader about 4 to 5 minutes).
SECONDS_TO_START = 30
SECONDS_PER_ITEM = 11


def minutes_to_fill_in(item_count: int) -> int:
    """The honest estimate, in whole minutes (rounded up), of filling in ``item_count`` items."""
    return max(1, math.ceil((SECONDS_TO_START + SECONDS_PER_ITEM * item_count) / 60))


LINK_STATUS = {
    LinkProblem.unknown: 404,
    LinkProblem.not_open: 404,
    LinkProblem.closed: 410,
    LinkProblem.expired: 410,
    LinkProblem.revoked: 410,
    LinkProblem.used: 410,
}
LINK_DETAIL = {
    LinkProblem.unknown: "There is no questionnaire for this link.",
    LinkProblem.not_open: "This questionnaire is not open yet.",
    LinkProblem.closed: "This questionnaire has closed.",
    LinkProblem.expired: "This link has expired.",
    LinkProblem.revoked: "This link has been withdrawn.",
    LinkProblem.used: "This personal link has been used already.",
}


class LinkUnavailable(AppError):
    """A link that cannot be used; for a known link also its wave, form and sender, so that the page
    can say when the form opens and whom to ask for a new code."""

    def __init__(
        self,
        problem: LinkProblem,
        *,
        wave: Wave | None = None,
        form: str | None = None,
        municipality: Municipality | None = None,
    ) -> None:
        super().__init__(LINK_DETAIL[problem], status=LINK_STATUS[problem], reason=problem.value)
        self.problem = problem
        self.wave = wave
        self.form = form
        self.municipality = municipality


class AnswerProblem(StrEnum):
    """Why one answer was refused (the form shows a message per code, in the respondent's language)."""

    not_on_scale = "not_on_scale"
    unknown_question = "unknown_question"
    nothing_answered = "nothing_answered"


class AnswersInvalid(AppError):
    """Answers were refused; ``problems`` maps an item id (or ``_form``) to an :class:`AnswerProblem`."""

    def __init__(self, problems: Mapping[str, AnswerProblem], answers: Mapping[str, int | None]) -> None:
        errors = [{"item": item, "problem": problem.value} for item, problem in problems.items()]
        super().__init__("Some answers were refused; see errors.", status=422, errors=errors)
        self.problems = dict(problems)
        self.answers = dict(answers)


@dataclass(frozen=True)
class Questionnaire:
    """An open respondent link with everything needed to show and store its form."""

    invitation: Invitation
    wave: Wave
    professional: Professional
    municipality: Municipality
    instrument: Instrument
    form: Form
    modules: tuple[str, ...]
    items: tuple[Item, ...]

    @property
    def item_ids(self) -> tuple[str, ...]:
        return self.link_form.item_ids

    @property
    def about_professional(self) -> bool:
        """Whether the form rates the invitation's professional (``{naam}`` in its items).

        When it does not, that professional is the respondent, and the response is not linked.
        """
        return self.link_form.about_professional

    @property
    def link_form(self) -> LinkForm:
        return link_form(self.wave.instrument_version, self.form.id, self.wave.modules)


@dataclass(frozen=True)
class LinkForm:
    """What a link asks: its wave's instrument version and modules (as stored), and its form.

    Everything needed to check and encode answers follows from these three, without the database.
    """

    version: str
    form: str
    wave_modules: str

    @functools.cached_property
    def modules(self) -> tuple[str, ...]:
        """The wave's modules that this form has, in the wave's order (as :func:`open_questionnaire`)."""
        form = instrument_for_version(self.version).form(self.form)
        return tuple(module for module in self.wave_modules.split(",") if module in form.modules)

    @functools.cached_property
    def items(self) -> tuple[Item, ...]:
        return tuple(instrument_for_version(self.version).form(self.form).items(self.modules))

    @functools.cached_property
    def item_ids(self) -> tuple[str, ...]:
        return tuple(item.id for item in self.items)

    @property
    def scale(self) -> Scale:
        return instrument_for_version(self.version).scale

    @functools.cached_property
    def about_professional(self) -> bool:
        return any(item.names_professional for item in self.items)

    @functools.cached_property
    def scoring_groups(self) -> tuple[tuple[tuple[str, ...], int], ...]:
        """Each subscale's item ids and the fewest answered items its score needs (k - 1 of k)."""
        form = instrument_for_version(self.version).form(self.form)
        return tuple((group.item_ids, group.min_answered) for group in form.subscales(self.modules))

    def skipped_too_many(self, answers: Mapping[str, int | None]) -> tuple[str, ...]:
        """The skipped items, when skipping makes a subscale fall below its scoring rule; else ().

        "Weet ik niet" is an answer the respondent chose: it does not count as skipped, and a
        subscale that falls short only through it does not ask again.
        """
        if len(answers) == len(self.item_ids):
            return ()
        for item_ids, min_answered in self.scoring_groups:
            answered = sum(answers.get(item_id) is not None for item_id in item_ids)
            if answered < min_answered and any(item_id not in answers for item_id in item_ids):
                return tuple(item_id for item_id in self.item_ids if item_id not in answers)
        return ()


@functools.cache
def link_form(version: str, form: str, wave_modules: str) -> LinkForm:
    """One shared :class:`LinkForm` per version, form and modules (its items are worked out once)."""
    return LinkForm(version, form, wave_modules)


@dataclass(frozen=True)
class KnownLink:
    """What this process learned when it opened an open (not personal) link: what it asks and
    where its responses go, which never change for a link. Whether the link is still *usable* is
    not remembered: the storing statement asks the database (``links.usable_invitation``)."""

    form: LinkForm
    wave_id: int
    municipality_id: int


_known_links: caches.LRU[str, KnownLink] = caches.lru(KNOWN_LINKS)


def open_questionnaire(
    session: Session, token: str, *, now: datetime | None = None, for_municipality: int | None = None
) -> Questionnaire:
    """The questionnaire behind ``token``, or :class:`LinkUnavailable` saying why not.

    ``for_municipality`` restricts the lookup to one municipality (the partner API), so a key never
    learns about another municipality's links. Whether the link is usable is read with it, by the
    one rule (:mod:`app.collection.links`); this only says so.
    """
    found = (
        repository.invitation_with_context(session, token, now or utcnow()) if could_be_token(token) else None
    )
    if found is None or (for_municipality is not None and found[0].municipality_id != for_municipality):
        raise LinkUnavailable(LinkProblem.unknown)
    invitation, wave, professional, municipality, problem = found
    if problem is not None:
        raise LinkUnavailable(
            LinkProblem(problem), wave=wave, form=invitation.form, municipality=municipality
        )
    asked = link_form(wave.instrument_version, invitation.form, wave.modules)
    instrument = instrument_for_version(asked.version)
    if invitation.kind == InvitationKind.open:
        _known_links.put(token, KnownLink(asked, invitation.wave_id, invitation.municipality_id))
    return Questionnaire(
        invitation,
        wave,
        professional,
        municipality,
        instrument,
        instrument.form(asked.form),
        asked.modules,
        asked.items,
    )


def link_state(session: Session, invitation: Invitation, now: datetime | None = None) -> LinkProblem | None:
    """The link's own problem (revoked, used, expired: not its wave's), None when it works."""
    return link_states(session, [invitation], now).get(invitation.id or 0)


def link_states(
    session: Session, invitations: list[Invitation], now: datetime | None = None
) -> dict[int, LinkProblem | None]:
    """:func:`link_state` of several links in one query, by invitation id."""
    ids = [invitation.id for invitation in invitations if invitation.id is not None]
    found = repository.invitation_problems(session, ids, now or utcnow()) if ids else {}
    return {id_: None if problem is None else LinkProblem(problem) for id_, problem in found.items()}


def wave_state(session: Session, wave: Wave, now: datetime | None = None) -> LinkProblem | None:
    """The wave's own problem for its links (not open yet, closed), None while it is open."""
    problem = repository.wave_problem(session, wave.id or 0, now or utcnow())
    return None if problem is None else LinkProblem(problem)


def prepare_answer_layouts(session: Session, wave: Wave) -> None:
    """Create the answer layout of every form of ``wave`` (its instrument version and modules).

    Called where waves are made or changed, so that a submission finds its layout inside the one
    storing statement. Storing through a wave made otherwise creates it then (:func:`submit`).
    """
    for form in instrument_for_version(wave.instrument_version).forms:
        _ensure_layout(session, link_form(wave.instrument_version, form, wave.modules))


def _ensure_layout(session: Session, asked: LinkForm) -> None:
    repository.answer_layout(
        session,
        version=asked.version,
        form=asked.form,
        modules=",".join(asked.modules),
        item_ids=",".join(asked.item_ids),
    )


def check_answers(questionnaire: Questionnaire, answers: Mapping[str, object]) -> dict[str, int | None]:
    """Check answers given as ``{item id: 1..5 or None}``; None is "weet ik niet".

    Items left out count as unanswered. Raises :class:`AnswersInvalid` for a value off the scale,
    an item the form does not ask, or a form with nothing answered at all.
    """
    return _checked(questionnaire.item_ids, questionnaire.instrument.scale, answers)


def _checked(item_ids: tuple[str, ...], scale: Scale, answers: Mapping[str, object]) -> dict[str, int | None]:
    known = set(item_ids)
    problems: dict[str, AnswerProblem] = {}
    kept: dict[str, int | None] = {}
    for item_id, value in answers.items():
        if item_id not in known:
            problems[str(item_id)[:MAX_FIELD_LENGTH]] = AnswerProblem.unknown_question
        elif value is None:
            kept[item_id] = None
        elif isinstance(value, int) and not isinstance(value, bool) and scale.min <= value <= scale.max:
            kept[item_id] = value
        else:
            problems[item_id] = AnswerProblem.not_on_scale
    if not problems and not kept:
        problems["_form"] = AnswerProblem.nothing_answered
    if problems:
        raise AnswersInvalid(problems, kept)
    return kept


def encode_answers(item_ids: tuple[str, ...], answers: Mapping[str, int | None]) -> str:
    """One character per item in layout order: the answer's digit, ``?`` for "weet ik niet" (None),
    or ``.`` for an item left out (skipped)."""
    return "".join(
        MISSING_ANSWER
        if item_id not in answers
        else DONT_KNOW_ANSWER
        if answers[item_id] is None
        else str(answers[item_id])
        for item_id in item_ids
    )


def submission_key(source: str, value: str) -> str:
    """The stored idempotency key: a hash, so the client's own id is never kept."""
    return hashlib.sha256(f"{source}:{value}".encode()).hexdigest()


def already_stored(session: Session, key: str) -> bool:
    """Whether a response with this idempotency key is stored (a retry answers success again)."""
    return repository.response_exists(session, key)


def link_sender(session: Session, token: str) -> tuple[str, Municipality] | None:
    """The form and the sender (municipality) of a link, whatever its state; None when unknown."""
    found = repository.invitation_with_context(session, token, utcnow()) if token else None
    return None if found is None else (found[0].form, found[3])


def is_retry_of_stored(session: Session, key: str, answers: Mapping[str, object]) -> bool:
    """Whether ``answers`` are the answers stored under ``key`` (a true retry of that submission).

    False when the key was used for other answers: the client reuses an Idempotency-Key, and the
    second answers would otherwise be dropped without a word.
    """
    stored = repository.stored_answers(session, key)
    if stored is None:
        return False
    encoded, item_ids = stored
    if not set(answers) <= set(item_ids):
        return False
    if any(
        value is not None and not (isinstance(value, int) and 0 <= value <= 9) for value in answers.values()
    ):
        return False
    return encode_answers(item_ids, answers) == encoded  # type: ignore[arg-type]


def invitation_for_retry(session: Session, token: str, municipality_id: int | None) -> Invitation:
    """The invitation of a retried submission, even when a personal link is used up by it."""
    invitation = repository.invitation_by_token(session, token) if could_be_token(token) else None
    if invitation is None or (municipality_id is not None and invitation.municipality_id != municipality_id):
        raise LinkUnavailable(LinkProblem.unknown)
    return invitation


# -- the one submission flow ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Stored:
    """The answers are stored: now (``new``), or before under the same key (a retry)."""

    new: bool
    form: str
    wave_id: int


@dataclass(frozen=True)
class KeyReused:
    """The key was stored before with *other* answers; nothing was stored."""

    form: str
    wave_id: int


@dataclass(frozen=True)
class Unusable:
    """The link cannot be used (unknown, not open, closed, expired, withdrawn, used)."""

    problem: LinkUnavailable


@dataclass(frozen=True)
class Refused:
    """Some answers were refused; nothing was stored."""

    questionnaire: Questionnaire
    refused: AnswersInvalid


@dataclass(frozen=True)
class SkippedTooMany:
    """Skipped questions leave a subscale below its scoring rule: ask once before storing."""

    questionnaire: Questionnaire
    answers: dict[str, int | None]
    skipped: tuple[str, ...]


Outcome = Stored | KeyReused | Unusable | Refused | SkippedTooMany


def submit(
    session: Session,
    token: str,
    answers: Mapping[str, object],
    *,
    language: str,
    key: str,
    for_municipality: int | None = None,
    allow_skipped: bool = True,
    repeated: frozenset[str] = frozenset(),
    now: datetime | None = None,
) -> Outcome:
    """Store one response through the link ``token``, once; the one flow of the form and the API.

    ``answers`` maps item ids to 1..5 or None ("weet ik niet"); ``key`` is the submission's
    idempotency key (:func:`submission_key`); ``for_municipality`` scopes the link (the partner
    API); ``allow_skipped=False`` asks again when skipped questions leave a subscale unscored;
    ``repeated`` names fields sent twice (refused as not on the scale).

    An open link this process opened before is stored in one statement, without reading the
    database first (the statement re-checks the link). Anything else, or a statement that
    stored nothing, goes the whole way, which says why.
    """
    now = now or utcnow()
    if not repeated:
        stored = store_known(
            session,
            token,
            answers,
            language=language,
            key=key,
            for_municipality=for_municipality,
            allow_skipped=allow_skipped,
            now=now,
        )
        if stored is not None:
            return stored
    try:
        questionnaire = open_questionnaire(session, token, now=now, for_municipality=for_municipality)
    except LinkUnavailable as problem:
        if not already_stored(session, key):
            return Unusable(problem)
        # A retry of a response stored before (it may have used up a personal link).
        return _retry(session, invitation_for_retry(session, token, for_municipality), key, answers)
    try:
        checked = check_answers(questionnaire, answers)
        if repeated & set(questionnaire.item_ids):
            raise AnswersInvalid({name: AnswerProblem.not_on_scale for name in repeated}, checked)
    except AnswersInvalid as refused:
        return Refused(questionnaire, refused)
    skipped = () if allow_skipped else questionnaire.link_form.skipped_too_many(checked)
    if skipped:
        return SkippedTooMany(questionnaire, checked, skipped)
    if store_response(session, questionnaire, checked, language=language, key=key, now=now):
        return Stored(True, questionnaire.form.id, questionnaire.invitation.wave_id)
    return _retry(session, questionnaire.invitation, key, answers)


def store_known(
    session: Session,
    token: str,
    answers: Mapping[str, object],
    *,
    language: str,
    key: str,
    for_municipality: int | None = None,
    allow_skipped: bool = True,
    live_key: int | None = None,
    now: datetime | None = None,
) -> Stored | None:
    """The first step of :func:`submit`: a link this process opened before, stored in one statement
    without reading the database first (the statement re-checks the link); None when it did not
    store (the link not known here, an answer refused, skipped questions to ask, the link changed
    or not usable, the key stored before): the caller then goes the whole way.

    ``live_key``: the partner API's key, checked by the same statement (live, of the link's
    municipality) instead of by a query before it; on None its caller checks the key and then calls
    :func:`submit`, which says why.
    """
    known = _known_links.get(token)
    if known is None or (for_municipality is not None and known.municipality_id != for_municipality):
        return None
    try:
        checked = _checked(known.form.item_ids, known.form.scale, answers)
    except AnswersInvalid:
        return None
    if not allow_skipped and known.form.skipped_too_many(checked):
        return None
    stored = _insert(
        session,
        token,
        known.form,
        checked,
        language=language,
        key=key,
        now=now or utcnow(),
        live_key=live_key,
    )
    return Stored(True, known.form.form, known.wave_id) if stored else None


def _retry(session: Session, invitation: Invitation, key: str, answers: Mapping[str, object]) -> Outcome:
    if is_retry_of_stored(session, key, answers):
        return Stored(False, invitation.form, invitation.wave_id)
    return KeyReused(invitation.form, invitation.wave_id)


def store_response(
    session: Session,
    questionnaire: Questionnaire,
    answers: Mapping[str, int | None],
    *,
    language: str,
    key: str,
    now: datetime | None = None,
) -> bool:
    """Store one response of checked ``answers``; False (and nothing stored) when ``key`` was stored
    before, or the link stopped being usable since it was opened.

    A personal link is used up in the same transaction; a second, different submission through
    it gets :class:`LinkUnavailable` (used).
    """
    now = now or utcnow()
    asked = questionnaire.link_form
    _ensure_layout(session, asked)  # a wave made before its layouts were (or outside the API)
    token = questionnaire.invitation.token
    if questionnaire.invitation.kind != InvitationKind.personal:
        return _insert(session, token, asked, answers, language=language, key=key, now=now)
    # A personal link: the response and the link's use stand or fall together.
    with session.begin_nested() as savepoint:
        if not _insert(session, token, asked, answers, language=language, key=key, now=now):
            return False
        if not repository.use_up_invitation(session, questionnaire.invitation.id or 0, now):
            savepoint.rollback()
            raise LinkUnavailable(LinkProblem.used)
    return True


def _insert(
    session: Session,
    token: str,
    asked: LinkForm,
    answers: Mapping[str, int | None],
    *,
    language: str,
    key: str,
    now: datetime,
    live_key: int | None = None,
) -> bool:
    """The one way a response row is made: see :func:`repository.insert_response`."""
    return repository.insert_response(
        session,
        token=token,
        version=asked.version,
        form=asked.form,
        wave_modules=asked.wave_modules,
        layout_modules=",".join(asked.modules),
        about_professional=asked.about_professional,
        now=now,
        language=language if language in LANGUAGES else DEFAULT_LANGUAGE,
        answers=encode_answers(asked.item_ids, answers),
        # The hour only: an exact time could be matched to the one respondent seen at that moment.
        submitted_at=now.replace(minute=0, second=0, microsecond=0),
        submission_key=key,
        live_key=live_key,
    )
