"""Accounts and signed-in sessions for tests."""

from __future__ import annotations

import uuid

import pyotp
from sqlmodel import Session

from app.config import Settings
from app.models import Municipality, User
from app.users import crypto, service
from app.users.schemas import Role, UserCreate
from app.users.sessions import SESSION_COOKIE, session_csrf_token

PASSWORD = "een-lang-genoeg-wachtwoord-42"


def make_user(
    session: Session,
    municipality: Municipality | None,
    role: str = "coordinator",
    *,
    email: str | None = None,
    password: str | None = PASSWORD,
    name: str = "Kim de Vries",
) -> User:
    user = service.create_user(
        session,
        user_in=UserCreate(
            email=email or f"{uuid.uuid4().hex[:8]}@gemeente.example",
            display_name=name,
            role=Role(role),
            municipality_id=municipality.id if municipality else None,
        ),
        actor=None,
    )
    if password is not None:
        service.set_password(session, user=user, password=password, actor=None)
    session.flush()
    return user


def enrol_totp(session: Session, settings: Settings, user: User) -> str:
    """Switch TOTP on for ``user``; returns the secret (base32)."""
    secret = pyotp.random_base32()
    user.totp_secret = crypto.encrypt_secret(settings.secret_key, secret)
    user.totp_enabled_at = user.created_at
    session.add(user)
    session.flush()
    return secret


def signed_in_headers(session: Session, settings: Settings, user: User) -> dict[str, str]:
    """Request headers of a browser signed in as ``user``: its cookie and its CSRF token."""
    token = service.start_session(session, settings, user=user, stage=service.STAGE_FULL)
    session.flush()
    return {"Cookie": f"{SESSION_COOKIE}={token}", "X-CSRF-Token": session_csrf_token(settings, token)}
