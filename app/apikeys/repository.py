"""Every query on API keys, scoped to the caller's municipality (the key check itself is the one
lookup by secret hash, before anyone is known)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import exists, or_
from sqlmodel import Session, col, func, select

from app.models import ApiKey
from app.tenancy import get_owned, scoped

if TYPE_CHECKING:  # app.auth imports this module to check a key
    from app.auth import Principal


def key_by_secret_hash(session: Session, secret_hash: str) -> ApiKey | None:
    return session.exec(select(ApiKey).where(ApiKey.secret_hash == secret_hash)).first()


def live_key(key_id: Any, municipality_id: Any, now: Any) -> Any:
    """A clause for another statement: the key ``key_id`` of ``municipality_id`` is live at ``now``
    (neither revoked nor expired). The partner API's one ``INSERT ... SELECT`` composes it, so a key
    revoked a moment ago stores nothing on any worker (``app.collection.repository``)."""
    api_key = ApiKey.__table__  # type: ignore[attr-defined]
    return exists().where(
        api_key.c.id == key_id,
        api_key.c.municipality_id == municipality_id,
        api_key.c.revoked_at.is_(None),
        or_(api_key.c.expires_at.is_(None), api_key.c.expires_at > now),
    )


def add(session: Session, api_key: ApiKey) -> ApiKey:
    session.add(api_key)
    session.flush()
    return api_key


def live_keys_named(session: Session, *, municipality_id: int | None, name: str) -> list[ApiKey]:
    """The municipality's keys called ``name`` that are not revoked."""
    statement = select(ApiKey).where(
        ApiKey.municipality_id == municipality_id,
        ApiKey.name == name,
        col(ApiKey.revoked_at).is_(None),
    )
    return list(session.exec(statement).all())


def list_keys(session: Session, principal: Principal, *, limit: int, offset: int) -> tuple[list[ApiKey], int]:
    statement = scoped(select(ApiKey), ApiKey.municipality_id, principal)
    total = session.exec(
        scoped(select(func.count()).select_from(ApiKey), ApiKey.municipality_id, principal)
    ).one()
    keys = session.exec(statement.order_by(col(ApiKey.id)).limit(limit).offset(offset)).all()
    return list(keys), int(total)


def get_key(session: Session, principal: Principal, key_id: int) -> ApiKey:
    return get_owned(session, ApiKey, key_id, principal, label="API key")
