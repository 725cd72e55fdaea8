"""``GET /api/v1/exports/responses`` (CSV, SPSS) and ``/exports/codebook``; scope ``responses:read``.

The response export is every pseudonymous row of a wave, not an aggregate: no suppression, its own
scope, and every download goes through ``record_export`` (the audit hook).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.background import BackgroundTask

from app.api_common import MAX_ROW_ID, error_responses, problem
from app.auth import Principal, Scope, require_scope
from app.db import SessionDep, StreamSessionDep
from app.exports import codebook, csv_file, plan, r_export, sav_file, service
from app.exports.schemas import (
    MAX_FORM_LENGTH,
    MAX_VERSION_LENGTH,
    CodebookFormat,
    ResponsesFormat,
)

router = APIRouter(prefix="/exports", tags=["exports"])
ReadPrincipal = Annotated[Principal, Depends(require_scope(Scope.responses_read))]

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
SAV_MEDIA_TYPE = "application/x-spss-sav"
_ERRORS = error_responses(
    forbidden="The key lacks the scope `responses:read`",
    not_found="No such wave (or instrument version) for this key",
    invalid="Invalid query; `errors` names the parameter",
)


def _attachment(filename: str) -> dict[str, str]:
    # No Cache-Control here: app.security keeps every answer but /static out of shared caches.
    return {"Content-Disposition": f'attachment; filename="{filename}"'}


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
    # Planned and read in one snapshot (the stream session), so a response in a new layout that is
    # committed meanwhile cannot cut the file short after its 200 was sent.
    service.publish_for_export(
        session, principal, wave_id=wave_id, min_group_size=request.app.state.settings.min_group_size
    )
    export = plan.plan_response_export(stream_session, principal, wave_id=wave_id, form=form)
    service.record_export(
        session, principal, kind="responses", wave_id=wave_id, form=form, file_format=format.value
    )
    if format is ResponsesFormat.csv:
        # The request's session commits (with the audit row) when this function returns; the rows
        # stream afterwards through the stream session that planned them.
        return StreamingResponse(
            csv_file.iter_csv(stream_session, export, bom=bom),
            media_type=CSV_MEDIA_TYPE,
            headers=_attachment(export.filename("csv")),
        )
    extension, media_type, write = (
        ("zip", r_export.ZIP_MEDIA_TYPE, r_export.write_zip)
        if format is ResponsesFormat.r
        else ("sav", SAV_MEDIA_TYPE, sav_file.write_sav)
    )
    descriptor, name = tempfile.mkstemp(prefix="verbonden-export-", suffix=f".{extension}")
    os.close(descriptor)
    path = Path(name)
    try:
        write(stream_session, export, path)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return FileResponse(
        path,
        media_type=media_type,
        headers=_attachment(export.filename(extension)),
        background=BackgroundTask(path.unlink, missing_ok=True),
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
    instrument = codebook.codebook_instrument(version)
    entries = codebook.codebook_entries(instrument, form)
    if format is CodebookFormat.json:
        return JSONResponse(codebook.codebook_document(instrument, entries))
    suffix = f"-{form}" if form else ""
    filename = f"verbonden-codebook-{instrument.version}{suffix}.csv"
    return Response(
        codebook.codebook_csv(entries),
        media_type=CSV_MEDIA_TYPE,
        headers=_attachment(filename),
    )
