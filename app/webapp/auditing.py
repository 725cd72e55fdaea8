"""The web app's writes are recorded in the audit trail like the management API's.

A router dependency (``dependencies=[Depends(audit_page_changes, scope="function")]`` where a
router is included): after a successful POST of a page, every managed row it created, changed or
deleted is recorded under the signed-in person (:func:`app.audit.service.recording_changes`), so
no page can forget to.
"""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Request

from app.audit import service as audit
from app.db import SessionDep
from app.users.sessions import SignedInDep


def audit_page_changes(request: Request, session: SessionDep, signed_in: SignedInDep) -> Iterator[None]:
    yield from audit.recording_changes(request, session, signed_in.principal)
