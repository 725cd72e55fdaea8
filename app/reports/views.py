"""``GET /reports/{wave_id}``: the printable HTML report, with the same Bearer key as the JSON reports.

The page is rendered from the very report objects the JSON routes return, so disclosure control
(:mod:`app.reports.disclosure`) has already blanked every hidden cell before a plot is drawn.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session

from app.audit import service as audit
from app.auth import Principal, Scope, require_scope
from app.db import SessionDep, utcnow
from app.models import Wave
from app.publication.dates import day_in_words
from app.reports import comparison, plots, service, structure
from app.reports.schemas import MAX_ROW_ID, ChangeReport, GroupScores, InformantsReport, ScoresReport
from app.templates import environment
from app.tenancy import get_owned

router = APIRouter(tags=["reports"])
AggregatePrincipal = Annotated[Principal, Depends(require_scope(Scope.reports_aggregate))]
Language = Literal["nl", "en"]
NO_TEAM_LABEL = {"nl": "(zonder team)", "en": "(no team)"}
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
    "X-Content-Type-Options": "nosniff",
}


def fmt(value: float | None, digits: int = 2) -> str:
    """A number for the page: fixed decimals, a dash for a missing or hidden one."""
    return "–" if value is None else f"{value:.{digits}f}"


def fmt_ci(interval: list[float | None] | None, digits: int = 2) -> str:
    if not interval or interval[0] is None or interval[1] is None:
        return "–"
    return f"[{interval[0]:.{digits}f}, {interval[1]:.{digits}f}]"


def _team_label(group: GroupScores, lang: Language) -> str:
    return group.team_name or NO_TEAM_LABEL[lang]


def _caterpillars(professionals: ScoresReport, names: list[str], low: int, high: int) -> list[dict[str, Any]]:
    result = []
    for name in names:
        intervals = [
            plots.Interval(
                label=group.code or "?",
                mean=cell.mean,
                low=cell.ci[0] if cell.ci else None,
                high=cell.ci[1] if cell.ci else None,
            )
            for group in professionals.groups
            if (cell := group.scores[name]).mean is not None and not cell.suppressed
        ]
        if intervals:
            result.append(
                {
                    "subscale": name,
                    "count": len(intervals),
                    "svg": plots.caterpillar(intervals, low, high, name),
                }
            )
    return result


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
    baseline_wave_id: int | None,
) -> Comparisons:
    """Change per wave and team since ``baseline_wave_id`` (the caller's), youth beside parents per team."""
    settings = request.app.state.settings

    def select(wave: Wave, form: str) -> service.Selection:
        return service.select_answers(
            session,
            wave=wave,
            form=form,
            municipality_id=principal.municipality_id,
            min_group_size=settings.min_group_size,
        )

    baseline_wave = change_wave = change_teams = informants = None
    if baseline_wave_id is not None and baseline_wave_id != selection.wave.id:
        baseline_wave = get_owned(session, Wave, baseline_wave_id, principal)
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
) -> str:
    """The whole page as one string (the HTTP route and ``verbonden report --format html`` use it)."""
    reliability = service.reliability_report(selection)
    teams = service.scores_report(session, selection, "team")
    per_professional = (
        service.scores_report(session, selection, "professional")
        if professionals and selection.about_professional
        else None
    )
    form = selection.form
    titles: dict[str, str] = {subscale.id: subscale.title[lang] for subscale in form.core_subscales.values()}
    for module in form.modules.values():
        titles.update({subscale.id: subscale.title[lang] for subscale in module.subscales.values()})
    points = selection.scale_points
    distributions = {
        entry.subscale: plots.item_distribution(
            [(row.item, row.distribution) for row in entry.item_analysis if row.distribution],
            points,
            titles[entry.subscale],
        )
        for entry in reliability.subscales
        if not entry.item_statistics_suppressed and any(row.distribution for row in entry.item_analysis)
    }
    core = [group.subscale for group in selection.groups if group.module is None]
    profile_rows = [
        plots.ProfileRow(_team_label(group, lang), [group.scores[name].mean for name in core])
        for group in sorted(teams.groups, key=lambda group: _team_label(group, lang))
        if any(group.scores[name].mean is not None for name in core)
    ]
    low, high = points[0], points[-1]
    profile = (
        plots.profile(profile_rows, [titles[name] for name in core], low, high, "profile")
        if profile_rows
        else None
    )
    caterpillars = _caterpillars(per_professional, core, low, high) if per_professional else []
    template = environment.get_template("reports/report.html")
    return template.render(
        lang=lang,
        wave=selection.wave,
        form=form,
        form_title=form.render_title(lang, selection.instrument.neutral_name[lang]),
        instrument=selection.instrument,
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
        distributions=distributions,
        profile=profile,
        caterpillars=caterpillars,
        fmt=fmt,
        fmt_ci=fmt_ci,
        published_on=day_in_words(selection.published_at, lang) if selection.published_at else None,
        generated_at=utcnow(),
        **vars(comparisons or Comparisons()),
    )


def report_html(
    request: Request,
    session: Session,
    principal: Principal,
    wave: Wave,
    *,
    form: str,
    lang: Language,
    baseline_wave_id: int | None = None,
) -> str:
    """The report page of the caller's ``wave`` (already checked to be theirs): the published cut,
    professionals only with reports:professional (audited), comparisons where asked. Every door
    that shows the HTML report (``/reports/{id}``, the web app) renders it here."""
    selection = service.select_answers(
        session,
        wave=wave,
        form=form,
        municipality_id=principal.municipality_id,
        min_group_size=request.app.state.settings.min_group_size,
    )
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
    extra = comparisons_for(request, session, principal, selection, baseline_wave_id)
    return render_report(session, selection, professionals=professionals, lang=lang, comparisons=extra)


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
    wave = get_owned(session, Wave, wave_id, principal)
    page = report_html(
        request, session, principal, wave, form=form, lang=lang, baseline_wave_id=baseline_wave_id
    )
    return HTMLResponse(page, headers=PAGE_HEADERS)
