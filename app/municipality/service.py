"""The rules of the municipality's sender details: only its own keys, only manage or admin writes."""

from __future__ import annotations

from sqlmodel import Session

from app.audit import service as audit
from app.auth import Principal
from app.errors import NotFound
from app.models import Municipality
from app.municipality import repository
from app.municipality.schemas import MunicipalityUpdate
from app.tenancy import writing_municipality


def own_municipality(session: Session, principal: Principal) -> Municipality:
    """The caller's municipality; 404 for a research key, which belongs to none."""
    if principal.municipality_id is None:
        raise NotFound("A research key belongs to no municipality; use a key of the municipality.")
    municipality = repository.get(session, principal.municipality_id)
    if municipality is None:
        raise NotFound("The key's municipality no longer exists.")
    return municipality


def update_municipality(session: Session, principal: Principal, changes: MunicipalityUpdate) -> Municipality:
    """Change the fields sent (``null`` clears one); recorded in the audit trail by field name."""
    writing_municipality(principal)  # 403 for a research key
    municipality = own_municipality(session, principal)
    sent = changes.model_dump(exclude_unset=True)
    for field, value in sent.items():
        setattr(municipality, field, value)
    repository.save(session, municipality)
    if sent:
        audit.record(
            session,
            principal,
            "municipality.update",
            object_type="municipality",
            object_id=municipality.id,
            detail={"fields": ",".join(sorted(sent))},
        )
    return municipality
