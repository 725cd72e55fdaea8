"""The professional's strongest and weakest item, for the conversation prompts of the feedback page.

A new number beside the published subscale cells, kept in one small function so that the
disclosure plan can take it over: it is computed only from the responses behind a subscale cell
that is already shown, only over items that enough of those respondents answered, and the page
names the two items without printing their means.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from app.reports.service import Selection

MIN_SPREAD = 0.25
"""Below this difference between the highest and the lowest item mean, no item stands out."""


@dataclass(frozen=True)
class ItemStanding:
    item_id: str
    subscale: str
    mean: float
    n: int


@dataclass(frozen=True)
class ItemExtremes:
    """The item the respondents agreed with most, and the one they agreed with least."""

    strongest: ItemStanding
    weakest: ItemStanding


def own_item_extremes(
    selection: Selection, rows: npt.NDArray[np.bool_], shown_subscales: Iterable[str]
) -> ItemExtremes | None:
    """The highest and lowest item mean among ``rows`` (the responses behind the shown cells).

    Only core subscales in ``shown_subscales`` count, and only items that at least the minimum
    group size of those rows answered ("weet ik niet" is not an answer). None when fewer than two
    items qualify or when they differ by less than :data:`MIN_SPREAD`. Ties go to the item that
    comes first in the form. Reverse-keyed items are recoded first, so "strongest" always means
    "best".
    """
    shown = set(shown_subscales)
    scale = selection.instrument.scale
    standings: list[ItemStanding] = []
    for group in selection.groups:
        if group.module is not None or group.subscale not in shown:
            continue
        values = selection.columns(group)[rows]
        for position, item_id in enumerate(group.item_ids):
            column = values[:, position]
            answered = column[~np.isnan(column)]
            if answered.size < selection.min_group_size:
                continue
            if item_id in group.reverse_ids:
                answered = scale.min + scale.max - answered
            standings.append(
                ItemStanding(item_id, group.subscale, float(answered.mean()), int(answered.size))
            )
    if len(standings) < 2:
        return None
    strongest = max(standings, key=lambda standing: standing.mean)  # first of equals
    weakest = min(standings, key=lambda standing: standing.mean)
    if strongest.mean - weakest.mean < MIN_SPREAD:
        return None
    return ItemExtremes(strongest, weakest)
