"""Every query on API keys, scoped to the caller's municipality."""

from __future__ import annotations

from sqlmodel import Session, col, func, select

from app.auth import Principal
from app.models import ApiKey
from app.tenancy import get_owned, scoped


def list_keys(session: Session, principal: Principal, *, limit: int, offset: int) -> tuple[list[ApiKey], int]:
    statement = scoped(select(ApiKey), ApiKey.municipality_id, principal)
    total = session.exec(
        scoped(select(func.count()).select_from(ApiKey), ApiKey.municipality_id, principal)
    ).one()
    keys = session.exec(statement.order_by(col(ApiKey.id)).limit(limit).offset(offset)).all()
    return list(keys), int(total)


def get_key(session: Session, principal: Principal, key_id: int) -> ApiKey:
    return get_owned(session, ApiKey, key_id, principal, label="API key")
