"""The professional's own feedback: their subscale scores beside their team's and the municipality's.

Every number comes from the reports service (:func:`app.reports.service.scores_report` per
professional and per team, :func:`~app.reports.service._subscale_scores` for the municipality as
one group) on the wave's publication cut, so the page shows exactly what a report would and hides
exactly what a report hides (:mod:`app.reports.disclosure`). Every published cell is a union of
batches of at least the minimum, so the professional's team minus the professional ("the
colleagues") is about at least that many people too, or about nobody.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

import numpy as np
from sqlmodel import Session

from app.api_common import MAX_ROW_ID
from app.audit import service as audit
from app.auth import Principal
from app.collection.answers import NO_PROFESSIONAL, NO_TEAM
from app.db import utcnow
from app.feedback import repository
from app.feedback.items import ItemExtremes, own_item_extremes
from app.feedback.schemas import FeedbackLinkCreate, FeedbackLinkPublic, FeedbackLinkStatus
from app.models import FeedbackLink, Professional, Wave
from app.organisation import service as organisation
from app.reports.schemas import GroupScore, GroupScores, ScoresReport
from app.reports.service import Grouping, Selection, _subscale_scores, scores_report, select_answers
from app.tenancy import writing_municipality
from app.validation import could_be_token
from instrument.schema import Form

RATED_FORMS = ("jongere", "ouder")
SELF_REPORT_FORM = "professional"
"""The forms on which others rate the professional (``professional`` is about their own place)."""
RELIABLE = 0.70
"""The reliability a professional's mean should reach; ``respondents_needed`` aims at the same."""


class LinkProblem(StrEnum):
    unknown = "unknown"
    revoked = "revoked"
    expired = "expired"
    wave = "wave"


class FeedbackUnavailable(Exception):
    """The link, or the wave asked for, cannot show a page; ``status`` is the HTTP status."""

    def __init__(self, problem: LinkProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem
        self.status = 410 if problem in (LinkProblem.revoked, LinkProblem.expired) else 404


@dataclass(frozen=True)
class SubscaleFeedback:
    """One subscale: the professional's own cell, and the comparisons that may be shown beside it."""

    subscale: str
    title: dict[str, str]
    own: GroupScore | None
    team: GroupScore | None
    municipality: GroupScore | None
    reliability: float | None
    more_needed: int | None
    """Responses still needed for a reliable score (0: reliable now; None: cannot be said)."""
    module: str | None = None
    """The module the subscale belongs to (None: a core subscale)."""


@dataclass(frozen=True)
class FormFeedback:
    form: str
    shown: bool
    """False: fewer than the minimum responses about the professional, and no number is shown."""
    subscales: list[SubscaleFeedback] = field(default_factory=list)
    items: ItemExtremes | None = None
    """The strongest and weakest item behind the shown core cells (:mod:`app.feedback.items`)."""


@dataclass(frozen=True)
class Feedback:
    link: FeedbackLink
    professional: Professional
    wave: Wave | None
    """None when no wave has a response about the professional yet."""
    other_waves: list[Wave]
    forms: list[FormFeedback]
    min_group_size: int
    updated_at: datetime | None = None
    """When the wave's numbers were last published (None: nothing published yet)."""
    team_self_report: list[tuple[dict[str, str], GroupScore]] = field(default_factory=list)
    """The self-report side: the professional's team's published aggregate of the ``professional``
    form per core subscale (title, cell), never the professional's own answers."""


def open_link(session: Session, token: str) -> FeedbackLink:
    """The usable link behind ``token``; unknown 404, revoked or expired 410."""
    link = repository.link_by_token(session, token) if could_be_token(token) else None
    if link is None:
        raise FeedbackUnavailable(LinkProblem.unknown)
    if link.revoked_at is not None:
        raise FeedbackUnavailable(LinkProblem.revoked)
    if link.expires_at is not None and link.expires_at <= utcnow():
        raise FeedbackUnavailable(LinkProblem.expired)
    return link


def links_by_professional(
    session: Session, principal: Principal, professional_ids: list[int]
) -> dict[int, list[FeedbackLink]]:
    """Every feedback link of each of the caller's professionals (revoked and expired ones too),
    oldest first, in one query: the web app lists them for a whole municipality."""
    found: dict[int, list[FeedbackLink]] = {professional_id: [] for professional_id in professional_ids}
    for link in repository.links_of_professionals(session, principal.municipality_id, professional_ids):
        found[link.professional_id].append(link)
    return found


def parse_wave_id(value: str | None) -> int | None:
    """The ``wave_id`` query parameter; anything but a row id is a wave that does not exist."""
    if value is None or value == "":
        return None
    if not (value.isascii() and value.isdigit()) or len(value) > 10 or not 1 <= int(value) <= MAX_ROW_ID:
        raise FeedbackUnavailable(LinkProblem.wave)
    return int(value)


def feedback(session: Session, *, token: str, wave_id: int | None, min_group_size: int) -> Feedback:
    """The page of the link ``token`` for ``wave_id`` (default: the latest wave rating them)."""
    link = open_link(session, token)
    professional = repository.professional_of(session, link)
    if professional is None:  # pragma: no cover - the link is deleted with the professional
        raise FeedbackUnavailable(LinkProblem.unknown)
    rated_in = repository.waves_rating(session, professional, RATED_FORMS)
    if wave_id is None:
        wave = rated_in[0] if rated_in else None
    else:
        wave = repository.wave_of_municipality(session, professional.municipality_id, wave_id)
        if wave is None:
            raise FeedbackUnavailable(LinkProblem.wave)
    forms: list[FormFeedback] = []
    updated_at = None
    if wave is not None and wave.professional_feedback:
        for form in RATED_FORMS:
            selection = select_answers(
                session,
                wave=wave,
                form=form,
                municipality_id=professional.municipality_id,
                min_group_size=min_group_size,
            )
            updated_at = selection.cut.made_at if selection.cut is not None else None
            if selection.matrix.n:  # a form with nothing published in this wave is not mentioned
                forms.append(_form_feedback(session, selection, professional))
    team_self_report = (
        _team_self_report(session, wave, professional, min_group_size) if wave is not None else []
    )
    record_read(session, link, professional, wave)
    return Feedback(
        link=link,
        professional=professional,
        wave=wave,
        other_waves=[other for other in rated_in if wave is None or other.id != wave.id],
        forms=forms,
        min_group_size=min_group_size,
        updated_at=updated_at,
        team_self_report=team_self_report,
    )


def _team_self_report(
    session: Session, wave: Wave, professional: Professional, min_group_size: int
) -> list[tuple[dict[str, str], GroupScore]]:
    """The team's published self-report cells (a team is the smallest cell of that form)."""
    selection = select_answers(
        session,
        wave=wave,
        form=SELF_REPORT_FORM,
        municipality_id=professional.municipality_id,
        min_group_size=min_group_size,
    )
    if not selection.matrix.n or professional.team_id is None:
        return []
    by_team = scores_report(session, selection, "team")
    row = next((group for group in by_team.groups if group.team_id == professional.team_id), None)
    if row is None:
        return []
    titles = _subscale_titles(selection.form)
    return [
        (titles[group.subscale], row.scores[group.subscale])
        for group in selection.groups
        if group.module is None and not row.scores[group.subscale].suppressed
    ]


def record_read(session: Session, link: FeedbackLink, professional: Professional, wave: Wave | None) -> None:
    """Every page shown is recorded under the key (or the signed-in account) that made the link
    (whoever made it chose who reads it), with the link's id; never the token."""
    audit.record_as(
        session,
        link.created_by_api_key_id,
        "feedback.read",
        object_type="professional",
        object_id=professional.id,
        wave_id=wave.id if wave is not None else None,
        municipality_id=professional.municipality_id,
        detail={"feedback_link_id": link.id},
        user_id=link.created_by_user_id,
    )


def _own_group(
    report: ScoresReport, professional: Professional, team_sizes: dict[int | None, int]
) -> int | None:
    """The professional's row of the report: in their current team, else where most answered."""
    rows = [index for index, row in enumerate(report.groups) if row.code == professional.code]
    if not rows:
        return None
    groups: list[GroupScores] = report.groups
    for index in rows:
        if groups[index].team_id == professional.team_id:
            return index
    return max(rows, key=lambda index: team_sizes.get(groups[index].team_id, 0))


def _form_feedback(session: Session, selection: Selection, professional: Professional) -> FormFeedback:
    matrix = selection.matrix
    minimum = selection.min_group_size
    mine = matrix.professional_ids == professional.id
    team_sizes: dict[int | None, int] = {}
    for team_id in matrix.team_ids[mine]:
        key = None if int(team_id) == NO_TEAM else int(team_id)
        team_sizes[key] = team_sizes.get(key, 0) + 1
    by_professional = scores_report(session, selection, "professional")
    own_index = _own_group(by_professional, professional, team_sizes)
    if own_index is None:
        return FormFeedback(selection.form.id, shown=False)
    own_row = by_professional.groups[own_index]
    if team_sizes.get(own_row.team_id, 0) < minimum:
        return FormFeedback(selection.form.id, shown=False)

    by_team = scores_report(session, selection, "team")
    team_row = next(
        (row for row in by_team.groups if own_row.team_id is not None and row.team_id == own_row.team_id),
        None,
    )
    everyone = Grouping(
        codes=np.zeros(matrix.n, dtype=np.int64),
        team_ids=np.array([NO_TEAM], dtype=np.int64),
        professional_ids=np.array([NO_PROFESSIONAL], dtype=np.int64),
    )
    titles = _subscale_titles(selection.form)
    subscales = []
    for position, group in enumerate(selection.groups):
        aggregation = by_professional.subscales[position]
        own = own_row.scores[group.subscale]
        if own.suppressed or own.n is None:
            subscales.append(
                SubscaleFeedback(
                    group.subscale, titles[group.subscale], None, None, None, None, None, group.module
                )
            )
            continue
        team = team_row.scores[group.subscale] if team_row is not None else None
        if team is not None and team.suppressed:
            team = None
        _, cells = _subscale_scores(selection, group, everyone, "professional")
        municipality: GroupScore | None = cells[0]
        if municipality is not None and municipality.suppressed:
            municipality = None
        needed = aggregation.respondents_needed
        subscales.append(
            SubscaleFeedback(
                subscale=group.subscale,
                title=titles[group.subscale],
                own=own,
                team=team,
                municipality=municipality,
                reliability=own.group_reliability,
                more_needed=None if needed is None else max(needed - own.n, 0),
                module=group.module,
            )
        )
    own_team = NO_TEAM if own_row.team_id is None else own_row.team_id
    extremes = own_item_extremes(
        selection,
        mine & (matrix.team_ids == own_team),
        [entry.subscale for entry in subscales if entry.own is not None and entry.module is None],
    )
    return FormFeedback(selection.form.id, shown=True, subscales=subscales, items=extremes)


def _subscale_titles(form: Form) -> dict[str, dict[str, str]]:
    titles = {subscale.id: dict(subscale.title) for subscale in form.core_subscales.values()}
    for module in form.modules.values():
        titles.update({subscale.id: dict(subscale.title) for subscale in module.subscales.values()})
    return titles


# -- managing links -------------------------------------------------------------------------------------
# Recorded in the audit trail here, by name: the management router's automatic recording covers the
# older management tables only, and a link that shows a professional's scores must never be made unseen.


def feedback_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/f/{token}"


def feedback_link_status(link: FeedbackLink, now: datetime | None = None) -> FeedbackLinkStatus:
    if link.revoked_at is not None:
        return FeedbackLinkStatus.revoked
    if link.expires_at is not None and link.expires_at <= (now or utcnow()):
        return FeedbackLinkStatus.expired
    return FeedbackLinkStatus.active


def present_feedback_link(link: FeedbackLink, *, base_url: str) -> FeedbackLinkPublic:
    return FeedbackLinkPublic.model_validate(
        {
            **link.model_dump(),
            "url": feedback_url(base_url, link.token),
            "status": feedback_link_status(link),
        }
    )


def create_feedback_link(
    *, session: Session, principal: Principal, professional_id: int, link_in: FeedbackLinkCreate
) -> FeedbackLink:
    municipality_id = writing_municipality(principal)
    # 404 unless the professional is the caller's
    organisation.get_professional(session=session, principal=principal, professional_id=professional_id)
    organisation.check_future("expires_at", link_in.expires_at)
    link = FeedbackLink(
        municipality_id=municipality_id,
        professional_id=professional_id,
        token=organisation.new_invitation_token(),
        expires_at=link_in.expires_at,
        created_by_api_key_id=principal.api_key_id,
        created_by_user_id=principal.user_id,
    )
    repository.add(session, link)
    audit.record(session, principal, "feedback_link.create", object_type="feedback_link", object_id=link.id)
    return link


def list_feedback_links(
    *, session: Session, principal: Principal, professional_id: int
) -> list[FeedbackLink]:
    professional = organisation.get_professional(
        session=session, principal=principal, professional_id=professional_id
    )
    return repository.feedback_links_of_professional(session, principal, professional)


def get_feedback_link(*, session: Session, principal: Principal, link_id: int) -> FeedbackLink:
    return repository.get_feedback_link(session, principal, link_id)


def revoke_feedback_link(*, session: Session, principal: Principal, link_id: int) -> FeedbackLink:
    """Revoke at once; a revocation is final, and repeating it changes (and records) nothing."""
    writing_municipality(principal)
    link = repository.get_feedback_link(session, principal, link_id)
    if link.revoked_at is None:
        link.revoked_at = utcnow()
        repository.add(session, link)
        audit.record(
            session, principal, "feedback_link.revoke", object_type="feedback_link", object_id=link.id
        )
    return link
