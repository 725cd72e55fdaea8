"""Disclosure control, in one place: which group cells of a report may show their numbers.

Every output (JSON, HTML, CSV) asks :func:`suppressed_groups` and blanks what it returns, so the
rule of ARCHITECTURE invariant 3 lives here only:

- **primary**: a group with fewer than ``min_group_size`` respondents shows no statistic;
- **secondary**: when exactly one member of a parent (a professional of a team, a team of the
  wave) is suppressed while the parent's total is shown, the next-smallest shown member is
  suppressed too, so the hidden cell cannot be found by subtracting the shown ones from the total.
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
        hidden_here = [group for group in siblings if group in hidden]
        if len(hidden_here) != 1:
            continue
        shown = sorted(
            (group for group in siblings if group not in hidden), key=lambda group: (sizes[group], str(group))
        )
        if shown:
            hidden.add(shown[0])
    return hidden
