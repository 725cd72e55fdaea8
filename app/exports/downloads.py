"""The one way a download is answered, for every door: ``/api/v1/exports/...`` and the web app.

A download of responses publishes what is due, plans the rows in the stream session's snapshot,
records itself in the audit trail (``record_export``) and then streams (CSV) or writes (.sav).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from sqlmodel import Session
from starlette.background import BackgroundTask

from app.auth import Principal
from app.exports import service
from app.exports.schemas import CodebookFormat, ResponsesFormat

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
SAV_MEDIA_TYPE = "application/x-spss-sav"
# Pseudonymous rows: never kept by a shared cache.
NO_STORE = {"Cache-Control": "no-store"}


def attachment(filename: str) -> dict[str, str]:
    return {**NO_STORE, "Content-Disposition": f'attachment; filename="{filename}"'}


def responses_download(
    session: Session,
    stream_session: Session,
    principal: Principal,
    *,
    wave_id: int,
    file_format: ResponsesFormat,
    form: str | None,
    bom: bool,
    min_group_size: int,
) -> Response:
    """Every response of the caller's wave (one form, or all) as CSV or SPSS, audited."""
    # Planned and read in one snapshot (the stream session), so a response in a new layout that is
    # committed meanwhile cannot cut the file short after its 200 was sent.
    service.publish_for_export(session, principal, wave_id=wave_id, min_group_size=min_group_size)
    export = service.plan_response_export(stream_session, principal, wave_id=wave_id, form=form)
    service.record_export(
        session, principal, kind="responses", wave_id=wave_id, form=form, file_format=file_format.value
    )
    if file_format is ResponsesFormat.csv:
        # The request's session commits (with the audit row) when the route returns; the rows
        # stream afterwards through the stream session that planned them.
        return StreamingResponse(
            service.iter_csv(stream_session, export, bom=bom),
            media_type=CSV_MEDIA_TYPE,
            headers=attachment(export.filename("csv")),
        )
    descriptor, name = tempfile.mkstemp(prefix="verbonden-export-", suffix=".sav")
    os.close(descriptor)
    path = Path(name)
    try:
        service.write_sav(stream_session, export, path)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return FileResponse(
        path,
        media_type=SAV_MEDIA_TYPE,
        headers=attachment(export.filename("sav")),
        background=BackgroundTask(path.unlink, missing_ok=True),
    )


def codebook_download(file_format: CodebookFormat, *, form: str | None, version: str | None) -> Response:
    """The codebook of the published instrument (or ``version``): every form, or one."""
    instrument = service.codebook_instrument(version)
    entries = service.codebook_entries(instrument, form)
    if file_format is CodebookFormat.json:
        return JSONResponse(service.codebook_document(instrument, entries))
    suffix = f"-{form}" if form else ""
    filename = f"verbonden-codebook-{instrument.version}{suffix}.csv"
    return Response(
        service.codebook_csv(entries),
        media_type=CSV_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
