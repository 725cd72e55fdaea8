"""People who sign in: accounts, their server-side sessions, one-time links and sign-in throttling."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, utcnow


class User(SQLModel, table=True):
    """A staff account: a coordinator, researcher or admin of one municipality, or of none (research).

    ``email`` is stored lower-cased (addresses compare case-insensitively). ``password_hash`` is an
    argon2id hash (null until the person sets a password through their invitation link).
    ``totp_secret`` is the second factor's shared secret, encrypted with a key derived from
    ``VERBONDEN_SECRET_KEY`` (it cannot be hashed: the server must compute codes from it);
    ``totp_last_step`` refuses a code used once already. ``recovery_codes`` holds the SHA-256
    hashes of the unused recovery codes, separated by spaces.
    """

    __tablename__ = "user"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True)
    display_name: str = Field(max_length=200)
    role: str = Field(max_length=16)
    municipality_id: int | None = Field(
        default=None, foreign_key="municipality.id", index=True, ondelete="CASCADE"
    )
    password_hash: str | None = Field(default=None, max_length=255)
    totp_secret: str | None = Field(default=None, max_length=255)
    totp_enabled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    totp_last_step: int | None = Field(default=None)
    recovery_codes: str | None = Field(default=None, max_length=1000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    password_changed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    disabled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class UserSession(SQLModel, table=True):
    """A signed-in browser. Only the SHA-256 hash of the cookie's token is stored.

    ``stage`` is ``full`` for a signed-in person, ``totp`` after a correct password while the second
    factor is still to come, ``enrol`` when the person must first set up a second factor. Deleting
    the row signs the browser out.
    """

    __tablename__ = "user_session"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    token_hash: str = Field(max_length=64, unique=True)
    stage: str = Field(max_length=8)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)


class UserToken(SQLModel, table=True):
    """A one-time link to set a password: an invitation (``invite``) or a reset (``reset``).

    Only the hash of the link's token is stored; ``used_at`` makes it single-use.
    """

    __tablename__ = "user_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    purpose: str = Field(max_length=8)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class LoginThrottle(SQLModel, table=True):
    """Failed sign-ins in the current window, per account or per client address.

    ``key_hash`` is a keyed hash (HMAC with ``VERBONDEN_SECRET_KEY``) of the lower-cased e-mail
    address or of the client address: no raw address is stored.
    """

    __tablename__ = "login_throttle"

    key_hash: str = Field(max_length=64, primary_key=True)
    window_started_at: datetime = Field(sa_type=UTCDateTime, index=True)
    failures: int = Field(default=0)
