"""``GET /api/v1/exports/responses`` (CSV, SPSS) and ``/exports/codebook``; scope ``responses:read``.

The response export is every pseudonymous row of a wave, not an aggregate: no suppression, its own
scope, and every download goes through ``record_export`` (the audit hook).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from app.api_common import MAX_ROW_ID, error_responses, problem
from app.auth import Principal, Scope, require_scope
from app.db import SessionDep, StreamSessionDep
from app.exports import downloads, r_export
from app.exports.downloads import CSV_MEDIA_TYPE, SAV_MEDIA_TYPE
from app.exports.schemas import (
    MAX_FORM_LENGTH,
    MAX_VERSION_LENGTH,
    CodebookFormat,
    ResponsesFormat,
)

router = APIRouter(prefix="/exports", tags=["exports"])
ReadPrincipal = Annotated[Principal, Depends(require_scope(Scope.responses_read))]

_ERRORS = error_responses(
    forbidden="The key lacks the scope `responses:read`",
    not_found="No such wave (or instrument version) for this key",
    invalid="Invalid query; `errors` names the parameter",
)


@router.get(
    "/responses",
    response_class=Response,
    responses={
        **_ERRORS,
        200: {
            "description": (
                "One row per response; CSV streams, .sav is SPSS with Dutch labels, "
                "r is a .zip of the CSV and an R script that loads it with labels"
            ),
            "content": {CSV_MEDIA_TYPE: {}, SAV_MEDIA_TYPE: {}, r_export.ZIP_MEDIA_TYPE: {}},
        },
        413: problem("Too many rows for one .sav; export one form or as CSV"),
    },
)
def export_responses(
    request: Request,
    session: SessionDep,
    stream_session: StreamSessionDep,
    principal: ReadPrincipal,
    wave_id: Annotated[int, Query(ge=1, le=MAX_ROW_ID)],
    format: Annotated[ResponsesFormat, Query()] = ResponsesFormat.csv,
    form: Annotated[str | None, Query(max_length=MAX_FORM_LENGTH)] = None,
    bom: Annotated[bool, Query(description="Start the CSV with a UTF-8 byte order mark (Excel)")] = False,
) -> Response:
    """Every response of a wave (one form, or all), with item answers and subscale scores."""
    return downloads.responses_download(
        session,
        stream_session,
        principal,
        wave_id=wave_id,
        file_format=format,
        form=form,
        bom=bom,
        min_group_size=request.app.state.settings.min_group_size,
    )


@router.get(
    "/codebook",
    response_class=Response,
    responses={
        **_ERRORS,
        200: {
            "description": "One entry per item variable: form, subscale, module, labels, value labels",
            "content": {"application/json": {}, CSV_MEDIA_TYPE: {}},
        },
    },
)
def export_codebook(
    principal: ReadPrincipal,
    format: Annotated[CodebookFormat, Query()] = CodebookFormat.json,
    form: Annotated[str | None, Query(max_length=MAX_FORM_LENGTH)] = None,
    version: Annotated[str | None, Query(max_length=MAX_VERSION_LENGTH)] = None,
) -> Response:
    """The codebook of the published instrument (or ``version``): every form, or one."""
    return downloads.codebook_download(format, form=form, version=version)
