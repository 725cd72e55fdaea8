"""The one way a download is answered, for every door: ``/api/v1/exports/...`` and the web app.

A download of responses publishes what is due, plans the rows in the stream session's snapshot,
records itself in the audit trail (``record_export``) and then streams (CSV) or writes (.sav, or
the R-ready .zip).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from sqlmodel import Session
from starlette.background import BackgroundTask

from app.auth import Principal
from app.exports import codebook, csv_file, plan, r_export, sav_file, service
from app.exports.schemas import CodebookFormat, ResponsesFormat

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
SAV_MEDIA_TYPE = "application/x-spss-sav"


def attachment(filename: str) -> dict[str, str]:
    # No Cache-Control here: app.security keeps every answer but /static out of shared caches.
    return {"Content-Disposition": f'attachment; filename="{filename}"'}


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
    """Every response of the caller's wave (one form, or all) as CSV, SPSS or R-ready, audited."""
    # Planned and read in one snapshot (the stream session), so a response in a new layout that is
    # committed meanwhile cannot cut the file short after its 200 was sent.
    service.publish_for_export(session, principal, wave_id=wave_id, min_group_size=min_group_size)
    export = plan.plan_response_export(stream_session, principal, wave_id=wave_id, form=form)
    service.record_export(
        session, principal, kind="responses", wave_id=wave_id, form=form, file_format=file_format.value
    )
    if file_format is ResponsesFormat.csv:
        # The request's session commits (with the audit row) when the route returns; the rows
        # stream afterwards through the stream session that planned them.
        return StreamingResponse(
            csv_file.iter_csv(stream_session, export, bom=bom),
            media_type=CSV_MEDIA_TYPE,
            headers=attachment(export.filename("csv")),
        )
    extension, media_type, write = (
        ("zip", r_export.ZIP_MEDIA_TYPE, r_export.write_zip)
        if file_format is ResponsesFormat.r
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
        headers=attachment(export.filename(extension)),
        background=BackgroundTask(path.unlink, missing_ok=True),
    )


def codebook_download(file_format: CodebookFormat, *, form: str | None, version: str | None) -> Response:
    """The codebook of the published instrument (or ``version``): every form, or one."""
    instrument = codebook.codebook_instrument(version)
    entries = codebook.codebook_entries(instrument, form)
    if file_format is CodebookFormat.json:
        return JSONResponse(codebook.codebook_document(instrument, entries))
    suffix = f"-{form}" if form else ""
    filename = f"verbonden-codebook-{instrument.version}{suffix}.csv"
    return Response(
        codebook.codebook_csv(entries),
        media_type=CSV_MEDIA_TYPE,
        headers=attachment(filename),
    )
