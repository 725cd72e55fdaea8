"""Disclosure control, in one place: the protection plan every output takes its numbers from.

The promise (ARCHITECTURE invariant 3): no published number, alone or combined with any other
published number, at any level, in any output, or between any two moments, reveals a statistic
about fewer than ``min_group_size`` respondents. The plan has two parts.

**Publication in batches** (:func:`publishable_batch`). Outputs never read live data: they read
the wave's latest *cut* (:mod:`app.publication`). A cut adds the pending responses of a *leaf* —
the finest cell any output shows (a professional on one form and team; a team for the self-report
form, or for a wave that publishes nothing per professional) — only as a *batch* in which every
count an output can show is 0 or at least ``min_group_size``: the respondents, the answers to each
item, each pair of items answered together (pairwise covariances), each valid subscale score, each
subscale answered completely (Feldt interval, omega) and every pair of those. A published cell of
any level (leaf, team, partner, wave; item rows, correlations, ICC) is then a union of whole
batches, so

- every published count is 0 or at least ``min_group_size``;
- subtracting one table from another, one level from another, or one moment from the next gives
  sums over whole batches only, each about at least ``min_group_size`` people;
- a leaf that never fills a batch is never published and enters no number (not the wave total,
  not ICC, not alpha).

**Cell suppression** (:func:`suppressed_groups`) on top, as a second line: a cell below the
minimum shows no statistic (on published data that is a cell with nothing published yet), and
hidden members of a shown parent are never left recoverable by subtraction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Mapping, Sequence
from typing import TypeVar

import numpy as np
import numpy.typing as npt

GroupT = TypeVar("GroupT", bound=Hashable)

BoolArray = npt.NDArray[np.bool_]


def counted_quantities(
    answered: BoolArray, subscales: Sequence[tuple[Sequence[int], int]]
) -> list[BoolArray]:
    """What each response contributes to: the counts an output can show, in blocks.

    The statistics of one subscale (item rows, pairwise covariances, alpha, omega, scores) combine
    the counts of that subscale only; the subscale correlations combine the subscale scores. So the
    counts come in blocks, and a batch must be safe for every pair of counts within a block.

    Parameters
    ----------
    answered
        Responses x items: True where the item has an answer (not skipped, not "weet ik niet").
    subscales
        For each subscale the positions of its items and the fewest answered items for a valid
        score (the instrument's scoring rule).

    Returns
    -------
    One responses x counts matrix per subscale (its items, a valid score, every item answered,
    any item answered), and one for the form (each subscale's valid score, every subscale scored,
    any item answered at all).
    """
    answered = np.asarray(answered, dtype=bool)
    blocks: list[BoolArray] = []
    valid_scores = []
    for positions, min_answered in subscales:
        part = answered[:, list(positions)]
        valid = part.sum(axis=1) >= min_answered
        valid_scores.append(valid)
        blocks.append(np.column_stack([part, valid, part.all(axis=1), part.any(axis=1)]))
    scored = np.column_stack(valid_scores) if valid_scores else np.ones((answered.shape[0], 0), dtype=bool)
    blocks.append(np.column_stack([scored, scored.all(axis=1), answered.any(axis=1)]))
    return blocks


def publishable_batch(counted: Sequence[BoolArray], min_group_size: int) -> BoolArray:
    """The pending responses of one leaf that may be published together now.

    A batch is publishable when it holds at least ``min_group_size`` responses that say anything
    and, in every block ``Q`` of :func:`counted_quantities`, every co-occurrence count of
    ``QᵀQ`` (every count an output can show, and every pair of them) is 0 or at least
    ``min_group_size``. When the whole pending set is not, the responses behind the rarest
    offending count wait for a later batch (they are unusual: a question almost nobody of the
    leaf answered) and the rest is tried again.

    Parameters
    ----------
    counted
        The blocks of :func:`counted_quantities` for the pending responses of one leaf.
    min_group_size
        The smallest group a number may be about.

    Returns
    -------
    A mask of the responses to publish: all False when no batch is publishable yet. Responses
    that contribute to nothing (every answer empty) are never published.
    """
    blocks = [np.asarray(block, dtype=bool) for block in counted]
    rows: BoolArray = np.asarray(blocks[-1][:, -1], dtype=bool)  # any item answered at all
    while int(rows.sum()) >= min_group_size:
        rarest: tuple[int, BoolArray] | None = None
        for block in blocks:
            members = block[rows].astype(np.int64)
            together = members.T @ members
            offending = (together > 0) & (together < min_group_size)
            if offending.any():
                first, second = np.unravel_index(
                    int(np.argmin(np.where(offending, together, np.iinfo(np.int64).max))), together.shape
                )
                count = int(together[first, second])
                if rarest is None or count < rarest[0]:
                    rarest = (count, block[:, first] & block[:, second])
        if rarest is None:
            return rows
        rows &= ~rarest[1]
    return np.zeros(rows.shape[0], dtype=bool)


def suppressed_groups(
    sizes: Mapping[GroupT, int],
    min_group_size: int,
    *,
    parents: Mapping[GroupT, Hashable] | None = None,
) -> set[GroupT]:
    """The groups whose statistics must not be shown.

    - **primary**: a group with fewer than ``min_group_size`` respondents shows no statistic;
    - **secondary**: when the suppressed members of a parent (the professionals of a team, the
      teams of the wave) together hold fewer than ``min_group_size`` respondents while the
      parent's total is shown, the next-smallest shown members are suppressed too, until
      subtracting the shown cells from the total reveals nothing about fewer than
      ``min_group_size`` respondents.

    On published data (unions of batches) every size is 0 or at least the minimum, so this
    hides exactly the cells with nothing published; it stays as a second line of defence.

    Parameters
    ----------
    sizes
        Respondents per group (those the group's statistic is computed from).
    min_group_size
        The smallest group that may be shown (``VERBONDEN_MIN_GROUP_SIZE``).
    parents
        The parent of each group whose total is published beside it (the team of a professional;
        one common key for teams whose wave total is published). None: no parent totals.
    """
    hidden = {group for group, size in sizes.items() if size < min_group_size}
    if parents is None:
        return hidden
    members: dict[Hashable, list[GroupT]] = defaultdict(list)
    for group in sizes:
        members[parents[group]].append(group)
    for siblings in members.values():
        total = sum(sizes[group] for group in siblings)
        if total < min_group_size:
            continue  # the parent's own cell is suppressed: nothing to subtract from
        shown = sorted(
            (group for group in siblings if group not in hidden), key=lambda group: (sizes[group], str(group))
        )
        hidden_size = sum(sizes[group] for group in siblings if group in hidden)
        # Subtracting the shown cells from the total gives the hidden cells together: hide more
        # until that remainder is about nobody or about at least min_group_size respondents.
        while 0 < hidden_size < min_group_size and shown:
            group = shown.pop(0)
            hidden.add(group)
            hidden_size += sizes[group]
    return hidden
