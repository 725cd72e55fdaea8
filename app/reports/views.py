"""``GET /reports/{wave_id}``: the printable HTML report, with the same Bearer key as the JSON reports.

The page is rendered from the very report objects the JSON routes return, so disclosure control
(:mod:`app.reports.disclosure`) has already blanked every hidden cell before a plot is drawn.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup
from sqlmodel import Session

from app.api_common import MAX_ROW_ID
from app.audit import service as audit
from app.auth import Principal, Scope, require_scope
from app.collection import caches
from app.db import SessionDep, utcnow
from app.models import Wave
from app.organisation import service as organisation
from app.publication.dates import day_in_words
from app.reports import comparison, language, plots, service, structure
from app.reports.language import Language, Say
from app.reports.schemas import (
    ChangeGroup,
    ChangeReport,
    GroupScores,
    InformantGroup,
    InformantsReport,
    ScoresReport,
)
from app.reports.service import FLOOR_CEILING_LIMIT
from app.templates import environment
from instrument.codebook import neutral_label

router = APIRouter(tags=["reports"])
AggregatePrincipal = Annotated[Principal, Depends(require_scope(Scope.reports_aggregate))]
NO_TEAM_LABEL = {"nl": "(zonder team)", "en": "(no team)"}
HIDDEN = {"nl": "verborgen", "en": "hidden"}
NOT_COMPARED = {"nl": "niet in beide rondes", "en": "not in both waves"}
NOT_PUBLISHED = {"nl": "niet gepubliceerd", "en": "not published"}
WHOLE_WAVE = {"nl": "Hele meetronde", "en": "Whole wave"}
INFORMANT_SERIES = {"nl": ("jongeren", "ouders"), "en": ("youth", "parents")}
# No Cache-Control: app.security keeps every page out of shared caches.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
    "X-Content-Type-Options": "nosniff",
}


def _team_label(group: GroupScores | ChangeGroup | InformantGroup, lang: Language) -> str:
    return group.team_name or NO_TEAM_LABEL[lang]


def _code_order(code: str | None) -> tuple[Any, ...]:
    """Professionals by their code in natural order (P-2 before P-10): never by score."""
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", code or ""))


FLOOR_CEILING = re.compile(r"\d+% of the answers to item \S+ are at the (lowest|highest) point")


def _caterpillars(
    professionals: ScoresReport, names: list[str], titles: dict[str, str], say: Say, scale: tuple[int, int]
) -> list[dict[str, Any]]:
    ordered = sorted(professionals.groups, key=lambda group: _code_order(group.code))
    bounds = [
        bound
        for group in ordered
        for cell in group.scores.values()
        if not cell.suppressed and cell.ci
        for bound in cell.ci
    ]
    low, high = plots.axis_range(bounds, *scale)
    result = []
    for name in names:
        intervals = [
            plots.Interval(
                label=group.code or "?",
                mean=cell.mean,
                low=cell.ci[0] if cell.ci else None,
                high=cell.ci[1] if cell.ci else None,
            )
            for group in ordered
            if (cell := group.scores[name]).mean is not None and not cell.suppressed
        ]
        if intervals:
            result.append(
                {
                    "subscale": name,
                    "count": len(intervals),
                    "svg": plots.caterpillar(intervals, low, high, titles[name], say),
                }
            )
    return result


def _team_panels(
    teams: ScoresReport, titles: dict[str, str], say: Say, scale: tuple[int, int], lang: Language
) -> list[tuple[str, Markup]]:
    """The profile per team: one panel per subscale (core and switched-on modules), teams by name."""
    groups = sorted(teams.groups, key=lambda group: _team_label(group, lang))
    if not any(
        not cell.suppressed and cell.mean is not None for group in groups for cell in group.scores.values()
    ):
        return []
    bounds = [
        value
        for group in groups
        for cell in group.scores.values()
        if not cell.suppressed
        for value in (cell.ci or [cell.mean])
    ]
    low, high = plots.axis_range(bounds, *scale)
    width = 12 + plots.CHAR_WIDTH * max(len(_team_label(group, lang)) for group in groups)
    panels = []
    for entry in teams.subscales:
        rows = [
            plots.DotRow(
                _team_label(group, lang),
                [
                    plots.Estimate(cell.mean, *(cell.ci or [None, None]))
                    if not cell.suppressed
                    else plots.Estimate(None)
                ],
            )
            for group in groups
            if (cell := group.scores[entry.subscale]) is not None
        ]
        title = titles.get(entry.subscale, entry.subscale)
        panels.append(
            (title, plots.dot_panel(rows, low, high, title, say, hidden_text=HIDDEN[lang], label_width=width))
        )
    return panels


def _change_panels(
    change_wave: ChangeReport | None,
    change_teams: ChangeReport,
    titles: dict[str, str],
    say: Say,
    lang: Language,
) -> list[tuple[str, Markup]]:
    """Per subscale the difference (this wave - baseline) with its 95% interval, per group; 0 dashed."""
    groups: list[tuple[str, ChangeGroup]] = []
    if change_wave is not None:
        groups += [(WHOLE_WAVE[lang], group) for group in change_wave.groups]
    groups += [(_team_label(group, lang), group) for group in change_teams.groups]
    if not groups:
        return []
    bounds = [
        abs(bound)
        for _, group in groups
        for cell in group.scores.values()
        if cell is not None and cell.ci
        for bound in cell.ci
        if bound is not None
    ]
    reach = max([0.25, *bounds])
    reach = math.ceil(reach * 4) / 4
    width = 12 + plots.CHAR_WIDTH * max(len(label) for label, _ in groups)
    panels = []
    for entry in change_teams.subscales:
        rows = []
        for label, group in groups:
            cell = group.scores.get(entry.subscale)
            estimate = (
                plots.Estimate(cell.difference, *(cell.ci or [None, None])) if cell else plots.Estimate(None)
            )
            rows.append(plots.DotRow(label, [estimate]))
        title = titles.get(entry.subscale, entry.subscale)
        panels.append(
            (
                title,
                plots.dot_panel(
                    rows,
                    -reach,
                    reach,
                    title,
                    say,
                    reference=0.0,
                    hidden_text=NOT_COMPARED[lang],
                    label_width=width,
                ),
            )
        )
    return panels


def _informant_panels(
    informants: InformantsReport, titles: dict[str, str], say: Say, scale: tuple[int, int], lang: Language
) -> list[tuple[str, Markup]]:
    """Per subscale the youth and the parent mean of each team, one above the other."""
    if not informants.groups:
        return []
    values = [
        side.mean
        for group in informants.groups
        for cell in group.scores.values()
        for side in (cell.youth, cell.parent)
        if side is not None
    ]
    low, high = plots.axis_range(values, *scale)
    width = 12 + plots.CHAR_WIDTH * max(len(_team_label(group, lang)) for group in informants.groups)
    series = INFORMANT_SERIES[lang]
    panels = []
    for entry in informants.agreement:
        rows = []
        for group in informants.groups:
            cell = group.scores.get(entry.subscale)
            youth = cell.youth if cell else None
            parent = cell.parent if cell else None
            rows.append(
                plots.DotRow(
                    _team_label(group, lang),
                    [
                        plots.Estimate(youth.mean if youth else None),
                        plots.Estimate(parent.mean if parent else None),
                    ],
                )
            )
        title = titles.get(entry.subscale, entry.subscale)
        panels.append(
            (
                title,
                plots.dot_panel(
                    rows,
                    low,
                    high,
                    title,
                    say,
                    series=series,
                    hidden_text=NOT_PUBLISHED[lang],
                    label_width=width,
                ),
            )
        )
    return panels


@dataclass(frozen=True)
class Comparisons:
    """The comparison sections (issue #19): change since a baseline wave, youth beside parents."""

    baseline_wave: Wave | None = None
    change_wave: ChangeReport | None = None
    change_teams: ChangeReport | None = None
    informants: InformantsReport | None = None


def comparisons_for(
    request: Request,
    session: Session,
    principal: Principal,
    selection: service.Selection,
    baseline_wave: Wave | None,
) -> Comparisons:
    """Change per wave and team since ``baseline_wave`` (the caller's), youth beside parents per team."""
    settings = request.app.state.settings

    def select(wave: Wave, form: str) -> service.Selection:
        return service.select_answers(
            session,
            wave=wave,
            form=form,
            municipality_id=principal.municipality_id,
            min_group_size=settings.min_group_size,
        )

    change_wave = change_teams = informants = None
    if baseline_wave is not None:
        baseline = select(baseline_wave, selection.form.id)
        change_wave = comparison.change_report(session, selection, baseline, "wave")
        change_teams = comparison.change_report(session, selection, baseline, "team")
    if selection.form.id in (comparison.YOUTH_FORM, comparison.PARENT_FORM):
        youth = (
            selection
            if selection.form.id == comparison.YOUTH_FORM
            else select(selection.wave, comparison.YOUTH_FORM)
        )
        parent = (
            selection
            if selection.form.id == comparison.PARENT_FORM
            else select(selection.wave, comparison.PARENT_FORM)
        )
        informants = comparison.informants_report(session, youth, parent, "team")
    return Comparisons(baseline_wave, change_wave, change_teams, informants)


def render_report(
    session: Session,
    selection: service.Selection,
    *,
    professionals: bool,
    lang: Language,
    comparisons: Comparisons | None = None,
    panel: Markup | None = None,
) -> str:
    """The whole page as one string (the HTTP route and ``verbonden report --format html`` use it)."""
    context = report_context(
        session, selection, professionals=professionals, lang=lang, comparisons=comparisons
    )
    return render_context(context, panel=panel)


def render_context(context: dict[str, Any], *, panel: Markup | None = None) -> str:
    """The page of a :func:`report_context`, with the web app's ``panel`` and the time it is shown."""
    template = environment.get_template("reports/report.html")
    return template.render(**context, generated_at=utcnow(), panel=panel)


def report_context(
    session: Session,
    selection: service.Selection,
    *,
    professionals: bool,
    lang: Language,
    comparisons: Comparisons | None = None,
) -> dict[str, Any]:
    """Everything the report page shows, computed from the published cut (not yet rendered)."""
    reliability = service.reliability_report(selection)
    teams = service.scores_report(session, selection, "team")
    per_professional = (
        service.scores_report(session, selection, "professional")
        if professionals and selection.about_professional
        else None
    )
    form = selection.form
    instrument = selection.instrument
    titles: dict[str, str] = {subscale.id: subscale.title[lang] for subscale in form.core_subscales.values()}
    for module in form.modules.values():
        titles.update({subscale.id: subscale.title[lang] for subscale in module.subscales.values()})
    say = Say(lang, titles)
    neutral_name = instrument.neutral_name[lang]
    item_texts = {item.id: neutral_label(item, lang, neutral_name) for item in form.items(form.modules)}
    scale = instrument.scale
    answer_labels = [(point, scale.labels[point][lang]) for point in scale.points]
    distributions = {
        entry.subscale: plots.item_distribution(
            [(row.item, row.distribution) for row in entry.item_analysis if row.distribution],
            answer_labels,
            titles[entry.subscale],
            say,
        )
        for entry in reliability.subscales
        if not entry.item_statistics_suppressed and any(row.distribution for row in entry.item_analysis)
    }
    # Floor and ceiling effects are marked in the item table itself, not repeated as a warning per item.
    item_warnings = {
        entry.subscale: [say.warning(text) for text in entry.warnings if not FLOOR_CEILING.match(text)]
        for entry in reliability.subscales
    }
    bounds = (scale.min, scale.max)
    names = [group.subscale for group in selection.groups]
    caterpillars = _caterpillars(per_professional, names, titles, say, bounds) if per_professional else []
    extra = comparisons or Comparisons()
    change_panels = (
        _change_panels(extra.change_wave, extra.change_teams, titles, say, lang) if extra.change_teams else []
    )
    informant_panels = (
        _informant_panels(extra.informants, titles, say, bounds, lang) if extra.informants else []
    )
    return dict(
        lang=lang,
        wave=selection.wave,
        form=form,
        form_title=form.render_title(lang, neutral_name),
        instrument=instrument,
        reliability=reliability,
        structure=structure.structure_of_waves(
            session,
            wave=selection.wave,
            form=form.id,
            municipality_id=selection.wave.municipality_id,
            min_group_size=selection.min_group_size,
            baseline_wave=comparisons.baseline_wave if comparisons is not None else None,
        ),
        teams=teams,
        team_label=lambda group: _team_label(group, lang),
        professionals=per_professional,
        titles=titles,
        item_texts=item_texts,
        answer_labels=answer_labels,
        dont_know_label=scale.dont_know[lang],
        distributions=distributions,
        item_warnings=item_warnings,
        floor_ceiling_limit=FLOOR_CEILING_LIMIT,
        team_panels=_team_panels(teams, titles, say, bounds, lang),
        caterpillars=caterpillars,
        change_panels=change_panels,
        informant_panels=informant_panels,
        published_on=day_in_words(selection.published_at, lang) if selection.published_at else None,
        **language.formatters(say),
        **vars(extra),
    )


REPORTS_REMEMBERED = 16
"""Computed report pages kept per worker (each a few hundred kB of numbers and SVG)."""
_computed_reports: caches.LRU[tuple[object, ...], dict[str, Any]] = caches.lru(REPORTS_REMEMBERED)


def _without_rows(context: dict[str, Any]) -> dict[str, Any]:
    """``context`` with plain copies of its waves, so no request's session object is kept or shared."""
    return {
        name: Wave.model_validate(value.model_dump()) if isinstance(value, Wave) else value
        for name, value in context.items()
    }


def report_html(
    request: Request,
    session: Session,
    principal: Principal,
    wave: Wave,
    *,
    form: str,
    lang: Language,
    baseline_wave_id: int | None = None,
    panel: Markup | None = None,
) -> str:
    """The report page of the caller's ``wave`` (already checked to be theirs): the published cut,
    professionals only with reports:professional (audited), comparisons where asked. Every door
    that shows the HTML report (``/reports/{id}``, the web app) renders it here."""
    min_group_size = request.app.state.settings.min_group_size
    professionals = Scope.reports_professional.value in principal.scopes and wave.professional_feedback
    if professionals:
        audit.record(
            session,
            principal,
            "report.professional.read",
            object_type="wave",
            object_id=wave.id,
            wave_id=wave.id,
            detail={"form": form},
        )
    baseline_wave = None
    if baseline_wave_id is not None and baseline_wave_id != wave.id:
        baseline_wave = organisation.get_wave(session=session, principal=principal, wave_id=baseline_wave_id)
    version = service.report_version(
        session,
        wave=wave,
        form=form,
        municipality_id=principal.municipality_id,
        min_group_size=min_group_size,
        baseline_wave=baseline_wave,
    )
    # Equal versions show equal numbers: a page computed before is shown again (see report_version).
    key = (version, professionals, lang)
    context = _computed_reports.get(key)
    if context is None:
        selection = service.select_answers(
            session,
            wave=wave,
            form=form,
            municipality_id=principal.municipality_id,
            min_group_size=min_group_size,
        )
        extra = comparisons_for(request, session, principal, selection, baseline_wave)
        context = report_context(
            session, selection, professionals=professionals, lang=lang, comparisons=extra
        )
        _computed_reports.put(key, _without_rows(context))
    return render_context(context, panel=panel)


@router.get("/reports/{wave_id}", response_class=HTMLResponse)
def report_page(
    request: Request,
    session: SessionDep,
    principal: AggregatePrincipal,
    wave_id: Annotated[int, Path(ge=1, le=MAX_ROW_ID)],
    form: Annotated[str, Query(min_length=1, max_length=32)] = "jongere",
    lang: Language = "nl",
    baseline_wave_id: Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)] = None,
) -> HTMLResponse:
    """One self-contained printable page; professionals' scores only for keys with reports:professional."""
    wave = organisation.get_wave(session=session, principal=principal, wave_id=wave_id)
    page = report_html(
        request, session, principal, wave, form=form, lang=lang, baseline_wave_id=baseline_wave_id
    )
    return HTMLResponse(page, headers=PAGE_HEADERS)
