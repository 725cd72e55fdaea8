"""The rules of municipalities: a slug made from the name, erasure that takes everything along, and
the sender details (only its own keys, only manage or admin writes)."""

from __future__ import annotations

import re
import unicodedata

from sqlmodel import Session

from app.audit import service as audit
from app.auth import Principal
from app.errors import Conflict, InvalidInput, NotFound
from app.models import Municipality
from app.municipality import repository
from app.municipality.schemas import MunicipalityUpdate
from app.tenancy import writing_municipality


def slugify(name: str) -> str:
    """``Bars-A`` -> ``bars-a``; ``'s-Hertogenbosch`` -> ``s-hertogenbosch``; accents dropped."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug[:64]


def by_id(session: Session, municipality_id: int) -> Municipality | None:
    return repository.get(session, municipality_id)


def by_slug(session: Session, slug: str) -> Municipality | None:
    return repository.by_slug(session, slug)


def slugs(session: Session) -> dict[int, str]:
    """Every municipality's slug by its id."""
    return repository.slugs(session)


def create_municipality(session: Session, name: str) -> Municipality:
    """A new municipality; its slug is made from ``name``. 422 without letters or digits, 409 when
    the slug is taken."""
    slug = slugify(name)
    if not slug:
        raise InvalidInput(f"cannot make a slug from {name!r}; use letters or digits")
    if repository.by_slug(session, slug) is not None:
        raise Conflict(f"municipality {slug!r} exists already")
    return repository.save(session, Municipality(slug=slug, name=name.strip()))


def delete_municipality(session: Session, municipality: Municipality) -> int:
    """Erase a municipality: its partners, teams, professionals, waves, invitations, feedback links,
    keys and responses go with it (the foreign keys cascade). The audit trail keeps the bare
    events, which name no person. Returns the number of responses erased."""
    responses = repository.count_responses(session, municipality.id or 0)
    audit.record(
        session,
        None,
        "municipality.delete",
        object_type="municipality",
        object_id=municipality.id,
        municipality_id=municipality.id,
        detail={"responses": responses},
    )
    repository.delete(session, municipality)
    return responses


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
