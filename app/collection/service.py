"""The rules of collecting responses: opening a link, checking answers, storing a response once.

The phone form (``views.py``) and the partner API (``api.py``) share every rule here, so a value
the API refuses is refused by the form too, with the same reason code.
"""

from __future__ import annotations

import functools
import hashlib
import math
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlmodel import Session

from app.collection import repository
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


class LinkProblem(StrEnum):
    """Why a respondent link cannot be used; each has its own page and status."""

    unknown = "unknown"
    not_open = "not_open"
    closed = "closed"
    expired = "expired"
    revoked = "revoked"
    used = "used"


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


class _KnownLinks:
    """The :class:`LinkForm` of the links this process opened lately (token -> form), least recently
    used first out. Only a hint for :func:`store_through_known_link`: the database re-checks it."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.forms: OrderedDict[str, LinkForm] = OrderedDict()
        self.lock = threading.Lock()  # routes run in worker threads

    def remember(self, token: str, form: LinkForm) -> None:
        with self.lock:
            self.forms[token] = form
            self.forms.move_to_end(token)
            while len(self.forms) > self.size:
                self.forms.popitem(last=False)

    def get(self, token: str) -> LinkForm | None:
        return self.forms.get(token)


_known_links = _KnownLinks(KNOWN_LINKS)


def link_problem(invitation: Invitation, wave: Wave, now: datetime) -> LinkProblem | None:
    if invitation.revoked_at is not None:
        return LinkProblem.revoked
    if invitation.kind == InvitationKind.personal and invitation.used_at is not None:
        return LinkProblem.used
    if invitation.expires_at is not None and invitation.expires_at <= now:
        return LinkProblem.expired
    if wave.opens_at > now:
        return LinkProblem.not_open
    if wave.closes_at is not None and wave.closes_at <= now:
        return LinkProblem.closed
    return None


def open_questionnaire(
    session: Session, token: str, *, now: datetime | None = None, for_municipality: int | None = None
) -> Questionnaire:
    """The questionnaire behind ``token``, or :class:`LinkUnavailable` saying why not.

    ``for_municipality`` restricts the lookup to one municipality (the partner API), so a key never
    learns about another municipality's links.
    """
    found = repository.invitation_with_context(session, token) if could_be_token(token) else None
    if found is None or (for_municipality is not None and found[0].municipality_id != for_municipality):
        raise LinkUnavailable(LinkProblem.unknown)
    invitation, wave, professional, municipality = found
    problem = link_problem(invitation, wave, now or utcnow())
    if problem is not None:
        raise LinkUnavailable(problem, wave=wave, form=invitation.form, municipality=municipality)
    asked = link_form(wave.instrument_version, invitation.form, wave.modules)
    instrument = instrument_for_version(asked.version)
    _known_links.remember(token, asked)
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


def store_through_known_link(
    session: Session,
    token: str,
    answers: Mapping[str, object],
    *,
    language: str,
    key: str,
    now: datetime | None = None,
    allow_skipped: bool = True,
) -> bool:
    """Store a response through an open link this process opened before, in one statement.

    The form's hot path. The link's form is known from memory, so the answers are checked without
    reading the database; one ``INSERT ... SELECT`` then takes the municipality, wave, professional
    and team from the link and stores the row only when the link is still open (not revoked,
    expired or personal; its wave open) and still asks the same instrument version, form and
    modules. Returns False, having stored nothing, when it cannot store: the link is not known
    here, an answer is refused, the link changed or closed, or the key was stored before, or
    (``allow_skipped=False``) skipped items leave a subscale below its scoring rule. The
    caller then takes the full path (:func:`open_questionnaire`, :func:`check_answers`,
    :func:`store_response`), which says which of these it was.
    """
    form = _known_links.get(token)
    if form is None:
        return False
    try:
        checked = _checked(form.item_ids, form.scale, answers)
    except AnswersInvalid:
        return False
    if not allow_skipped and form.skipped_too_many(checked):
        return False
    now = now or utcnow()
    layout_id = repository.answer_layout_id(
        session,
        version=form.version,
        form=form.form,
        modules=",".join(form.modules),
        item_ids=",".join(form.item_ids),
    )
    return repository.insert_response_through_open_link(
        session,
        token=token,
        version=form.version,
        form=form.form,
        wave_modules=form.wave_modules,
        about_professional=form.about_professional,
        now=now,
        values={
            "layout_id": layout_id,
            "language": language if language in LANGUAGES else DEFAULT_LANGUAGE,
            "answers": encode_answers(form.item_ids, checked),
            "submitted_at": now.replace(minute=0, second=0, microsecond=0),
            "submission_key": key,
        },
    )


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
    found = repository.invitation_with_context(session, token) if token else None
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


def store_response(
    session: Session,
    questionnaire: Questionnaire,
    answers: Mapping[str, int | None],
    *,
    language: str,
    key: str,
    now: datetime | None = None,
) -> bool:
    """Store one response; False (and nothing stored) when ``key`` was stored before.

    A personal link is used up in the same transaction; a second, different submission through
    it gets :class:`LinkUnavailable` (used).
    """
    now = now or utcnow()
    invitation = questionnaire.invitation
    layout_id = repository.answer_layout_id(
        session,
        version=questionnaire.instrument.version,
        form=questionnaire.form.id,
        modules=",".join(questionnaire.modules),
        item_ids=",".join(questionnaire.item_ids),
    )
    values = {
        "municipality_id": invitation.municipality_id,
        "wave_id": invitation.wave_id,
        "professional_id": invitation.professional_id if questionnaire.about_professional else None,
        "team_id": questionnaire.professional.team_id,
        "form": questionnaire.form.id,
        "layout_id": layout_id,
        "language": language if language in LANGUAGES else DEFAULT_LANGUAGE,
        "answers": encode_answers(questionnaire.item_ids, answers),
        "submitted_at": now.replace(minute=0, second=0, microsecond=0),
        "submission_key": key,
    }
    if invitation.kind != InvitationKind.personal:
        return repository.insert_response(session, values)
    # A personal link: the response and the link's use stand or fall together.
    with session.begin_nested() as savepoint:
        if not repository.insert_response(session, values):
            return False
        if not repository.use_up_invitation(session, invitation.id or 0, now):
            savepoint.rollback()
            raise LinkUnavailable(LinkProblem.used)
    return True
