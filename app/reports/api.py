"""``/api/v1/reports``: reliability and scores of one wave and form, computed live (sync: CPU-bound)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlmodel import Session

from app.api_common import INVALID_INPUT, MAX_ROW_ID, error_responses
from app.audit import service as audit
from app.auth import Principal, Scope, require_scope
from app.db import SessionDep
from app.errors import Forbidden, InvalidInput
from app.organisation import service as organisation
from app.reports import comparison, service, structure
from app.reports.schemas import (
    ChangeLevel,
    ChangeReport,
    InformantLevel,
    InformantsReport,
    Level,
    ReliabilityReport,
    ScoresReport,
    StructureReport,
)

router = APIRouter(prefix="/reports", tags=["reports"])
ReportPrincipal = Annotated[
    Principal, Depends(require_scope(Scope.reports_aggregate, Scope.reports_professional))
]
WaveId = Annotated[int, Query(ge=1, le=MAX_ROW_ID)]
FormId = Annotated[str, Query(min_length=1, max_length=32)]
JSON = "application/json"
_ERRORS = error_responses(
    forbidden="The key lacks the scope `reports:aggregate` (or `reports:professional` per professional)",
    not_found="No such wave in the key's municipality",
    invalid=INVALID_INPUT,
)


def selection_for(
    request: Request, session: Session, principal: Principal, wave_id: int, form: str
) -> service.Selection:
    """The caller's wave (404 for another municipality's) and its answers on ``form``."""
    wave = organisation.get_wave(session=session, principal=principal, wave_id=wave_id)
    return service.select_answers(
        session,
        wave=wave,
        form=form,
        municipality_id=principal.municipality_id,
        min_group_size=request.app.state.settings.min_group_size,
    )


def require_level_scope(principal: Principal, level: str) -> None:
    needed = Scope.reports_professional if level == "professional" else Scope.reports_aggregate
    if needed.value not in principal.scopes:
        raise Forbidden(f"Scores per {level} need an API key with the scope {needed.value}.")


@router.get("/reliability", response_model=ReliabilityReport, responses=_ERRORS)
def reliability(
    request: Request, session: SessionDep, principal: ReportPrincipal, wave_id: WaveId, form: FormId
) -> Response:
    """Alpha (with CI), omega, item analysis and correlations per subscale; warnings in plain words."""
    if Scope.reports_aggregate.value not in principal.scopes:
        raise Forbidden("The reliability report needs an API key with the scope reports:aggregate.")
    selection = selection_for(request, session, principal, wave_id, form)
    # Serialised here: jsonable_encoder is slow on reports with tens of thousands of cells.
    return Response(service.reliability_report(selection).model_dump_json(), media_type=JSON)


@router.get("/scores", response_model=ScoresReport, responses=_ERRORS)
def scores(
    request: Request,
    session: SessionDep,
    principal: ReportPrincipal,
    wave_id: WaveId,
    form: FormId,
    level: Level = "professional",
) -> Response:
    """Scores per professional or team with CI, group reliability and rwg(j); ICC per subscale."""
    require_level_scope(principal, level)
    selection = selection_for(request, session, principal, wave_id, form)
    if level == "professional":
        _audit_professional_read(session, principal, [wave_id], form)
    return Response(service.scores_report(session, selection, level).model_dump_json(), media_type=JSON)


@router.get("/structure", response_model=StructureReport, responses=_ERRORS)
def structure_report(
    request: Request,
    session: SessionDep,
    principal: ReportPrincipal,
    wave_id: WaveId,
    form: FormId,
    baseline_wave_id: Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)] = None,
) -> Response:
    """Confirmatory factor analysis of the core subscales and of each module, judged in plain words.

    With measurement invariance across the form's languages, against the parallel form (the items
    the instrument declares parallel) and, with ``baseline_wave_id``, against that wave; all from
    published cuts.
    """
    if Scope.reports_aggregate.value not in principal.scopes:
        raise Forbidden("The structure report needs an API key with the scope reports:aggregate.")
    report = structure.structure_for(
        session,
        principal,
        wave_id=wave_id,
        form=form,
        min_group_size=request.app.state.settings.min_group_size,
        baseline_wave_id=baseline_wave_id,
    )
    return Response(report.model_dump_json(), media_type=JSON)


def _audit_professional_read(session: Session, principal: Principal, wave_ids: list[int], form: str) -> None:
    for wave_id in wave_ids:
        audit.record(
            session,
            principal,
            "scores.professional.read",
            object_type="wave",
            object_id=wave_id,
            wave_id=wave_id,
            detail={"form": form},
        )


@router.get("/change", response_model=ChangeReport, responses=_ERRORS)
def change(
    request: Request,
    session: SessionDep,
    principal: ReportPrincipal,
    wave_id: WaveId,
    baseline_wave_id: WaveId,
    form: FormId,
    level: ChangeLevel = "wave",
) -> Response:
    """Change per group and subscale from the baseline wave: means, Welch CI, Hedges' g, detectable change.

    Only groups published in both waves; the numbers come from both waves' publication cuts.
    """
    require_level_scope(principal, level)
    if baseline_wave_id == wave_id:
        message = "baseline_wave_id must be another wave than wave_id"
        raise InvalidInput(message, errors=[{"loc": ["query", "baseline_wave_id"], "msg": message}])
    current = selection_for(request, session, principal, wave_id, form)
    baseline = selection_for(request, session, principal, baseline_wave_id, form)
    report = comparison.change_report(session, current, baseline, level)
    if level == "professional":
        _audit_professional_read(session, principal, [wave_id, baseline_wave_id], form)
    return Response(report.model_dump_json(), media_type=JSON)


@router.get("/informants", response_model=InformantsReport, responses=_ERRORS)
def informants(
    request: Request,
    session: SessionDep,
    principal: ReportPrincipal,
    wave_id: WaveId,
    level: InformantLevel = "professional",
) -> Response:
    """Youth and parent means side by side per group, their difference and their agreement across groups."""
    require_level_scope(principal, level)
    youth = selection_for(request, session, principal, wave_id, comparison.YOUTH_FORM)
    parent = selection_for(request, session, principal, wave_id, comparison.PARENT_FORM)
    report = comparison.informants_report(session, youth, parent, level)
    if level == "professional":
        _audit_professional_read(session, principal, [wave_id], "jongere,ouder")
    return Response(report.model_dump_json(), media_type=JSON)
