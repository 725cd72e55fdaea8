"""Tenant scoping, in one place: every repository query goes through these helpers.

A municipality's key sees only rows whose ``municipality_id`` is its own; a research key
(``municipality_id`` null) may read every municipality but never write. Another municipality's
object answers 404, exactly as a missing one, so ids reveal nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from sqlalchemy.orm import InstrumentedAttribute
from sqlmodel import Session
from sqlmodel.sql.expression import SelectOfScalar

from app.errors import Forbidden, NotFound

if TYPE_CHECKING:  # app.auth looks keys up through a repository that uses these helpers
    from app.auth import Principal


class Owned(Protocol):
    id: Any
    municipality_id: Any


OwnedT = TypeVar("OwnedT", bound=Owned)
RowT = TypeVar("RowT")


def scoped(
    statement: SelectOfScalar[RowT], column: InstrumentedAttribute[Any] | Any, principal: Principal
) -> SelectOfScalar[RowT]:
    """Restrict ``statement`` to the caller's municipality (a research key sees all)."""
    if principal.municipality_id is None:
        return statement
    return statement.where(column == principal.municipality_id)


def get_owned(
    session: Session, model: type[OwnedT], object_id: int, principal: Principal, *, label: str | None = None
) -> OwnedT:
    """The object with ``object_id`` when the caller may see it, else 404."""
    found = session.get(model, object_id)
    if found is None or (
        principal.municipality_id is not None and found.municipality_id != principal.municipality_id
    ):
        raise NotFound(f"{label or model.__name__.lower()} {object_id} not found")
    return found


def writing_municipality(principal: Principal) -> int:
    """The municipality a write belongs to; research keys read only."""
    if principal.municipality_id is None:
        raise Forbidden("A research key reads across municipalities but cannot change data.")
    return principal.municipality_id
