"""The response export: one row per response, one column per item; its audit hook and its cut.

The export is built in steps, one module each: :mod:`app.exports.plan` (the columns, and the
meaning of every cell), :mod:`app.exports.batches` (rows decoded and scored),
:mod:`app.exports.csv_file`, :mod:`app.exports.sav_file`, and :mod:`app.exports.codebook`.

The export is not an aggregate: it holds rows, without small-group suppression, behind its own
scope (``responses:read``); every download passes :func:`record_export`. A municipality key gets
the responses of the wave's publication cut only, with ``submitted_at`` left empty (no time finer
than the wave), so the file cannot be matched to the moment someone was seen filling in the form
nor show a response that no report has published; a research key gets every row with its hour.
``professional_code`` is filled in only for keys that may read numbers per professional
(``reports:professional``): from the rows, any professional's scores could be computed.
"""

from __future__ import annotations

from sqlmodel import Session

from app.audit import service as audit
from app.auth import Principal
from app.organisation import service as organisation
from app.publication import service as publication


def record_export(
    session: Session,
    principal: Principal,
    *,
    kind: str,
    wave_id: int | None,
    form: str | None,
    file_format: str,
) -> None:
    """Record the download in the audit trail (ARCHITECTURE invariant 3): action ``<kind>.export``.

    Called once per export, before the first byte is sent, inside the request's session, so the
    record commits with the request. It names the wave, form and format, never a row.
    """
    audit.record(
        session,
        principal,
        f"{kind}.export",
        object_type="wave" if wave_id is not None else None,
        object_id=wave_id,
        wave_id=wave_id,
        detail={"form": form, "format": file_format},
    )


def publish_for_export(session: Session, principal: Principal, *, wave_id: int, min_group_size: int) -> None:
    """Publish what is due before a municipality key's export (as every output does); a research
    key's export holds every row and needs no cut. Run in the request's own session: the export's
    stream session then reads the published rows (a cut made by this very read may show from the
    next export on: either way the file holds whole batches only)."""
    if not principal.is_research:
        wave = organisation.get_wave(session=session, principal=principal, wave_id=wave_id)
        publication.publish_due(session, wave, min_group_size=min_group_size)
