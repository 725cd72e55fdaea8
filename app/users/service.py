"""The rules of signing in: accounts, passwords, the second factor, sessions, one-time links, throttling.

Services never commit (the request's session does); they raise the exceptions below, which the
views turn into pages and the CLI into one line.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from app.audit import service as audit
from app.auth import Principal, Scope
from app.config import Settings
from app.db import utcnow
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.models import Municipality, User, UserSession, UserToken
from app.municipality import service as municipality_service
from app.users import crypto, repository
from app.users.schemas import Role, UserCreate, role_scopes

ACCOUNT_FAILURES = 10  # failed sign-ins per account per window before 429 (the contract says <= 20)
ADDRESS_FAILURES = 25  # ... per client address (the contract says <= 30)
THROTTLE_WINDOW = timedelta(minutes=15)
INVITE_VALID = timedelta(hours=72)
RESET_VALID = timedelta(hours=1)
# Between a right password and the second factor (or its enrolment): time to find the phone.
PARTIAL_SESSION = timedelta(minutes=15)

STAGE_FULL = "full"
STAGE_TOTP = "totp"
STAGE_ENROL = "enrol"
PURPOSE_INVITE = "invite"
PURPOSE_RESET = "reset"


class SignInFailed(Exception):
    """Wrong e-mail, wrong password, disabled account or wrong code: one answer for all of them."""


class Throttled(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after


class PasswordRefused(Exception):
    """``problem`` is ``too_short``, ``too_long``, ``too_common`` or ``mismatch``."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


class LinkUnusable(Exception):
    """``reason`` is ``unknown``, ``used`` or ``expired``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def principal_for(user: User) -> Principal:
    """The account as the API sees it: the scopes of its role, in its municipality (None: research)."""
    assert user.id is not None
    research = user.municipality_id is None
    return Principal(
        api_key_id=None,
        municipality_id=user.municipality_id,
        scopes=role_scopes(user.role, research=research),
        user_id=user.id,
    )


def _record(session: Session, user: User, action: str, actor: Principal | None, **detail: str) -> None:
    audit.record(
        session,
        actor,
        action,
        object_type="user",
        object_id=user.id,
        municipality_id=user.municipality_id,
        detail=detail or None,
    )


# -- accounts ----------------------------------------------------------------------------------------


def municipality_of(session: Session, user: User) -> Municipality | None:
    """The account's municipality; None for a research account."""
    if user.municipality_id is None:
        return None
    return municipality_service.by_id(session, user.municipality_id)


def list_users(session: Session, *, municipality_id: int | None) -> list[User]:
    """Accounts of one municipality, or every account (``municipality_id`` None)."""
    return list(repository.list_users(session, municipality_id=municipality_id))


def create_user(session: Session, *, user_in: UserCreate, actor: Principal | None) -> User:
    if user_in.municipality_id is None and user_in.role == Role.coordinator:
        raise InvalidInput(
            "A research account reads only: give it the role researcher or admin, not coordinator.",
            errors=[
                {"loc": ["body", "role"], "msg": "coordinator needs a municipality", "type": "value_error"}
            ],
        )
    if repository.user_by_email(session, user_in.email) is not None:
        raise Conflict(f"an account for {user_in.email} exists already")
    user = User(
        email=user_in.email,
        display_name=user_in.display_name,
        role=user_in.role.value,
        municipality_id=user_in.municipality_id,
    )
    repository.add(session, user)
    _record(session, user, "user.create", actor, role=user.role)
    return user


def invite_user(
    session: Session, settings: Settings, *, actor: Principal, user_in: UserCreate
) -> tuple[User, str]:
    """An admin invites a colleague into their own municipality (a research admin: a research
    account); returns the account and its one-time link (to mail with :func:`app.users.mail.send_link`)."""
    if Scope.admin.value not in actor.scopes:
        raise Forbidden("Only an admin invites colleagues.")
    if user_in.municipality_id != actor.municipality_id:
        raise Forbidden("An admin invites colleagues into their own municipality only.")
    user = create_user(session, user_in=user_in, actor=actor)
    token = issue_link(session, user=user, purpose=PURPOSE_INVITE, actor=actor)
    return user, link_url(settings, token)


def set_password(session: Session, *, user: User, password: str, actor: Principal | None) -> None:
    """Set a new password: every session of the account ends, every unused link stops working."""
    problem = crypto.password_problem(password, email=user.email)
    if problem is not None:
        raise PasswordRefused(problem)
    now = utcnow()
    user.password_hash = crypto.hash_password(password)
    user.password_changed_at = now
    session.add(user)
    assert user.id is not None
    repository.delete_sessions_of(session, user.id)
    repository.use_up_tokens(session, user.id, now)
    _record(session, user, "user.password.set", actor)


def disable_user(session: Session, *, user: User, actor: Principal | None) -> None:
    """The account can no longer sign in, and its live sessions end now."""
    assert user.id is not None
    if user.disabled_at is None:
        user.disabled_at = utcnow()
        session.add(user)
        _record(session, user, "user.disable", actor)
    repository.delete_sessions_of(session, user.id)
    repository.use_up_tokens(session, user.id, utcnow())


def change_role(session: Session, *, user: User, role: Role, actor: Principal | None) -> None:
    if user.municipality_id is None and role == Role.coordinator:
        raise InvalidInput("A research account cannot be a coordinator.")
    if user.role != role.value:
        previous, user.role = user.role, role.value
        session.add(user)
        _record(session, user, "user.role.change", actor, role=user.role, previous=previous)


def require_second_factor(
    session: Session, *, municipality: Municipality, required: bool, actor: Principal | None
) -> None:
    municipality.require_2fa = required
    session.add(municipality)
    audit.record(
        session,
        actor,
        "municipality.require_2fa",
        object_type="municipality",
        object_id=municipality.id,
        municipality_id=municipality.id,
        detail={"required": required},
    )


# -- one-time links ----------------------------------------------------------------------------------


def issue_link(session: Session, *, user: User, purpose: str, actor: Principal | None) -> str:
    """A new one-time link to set a password (earlier unused ones stop working); returns its token."""
    assert user.id is not None
    now = utcnow()
    repository.use_up_tokens(session, user.id, now)
    token = crypto.new_token()
    valid = INVITE_VALID if purpose == PURPOSE_INVITE else RESET_VALID
    repository.add(
        session,
        UserToken(
            user_id=user.id,
            purpose=purpose,
            token_hash=crypto.token_hash(token),
            created_at=now,
            expires_at=now + valid,
        ),
    )
    _record(session, user, "user.invite" if purpose == PURPOSE_INVITE else "user.reset.request", actor)
    return token


def link_url(settings: Settings, token: str) -> str:
    return f"{settings.base_url.rstrip('/')}/login/password/{token}"


def open_link(session: Session, token: str) -> tuple[UserToken, User]:
    found = repository.token_by_hash(session, crypto.token_hash(token)) if token else None
    if found is None:
        raise LinkUnusable("unknown")
    link, user = found
    if link.used_at is not None or user.disabled_at is not None:
        raise LinkUnusable("used")
    if link.expires_at <= utcnow():
        raise LinkUnusable("expired")
    return link, user


def use_link(session: Session, *, token: str, password: str, confirmation: str) -> User:
    """Set the password through a one-time link; the link is used up (so is every other)."""
    _, user = open_link(session, token)
    if password != confirmation:
        raise PasswordRefused("mismatch")
    set_password(session, user=user, password=password, actor=principal_for(user))
    return user


# -- throttling --------------------------------------------------------------------------------------


def _throttle_keys(settings: Settings, kind: str, email: str | None, address: str) -> list[tuple[str, int]]:
    keys = [(crypto.keyed_hash(settings.secret_key, f"{kind}-address", address), ADDRESS_FAILURES)]
    if email:
        keys.append((crypto.keyed_hash(settings.secret_key, f"{kind}-account", email), ACCOUNT_FAILURES))
    return keys


def check_throttle(
    session: Session, settings: Settings, *, kind: str, email: str | None, address: str
) -> None:
    """Raise :class:`Throttled` when the account or the address has failed too often lately."""
    now = utcnow()
    keys = _throttle_keys(settings, kind, email, address)
    rows = repository.failures(session, [key for key, _ in keys], window_start=now - THROTTLE_WINDOW)
    waits = [
        (rows[key].window_started_at + THROTTLE_WINDOW - now).total_seconds()
        for key, limit in keys
        if key in rows and rows[key].failures >= limit
    ]
    if waits:
        raise Throttled(max(1, math.ceil(max(waits))))


def note_failure(session: Session, settings: Settings, *, kind: str, email: str | None, address: str) -> None:
    now = utcnow()
    for key, _ in _throttle_keys(settings, kind, email, address):
        repository.add_failure(session, key, now=now, window=THROTTLE_WINDOW)


# -- signing in --------------------------------------------------------------------------------------


def authenticate(session: Session, settings: Settings, *, email: str, password: str, address: str) -> User:
    """The account whose e-mail and password these are; :class:`SignInFailed` otherwise, after the
    same work (an argon2 verification) whether or not the account exists."""
    email = email.strip().lower()[:320]
    check_throttle(session, settings, kind="login", email=email, address=address)
    user = repository.user_by_email(session, email)
    stored = user.password_hash if user is not None else None
    right = crypto.verify_password(stored, password[: crypto.PASSWORD_MAX_LENGTH])
    if user is None or not right or user.disabled_at is not None:
        note_failure(session, settings, kind="login", email=email, address=address)
        if user is not None:
            _record(session, user, "user.login_failed", None, step="password")
        raise SignInFailed
    assert stored is not None
    if crypto.needs_rehash(stored):
        user.password_hash = crypto.hash_password(password)
        session.add(user)
    repository.forget_failures(session, crypto.keyed_hash(settings.secret_key, "login-account", email))
    return user


def stage_after_password(user: User, municipality: Municipality | None) -> str:
    if user.totp_enabled_at is not None:
        return STAGE_TOTP
    if municipality is not None and municipality.require_2fa:
        return STAGE_ENROL
    return STAGE_FULL


def start_session(session: Session, settings: Settings, *, user: User, stage: str) -> str:
    """A new session (a new token: never one the browser brought along); returns the token."""
    assert user.id is not None
    now = utcnow()
    # Ended sessions are refused as they are met (that request fails, so nothing it wrote stays);
    # they are deleted here, at every sign-in.
    repository.delete_ended_sessions(
        session, now=now, idle_since=now - timedelta(minutes=settings.session_idle_minutes)
    )
    lifetime = timedelta(hours=settings.session_max_hours) if stage == STAGE_FULL else PARTIAL_SESSION
    token = crypto.new_token()
    repository.add(
        session,
        UserSession(
            user_id=user.id,
            token_hash=crypto.token_hash(token),
            stage=stage,
            created_at=now,
            last_seen_at=now,
            expires_at=now + lifetime,
        ),
    )
    return token


def complete_sign_in(session: Session, settings: Settings, *, user: User, second_factor: str) -> str:
    """The person is in: a fresh full session, recorded as ``user.login``; returns its token."""
    user.last_login_at = utcnow()
    session.add(user)
    _record(session, user, "user.login", principal_for(user), second_factor=second_factor)
    return start_session(session, settings, user=user, stage=STAGE_FULL)


def end_session(session: Session, user_session: UserSession) -> None:
    assert user_session.id is not None
    repository.delete_session(session, user_session.id)


def end_every_session(session: Session, *, user: User) -> None:
    assert user.id is not None
    repository.delete_sessions_of(session, user.id)
    _record(session, user, "user.logout.everywhere", principal_for(user))


# -- the second factor -------------------------------------------------------------------------------


def _secret(settings: Settings, user: User) -> str | None:
    return crypto.decrypt_secret(settings.secret_key, user.totp_secret) if user.totp_secret else None


def verify_second_factor(session: Session, settings: Settings, *, user: User, code: str, address: str) -> str:
    """Check a TOTP code or a recovery code (used up); returns ``totp`` or ``recovery``."""
    check_throttle(session, settings, kind="login", email=user.email, address=address)
    secret = _secret(settings, user)
    code = code.strip()[:64]
    step = crypto.totp_step(secret, code, last_step=user.totp_last_step) if secret else None
    if step is not None:
        user.totp_last_step = step
        session.add(user)
        return "totp"
    hashes = (user.recovery_codes or "").split()
    wanted = crypto.recovery_code_hash(code)
    if code and wanted in hashes:
        hashes.remove(wanted)
        user.recovery_codes = " ".join(hashes) or None
        session.add(user)
        _record(session, user, "user.recovery_code.use", principal_for(user), left=str(len(hashes)))
        return "recovery"
    note_failure(session, settings, kind="login", email=user.email, address=address)
    _record(session, user, "user.login_failed", None, step="totp")
    raise SignInFailed


@dataclass(frozen=True)
class Enrolment:
    secret: str
    uri: str


def begin_enrolment(session: Session, settings: Settings, *, user: User) -> Enrolment:
    """The secret to enrol (the same one until it is confirmed, so a reload shows the same code)."""
    secret = _secret(settings, user) if user.totp_enabled_at is None else None
    if secret is None:
        secret = crypto.new_totp_secret()
        user.totp_secret = crypto.encrypt_secret(settings.secret_key, secret)
        user.totp_enabled_at = None
        user.totp_last_step = None
        session.add(user)
    return Enrolment(secret, crypto.totp_uri(secret, user.email))


def confirm_enrolment(
    session: Session, settings: Settings, *, user: User, code: str, address: str
) -> list[str]:
    """Switch the second factor on with a first right code; returns the ten recovery codes (shown once)."""
    check_throttle(session, settings, kind="login", email=user.email, address=address)
    secret = _secret(settings, user)
    step = crypto.totp_step(secret, code, last_step=None) if secret and user.totp_enabled_at is None else None
    if step is None:
        note_failure(session, settings, kind="login", email=user.email, address=address)
        raise SignInFailed
    codes = crypto.new_recovery_codes()
    user.totp_enabled_at = utcnow()
    user.totp_last_step = step
    user.recovery_codes = " ".join(crypto.recovery_code_hash(code) for code in codes)
    session.add(user)
    _record(session, user, "user.totp.enrol", principal_for(user))
    return codes


def reset_second_factor(session: Session, *, user: User, actor: Principal | None) -> None:
    """Remove the second factor (a lost phone); the person enrols again at the next sign-in."""
    assert user.id is not None
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    user.recovery_codes = None
    session.add(user)
    repository.delete_sessions_of(session, user.id)
    _record(session, user, "user.totp.reset", actor)


# -- "wachtwoord vergeten" ---------------------------------------------------------------------------


def request_reset(
    session: Session, settings: Settings, *, email: str, address: str
) -> tuple[User, str] | None:
    """A reset link for an active account with this address, or None; the caller says the same
    either way. Requests count against the address and the account like failed sign-ins."""
    email = email.strip().lower()[:320]
    check_throttle(session, settings, kind="reset", email=email, address=address)
    note_failure(session, settings, kind="reset", email=email, address=address)
    user = repository.user_by_email(session, email)
    if user is None or user.disabled_at is not None:
        return None
    return user, issue_link(session, user=user, purpose=PURPOSE_RESET, actor=None)


def valid_until(user_session: UserSession, settings: Settings, now: datetime) -> bool:
    idle = timedelta(minutes=settings.session_idle_minutes)
    return now < user_session.expires_at and now - user_session.last_seen_at < idle


# -- an admin's colleagues ---------------------------------------------------------------------------


def _require_admin(actor: Principal) -> None:
    if Scope.admin.value not in actor.scopes:
        raise Forbidden("Only an admin manages colleagues.")


def list_colleagues(session: Session, *, actor: Principal) -> list[User]:
    """The accounts of the admin's municipality (a research admin: the research accounts)."""
    _require_admin(actor)
    return list(
        repository.list_users(session, municipality_id=actor.municipality_id, research_only=actor.is_research)
    )


def colleague(session: Session, *, actor: Principal, user_id: int) -> User:
    """One account of the admin's own municipality; another municipality's is not found (404)."""
    _require_admin(actor)
    user = repository.user_by_id(session, user_id)
    if user is None or user.municipality_id != actor.municipality_id:
        raise NotFound(f"No account {user_id} here.")
    return user


def own_municipality(session: Session, *, actor: Principal) -> Municipality | None:
    """The admin's municipality (None for a research admin), to switch the second factor on or off."""
    _require_admin(actor)
    if actor.municipality_id is None:
        return None
    return municipality_service.by_id(session, actor.municipality_id)
