"""Disclosure control, in one place: which group cells of a report may show their numbers.

Every output (JSON, HTML, CSV) asks :func:`suppressed_groups` and blanks what it returns, so the
rule of ARCHITECTURE invariant 3 lives here only:

- **primary**: a group with fewer than ``min_group_size`` respondents shows no statistic;
- **secondary**: when the suppressed members of a parent (the professionals of a team, the teams
  of the wave) together hold fewer than ``min_group_size`` respondents while the parent's total is
  shown, the next-smallest shown members are suppressed too, until subtracting the shown cells
  from the total reveals nothing about fewer than ``min_group_size`` respondents.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Mapping
from typing import TypeVar

GroupT = TypeVar("GroupT", bound=Hashable)


def suppressed_groups(
    sizes: Mapping[GroupT, int],
    min_group_size: int,
    *,
    parents: Mapping[GroupT, Hashable] | None = None,
) -> set[GroupT]:
    """The groups whose statistics must not be shown.

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
