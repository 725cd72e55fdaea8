"""Comparisons of published groups: between two waves (change) and between youth and parents.

Every number is computed from :func:`app.reports.service.select_answers` Selections (the waves'
publication cuts) and shown only for the groups the scores report of that wave, form and level
shows (the same cell rule, :func:`app.reports.disclosure.suppressed_groups`). A comparison is
therefore a function of numbers already published (each group's n, mean and SD per wave and form);
a group that is published in one wave only, or by one informant only, is not compared, and an
informant group below the minimum is dropped, never merged into another.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlmodel import Session

import psychometrics
import psychometrics.comparison
from app.collection.answers import NO_TEAM
from app.errors import InvalidInput
from app.reports import repository
from app.reports.disclosure import suppressed_groups
from app.reports.schemas import (
    ChangeCell,
    ChangeGroup,
    ChangeLevel,
    ChangeReport,
    ChangeSubscale,
    GroupCell,
    InformantAgreement,
    InformantCell,
    InformantGroup,
    InformantLevel,
    InformantsReport,
)
from app.reports.service import CI_LEVEL, NO_PARTNER, WAVE_TOTAL, Selection, _grouping, number
from instrument.schema import ScoringGroup

YOUTH_FORM = "jongere"
PARENT_FORM = "ouder"
EXPECTED_AGREEMENT = [0.2, 0.3]
AGREEMENT_REFERENCE = (
    "Agreement between different informants about the same young person is modest: mean r = .28 "
    "across 119 studies (Achenbach, McConaughy & Howell, 1987, Psychological Bulletin 101, 213-232), "
    "r ≈ .28 again in the meta-analysis of 341 studies by De Los Reyes et al. (2015, Psychological "
    "Bulletin 141, 858-900). Those are correlations of individual ratings; here r is between the "
    "youth and the parent mean of each group, which averages out some rater noise."
)
CHANGE_METHOD = (
    "Difference = this wave - baseline, per group published in both waves. Respondents are "
    "anonymous, so the waves are independent samples: 95% Welch interval (R t.test(var.equal = "
    "FALSE)); Hedges' g with exact small-sample correction and interval g ± 1.96·√v, "
    "v = 1/n1 + 1/n2 + g²/(2(n1 + n2)) (Hedges & Olkin 1985; R metafor::escalc('SMD')). "
    "Detectable change (reliable change, Jacobson & Truax 1991) = 1.96·√2·SEM with SEM = SD·√(1 - alpha), "
    "SD and Cronbach's alpha of the subscale in the whole baseline wave: a change smaller than that "
    "is within what the scale's measurement error gives for one person; for group means it is a strict "
    "threshold, shown beside the interval."
)

Key = Hashable


@dataclass(frozen=True)
class Place:
    """What a group is: its team, professional or partner (None where the level has none)."""

    team_id: int | None = None
    professional_id: int | None = None
    partner_id: int | None = None


@dataclass(frozen=True)
class PublishedGroups:
    """The groups of one Selection and level that the scores report shows, on one subscale.

    ``position`` maps each shown group to its element of ``n``, ``mean`` and ``var`` (the variance
    of its valid person scores, n - 1; NaN below two).
    """

    position: dict[Key, int]
    places: dict[Key, Place]
    n: npt.NDArray[np.int64]
    mean: npt.NDArray[np.float64]
    var: npt.NDArray[np.float64]

    def cell(self, index: int) -> GroupCell:
        return GroupCell(
            n=int(self.n[index]), mean=number(self.mean[index]), sd=number(math.sqrt(self.var[index]))
        )


def published_groups(
    selection: Selection,
    group: ScoringGroup,
    level: str,
    partner_of: Mapping[int, int | None] | None = None,
) -> PublishedGroups:
    """The shown groups of ``level`` (``wave``, ``team``, ``professional``, ``partner``) and their scores.

    The cell rule of :func:`app.reports.service._subscale_scores`: professionals with their team as
    parent, teams and partners with the wave total as parent, the wave alone. ``partner_of``: the
    partner of each professional (partner level).
    """
    scores = selection.scores(group)
    matrix = selection.matrix
    if level == "wave":
        keys: list[Key] = [WAVE_TOTAL]
        codes = np.zeros(matrix.n, dtype=np.int64)
        places = [Place()]
        parents: dict[int, Any] | None = None
    elif level == "partner":
        grouping = _grouping(matrix, "partner", partner_of)
        codes = grouping.codes
        found = grouping.partner_ids if grouping.partner_ids is not None else grouping.team_ids
        partners = [None if partner == NO_PARTNER else int(partner) for partner in found.tolist()]
        keys = [("partner", partner) for partner in partners]
        places = [Place(partner_id=partner) for partner in partners]
        parents = dict.fromkeys(range(grouping.size), WAVE_TOTAL)
    else:
        grouping = _grouping(matrix, "team" if level == "team" else "professional")
        codes = grouping.codes
        teams = [None if team == NO_TEAM else int(team) for team in grouping.team_ids.tolist()]
        if grouping.professional_ids is None:
            keys = [("team", team) for team in teams]
            places = [Place(team_id=team) for team in teams]
            parents = dict.fromkeys(range(grouping.size), WAVE_TOTAL)
        else:
            professionals = [int(professional) for professional in grouping.professional_ids.tolist()]
            keys = [
                ("professional", professional, team)
                for professional, team in zip(professionals, teams, strict=True)
            ]
            places = [
                Place(team_id=team, professional_id=professional)
                for professional, team in zip(professionals, teams, strict=True)
            ]
            parents = dict(enumerate(grouping.team_ids.tolist()))
    valid = ~np.isnan(scores)
    counts = np.bincount(codes[valid], minlength=len(keys))
    hidden = suppressed_groups(dict(enumerate(counts.tolist())), selection.min_group_size, parents=parents)
    valid_codes, valid_scores = codes[valid], scores[valid]
    with np.errstate(divide="ignore", invalid="ignore"):
        means = np.bincount(valid_codes, weights=valid_scores, minlength=len(keys)) / counts
        squares = np.bincount(
            valid_codes, weights=(valid_scores - means[valid_codes]) ** 2, minlength=len(keys)
        )
        variances = np.where(counts > 1, squares / (counts - 1), np.nan)
    shown = [index for index in range(len(keys)) if index not in hidden and counts[index] > 0]
    return PublishedGroups(
        {keys[index]: position for position, index in enumerate(shown)},
        {keys[index]: places[index] for index in shown},
        counts[shown],
        means[shown],
        variances[shown],
    )


def _interval(low: float, high: float) -> list[float | None] | None:
    found = [number(low), number(high)]
    return None if found == [None, None] else found


def _matched(first: PublishedGroups, second: PublishedGroups) -> tuple[list[Key], list[int], list[int]]:
    """The groups shown in both, and their positions in each (in ``first``'s order)."""
    keys = [key for key in first.position if key in second.position]
    return keys, [first.position[key] for key in keys], [second.position[key] for key in keys]


def _differences(
    first: PublishedGroups, second: PublishedGroups, at_first: list[int], at_second: list[int]
) -> tuple[dict[str, npt.NDArray[np.float64]], dict[str, npt.NDArray[np.float64]]]:
    """Welch difference and Hedges' g of ``first`` - ``second`` for the matched groups, at once."""
    moments = (
        first.mean[at_first],
        first.var[at_first],
        first.n[at_first],
        second.mean[at_second],
        second.var[at_second],
        second.n[at_second],
    )
    return (
        psychometrics.comparison.welch_summary(*moments, ci=CI_LEVEL),
        psychometrics.comparison.hedges_summary(*moments, ci=CI_LEVEL),
    )


def _check_professional_level(selections: list[Selection], level: str) -> None:
    if level not in ("professional", "partner"):
        return
    for selection in selections:
        if not selection.wave.professional_feedback:
            # The team is then the leaf: a partner cell would be no union of published leaves.
            message = (
                f"wave {selection.wave.id} publishes no numbers per professional (professional_feedback "
                f"is off), so none per {level} either: ask for level=team"
            )
            raise InvalidInput(message, errors=[{"loc": ["query", "level"], "msg": message}])


@dataclass(frozen=True)
class _Labels:
    teams: dict[int, str]
    codes: dict[int, str]
    partners: dict[int, str]
    partner_of: dict[int, int | None] | None

    def team(self, place: Place) -> str | None:
        return self.teams.get(place.team_id) if place.team_id is not None else None

    def code(self, place: Place) -> str | None:
        return self.codes.get(place.professional_id) if place.professional_id is not None else None

    def partner(self, place: Place) -> str | None:
        return self.partners.get(place.partner_id) if place.partner_id is not None else None

    def row_key(self, place: Place) -> tuple[str, str, str]:
        """Rows by partner, team name, then pseudonymous code: never by score."""
        return (self.partner(place) or "", self.team(place) or "", self.code(place) or "")


def _labels(session: Session, selection: Selection, level: str) -> _Labels:
    municipality_id = selection.wave.municipality_id
    teams = repository.team_names(session, municipality_id) if level in ("team", "professional") else {}
    codes = repository.professional_codes(session, municipality_id) if level == "professional" else {}
    partners = repository.partner_names(session, municipality_id) if level == "partner" else {}
    partner_of = repository.professional_partners(session, municipality_id) if level == "partner" else None
    return _Labels(teams, codes, partners, partner_of)


def _common_groups(current: Selection, baseline: Selection) -> list[tuple[ScoringGroup, ScoringGroup]]:
    by_name = {group.subscale: group for group in baseline.groups}
    return [(group, by_name[group.subscale]) for group in current.groups if group.subscale in by_name]


def _baseline_reliability(
    baseline: Selection, group: ScoringGroup, warnings: list[str]
) -> tuple[float | None, float | None]:
    """Alpha (as the reliability report computes it) and SD of the baseline wave on a subscale."""
    items = baseline.items(group)
    items = items[items.notna().any(axis=1).to_numpy()]
    alpha: float | None = None
    try:
        alpha = number(psychometrics.cronbach_alpha(items).alpha)
    except ValueError as exc:
        warnings.append(f"Alpha of {group.subscale} in the baseline wave cannot be computed: {exc}")
    scores = baseline.scores(group)
    scores = scores[~np.isnan(scores)]
    sd = number(np.std(scores, ddof=1)) if scores.size > 1 else None
    return alpha, sd


def change_report(
    session: Session, current: Selection, baseline: Selection, level: ChangeLevel
) -> ChangeReport:
    """Change per group and subscale between ``baseline`` and ``current`` (the same form)."""
    _check_professional_level([current, baseline], level)
    labels = _labels(session, current, level)
    warnings: list[str] = []
    subscales: list[ChangeSubscale] = []
    rows: dict[Key, dict[str, ChangeCell | None]] = {}
    places: dict[Key, Place] = {}
    pairs = _common_groups(current, baseline)
    names = [group.subscale for group, _ in pairs]
    for group, baseline_group in pairs:
        notes: list[str] = []
        alpha, sd = _baseline_reliability(baseline, baseline_group, notes)
        sem = detectable = None
        if alpha is not None and sd is not None and 0 <= alpha <= 1:
            sem = sd * math.sqrt(1 - alpha)
            detectable = psychometrics.reliable_change(sd, alpha, ci=CI_LEVEL)
        elif alpha is not None:
            notes.append(
                f"Alpha of {group.subscale} in the baseline wave is {alpha:.2f}: no detectable change."
            )
        now = published_groups(current, group, level, labels.partner_of)
        before = published_groups(baseline, baseline_group, level, labels.partner_of)
        # A group published in one of the two waves only is not compared.
        keys, at_now, at_before = _matched(now, before)
        welch, hedges = _differences(now, before, at_now, at_before)
        compared = len(keys)
        columns = zip(
            keys,
            at_now,
            at_before,
            welch["difference"].tolist(),
            welch["ci_low"].tolist(),
            welch["ci_high"].tolist(),
            welch["df"].tolist(),
            hedges["g"].tolist(),
            hedges["ci_low"].tolist(),
            hedges["ci_high"].tolist(),
            strict=True,
        )
        for key, i_now, i_before, difference, low, high, df, g, g_low, g_high in columns:
            places[key] = now.places[key]
            ci = _interval(low, high)
            excludes_zero = None if ci is None or None in ci else (low > 0 or high < 0)
            rows.setdefault(key, {})[group.subscale] = ChangeCell(
                baseline=before.cell(i_before),
                current=now.cell(i_now),
                difference=number(difference),
                ci=ci,
                df=number(df),
                hedges_g=number(g),
                hedges_g_ci=_interval(g_low, g_high),
                ci_excludes_zero=excludes_zero,
                exceeds_detectable_change=None if detectable is None else abs(difference) > detectable,
            )
        subscales.append(
            ChangeSubscale(
                subscale=group.subscale,
                module=group.module,
                baseline_alpha=alpha,
                baseline_sd=sd,
                sem=number(sem),
                detectable_change=number(detectable),
                n_groups_compared=compared,
                warnings=notes,
            )
        )
    if not pairs:
        warnings.append("The two waves have no subscale in common on this form.")
    elif not rows:
        warnings.append(
            "No group is published in both waves yet: a group is compared only where both waves publish it."
        )
    groups = [
        ChangeGroup(
            team_id=places[key].team_id,
            team_name=labels.team(places[key]),
            code=labels.code(places[key]),
            partner_id=places[key].partner_id,
            partner_name=labels.partner(places[key]),
            scores={name: cells.get(name) for name in names},
        )
        for key, cells in sorted(rows.items(), key=lambda item: labels.row_key(places[item[0]]))
    ]
    # Constructed without validation: the groups are already typed dataclasses (as the scores report).
    return ChangeReport.model_construct(
        wave_id=current.wave.id or 0,
        baseline_wave_id=baseline.wave.id or 0,
        form=current.form.id,
        level=level,
        min_group_size=current.min_group_size,
        ci_level=CI_LEVEL,
        published_at=current.published_at,
        baseline_published_at=baseline.published_at,
        method=CHANGE_METHOD,
        subscales=subscales,
        groups=groups,
        warnings=warnings,
    )


def informants_report(
    session: Session, youth: Selection, parent: Selection, level: InformantLevel
) -> InformantsReport:
    """Youth and parent means side by side per group of one wave, and their agreement across groups."""
    _check_professional_level([youth], level)
    labels = _labels(session, youth, level)
    rows: dict[Key, dict[str, InformantCell]] = {}
    places: dict[Key, Place] = {}
    agreement: list[InformantAgreement] = []
    warnings: list[str] = []
    for group, parent_group in _common_groups(youth, parent):
        said_by_youth = published_groups(youth, group, level)
        said_by_parents = published_groups(parent, parent_group, level)
        keys, at_youth, at_parents = _matched(said_by_youth, said_by_parents)
        welch, _ = _differences(said_by_youth, said_by_parents, at_youth, at_parents)
        both = {
            key: (difference, _interval(low, high))
            for key, difference, low, high in zip(
                keys,
                welch["difference"].tolist(),
                welch["ci_low"].tolist(),
                welch["ci_high"].tolist(),
                strict=True,
            )
        }
        # Each informant's group only where it is published on its own: never merged into another.
        for key in {**said_by_youth.position, **said_by_parents.position}:
            youth_at = said_by_youth.position.get(key)
            parents_at = said_by_parents.position.get(key)
            source = said_by_youth if youth_at is not None else said_by_parents
            places[key] = source.places[key]
            difference, ci = both.get(key, (None, None))
            rows.setdefault(key, {})[group.subscale] = InformantCell(
                youth=said_by_youth.cell(youth_at) if youth_at is not None else None,
                parent=said_by_parents.cell(parents_at) if parents_at is not None else None,
                difference=number(difference),
                ci=ci,
            )
        agreement.append(
            _agreement(
                group.subscale,
                said_by_youth.mean[at_youth].tolist(),
                said_by_parents.mean[at_parents].tolist(),
            )
        )
    if not rows:
        warnings.append("Neither youth nor parents have a published group in this wave yet.")
    groups = [
        InformantGroup(
            team_id=places[key].team_id,
            team_name=labels.team(places[key]),
            code=labels.code(places[key]),
            scores=cells,
        )
        for key, cells in sorted(rows.items(), key=lambda item: labels.row_key(places[item[0]]))
    ]
    return InformantsReport.model_construct(
        wave_id=youth.wave.id or 0,
        level=level,
        youth_form=youth.form.id,
        parent_form=parent.form.id,
        min_group_size=youth.min_group_size,
        ci_level=CI_LEVEL,
        published_at=youth.published_at,
        agreement=agreement,
        expected_agreement=EXPECTED_AGREEMENT,
        reference=AGREEMENT_REFERENCE,
        groups=groups,
        warnings=warnings,
    )


def _agreement(subscale: str, youth_means: list[float], parent_means: list[float]) -> InformantAgreement:
    n_groups = len(youth_means)
    notes: list[str] = []
    r = ci = None
    if n_groups < 3:
        notes.append(
            f"{n_groups} groups have both a published youth and a published parent mean on {subscale}: "
            "a correlation needs at least three."
        )
    else:
        found = psychometrics.correlation_ci(youth_means, parent_means, ci=CI_LEVEL)
        r = number(found.r)
        ci = _interval(found.ci_low, found.ci_high)
        if ci is None and r is not None:
            notes.append(f"With {n_groups} groups the interval of r needs at least four.")
    return InformantAgreement(subscale=subscale, n_groups=n_groups, r=r, ci=ci, warnings=notes)
