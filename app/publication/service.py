"""The publication rules: when a wave gets a new cut, and which pending responses it publishes.

Every output of a wave (JSON reports, the HTML report, the command line, feedback pages, the
raw-row export of a municipality key) first asks :func:`publish_due`, then reads the published
responses only. A cut is therefore made at the latest when an output is read while a leaf holds a
publishable batch, so data posted and then read is published at once, and nothing in between is
ever visible. Which responses form a batch is decided by :mod:`app.reports.disclosure` alone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlmodel import Session

from app.collection.answers import NO_PROFESSIONAL, NO_TEAM, answer_matrix
from app.db import ReadSession, utcnow
from app.errors import Conflict, InvalidInput
from app.instrument_versions.service import instrument_for_version
from app.models import PublicationCut, Wave
from app.publication import repository
from app.reports.disclosure import counted_quantities, publishable_batch
from instrument.schema import Form, Instrument, ScoringGroup

Leaf = tuple[Hashable, ...]


@dataclass(frozen=True)
class FormScoring:
    """One form of a wave as the outputs score it: its items, in order, and its subscales."""

    instrument: Instrument
    form: Form
    modules: tuple[str, ...]
    item_order: tuple[str, ...]
    groups: tuple[ScoringGroup, ...]


def form_scoring(wave: Wave, form: str) -> FormScoring:
    """The scoring of ``form`` in ``wave``; 422 for a form the instrument does not have."""
    instrument = instrument_for_version(wave.instrument_version)
    try:
        definition = instrument.form(form)
    except ValueError as exc:
        raise InvalidInput(str(exc), errors=[{"loc": ["query", "form"], "msg": str(exc)}]) from None
    modules = tuple(module for module in wave.module_ids if module in definition.modules)
    item_order = tuple(item.id for item in definition.items(modules))
    return FormScoring(instrument, definition, modules, item_order, tuple(definition.subscales(modules)))


def leaf_of(wave: Wave, form: str, professional_id: int | None, team_id: int | None) -> Leaf:
    """The finest cell any output shows for a response: the batch it is published in.

    A professional on one form, within the team the response was given in (reports group a
    professional within that team); a team for the self-report form (about no professional) and
    for every form of a wave that publishes nothing per professional.
    """
    if professional_id is None or professional_id == NO_PROFESSIONAL or not wave.professional_feedback:
        return (form, team_id)
    return (form, professional_id, team_id)


@dataclass(frozen=True)
class Batch:
    leaf: Leaf
    response_ids: list[int]


def due_batches(session: Session, wave: Wave, min_group_size: int) -> list[Batch]:
    """The batches a cut made now would publish (none while no leaf holds a publishable one)."""
    assert wave.id is not None
    pending: dict[Leaf, int] = defaultdict(int)
    for form, professional_id, team_id, count in repository.pending_leaf_counts(session, wave.id):
        pending[leaf_of(wave, form, professional_id, team_id)] += count
    due = {leaf for leaf, count in pending.items() if count >= min_group_size}
    batches: list[Batch] = []
    for form in sorted({str(leaf[0]) for leaf in due}):
        rows = repository.pending_answers(session, wave.id, form)
        leaves = [leaf_of(wave, form, row[1], row[2]) for row in rows]
        chosen = [index for index, leaf in enumerate(leaves) if leaf in due]
        if not chosen:
            continue
        rows = [rows[index] for index in chosen]
        leaves = [leaves[index] for index in chosen]
        scoring = form_scoring(wave, form)
        matrix = answer_matrix(
            session,
            np.asarray([NO_PROFESSIONAL if row[1] is None else row[1] for row in rows], dtype=np.int64),
            np.asarray([NO_TEAM if row[2] is None else row[2] for row in rows], dtype=np.int64),
            np.asarray([row[3] for row in rows], dtype=np.int64),
            "".join(f"{row[4]}," for row in rows).encode("ascii"),
            scoring.item_order,
        )
        position = {item: index for index, item in enumerate(matrix.item_ids)}
        counted = counted_quantities(
            ~np.isnan(matrix.values),
            [([position[item] for item in group.item_ids], group.min_answered) for group in scoring.groups],
        )
        members: dict[Leaf, list[int]] = defaultdict(list)
        for index, leaf in enumerate(leaves):
            members[leaf].append(index)
        for leaf in sorted(members, key=repr):
            indices = np.asarray(members[leaf])
            chosen_rows = publishable_batch([block[indices] for block in counted], min_group_size)
            if chosen_rows.any():
                batches.append(Batch(leaf, [int(rows[index][0]) for index in indices[chosen_rows]]))
    return batches


def publish_due(
    session: Session, wave: Wave, *, min_group_size: int, now: datetime | None = None
) -> PublicationCut | None:
    """Make a new cut of ``wave`` when some leaf holds a publishable batch; return it (or None).

    The check runs first without a lock (the usual answer is "nothing to publish"); a cut is then
    worked out again under the wave's cut lock, so two readers at once never split a batch.
    """
    assert wave.id is not None
    if not due_batches(session, wave, min_group_size):
        return None
    if isinstance(session, ReadSession):
        # A reading request on SQLite holds no write lock: the cut is made in a short writing
        # transaction of its own, and the request then reads on from a snapshot that holds it.
        with Session(session.write_engine, expire_on_commit=False) as writer:
            written = writer.get(Wave, wave.id)
            assert written is not None
            cut = _make_cut(writer, written, min_group_size, now)
            writer.commit()
        session.restart_snapshot()
        return cut
    return _make_cut(session, wave, min_group_size, now)


def _make_cut(
    session: Session, wave: Wave, min_group_size: int, now: datetime | None
) -> PublicationCut | None:
    """Under the wave's cut lock, work the batches out again and publish them as one new cut."""
    assert wave.id is not None
    repository.lock_cuts_of_wave(session, wave.id)
    batches = due_batches(session, wave, min_group_size)
    if not batches:
        return None
    response_ids = [response_id for batch in batches for response_id in batch.response_ids]
    cut = repository.add_cut(
        session, PublicationCut(wave_id=wave.id, made_at=now or utcnow(), n_responses=len(response_ids))
    )
    assert cut.id is not None
    published = repository.publish(session, cut.id, response_ids)
    if published != len(response_ids):  # pragma: no cover - the lock makes this impossible
        raise RuntimeError(f"cut {cut.id}: {published} of {len(response_ids)} responses were still pending")
    return cut


def latest_cut(session: Session, wave: Wave) -> PublicationCut | None:
    """The wave's newest cut: when its numbers were last updated (None: nothing published yet)."""
    assert wave.id is not None
    return repository.latest_cut(session, wave.id)


def cuts_intact(session: Session, wave: Wave) -> bool:
    """Whether every response the wave's cuts published is still stored: false once retention has
    deleted some of its batches (it deletes whole batches, oldest first)."""
    assert wave.id is not None
    made, stored = repository.published_counts(session, wave.id)
    return stored == made


def published_in_store(session: Session, wave: Wave) -> int:
    """How many responses of the wave's cuts are still stored (retention lowers it, batch by batch)."""
    assert wave.id is not None
    return repository.published_in_store(session, wave.id)


def check_professional_feedback_change(session: Session, wave: Wave, professional_feedback: bool) -> None:
    """Switching professional-level numbers on is refused once the wave has published team batches:
    those batches mix professionals, so a professional's cell would be part of a batch."""
    assert wave.id is not None
    if professional_feedback and not wave.professional_feedback and repository.wave_has_cut(session, wave.id):
        raise Conflict(
            f"wave {wave.id} has already published numbers per team; "
            "numbers per professional can no longer be switched on"
        )


@dataclass(frozen=True)
class LeafStatus:
    """A leaf's answers waiting for publication: what a coordinator may see (counts, no content)."""

    form: str
    professional_id: int | None
    team_id: int | None
    pending: int
    needed: int
    """Answers still needed before a batch can be published (at least this many; skipped questions
    can make a batch wait for one or two more)."""


def pending_status(session: Session, wave: Wave, *, min_group_size: int) -> list[LeafStatus]:
    """Per leaf of ``wave``, how many answers wait and how many more a batch needs."""
    assert wave.id is not None
    pending: dict[Leaf, int] = defaultdict(int)
    for form, professional_id, team_id, count in repository.pending_leaf_counts(session, wave.id):
        pending[leaf_of(wave, form, professional_id, team_id)] += count
    statuses = []
    for leaf, count in sorted(pending.items(), key=lambda entry: repr(entry[0])):
        professional = leaf[1] if len(leaf) == 3 else None
        team = leaf[-1]
        statuses.append(
            LeafStatus(
                form=str(leaf[0]),
                professional_id=professional if isinstance(professional, int) else None,
                team_id=team if isinstance(team, int) else None,
                pending=count,
                needed=max(min_group_size - count, 1 if count >= min_group_size else 0),
            )
        )
    return statuses


def response_counts(session: Session, wave: Wave) -> list[tuple[str, int | None, bool, int]]:
    """(form, professional id, published, responses) of a wave: counts only, for the overview."""
    assert wave.id is not None
    return repository.response_counts(session, wave.id)


def daily_counts(session: Session, wave_ids: list[int], since: datetime) -> list[tuple[int, str, str, int]]:
    """(wave id, form, UTC day, responses) since ``since``, for the overview's bar charts."""
    return repository.daily_counts(session, wave_ids, since)
