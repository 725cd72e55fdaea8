"""Secrets of the sign-in: argon2id passwords, the password rules, TOTP, recovery codes and tokens.

- **Passwords** are hashed with argon2id (``argon2-cffi``'s defaults, RFC 9106's low-memory
  profile); a hash made with other parameters is replaced at the next sign-in. An unknown account
  is checked against a dummy hash, so it costs the same time as a wrong password.
- **Password rules**: at least 12 characters, at most 1024, and not one of the passwords people pick
  most (zxcvbn's list of 30,000 and its estimate: fewer than a million guesses is refused). No network.
- **TOTP** (RFC 6238 defaults: SHA-1, 6 digits, 30 s), one step of clock drift either way; a code
  is accepted once (the step is remembered). The shared secret is kept encrypted (Fernet, with a
  key derived from ``VERBONDEN_SECRET_KEY``): unlike a password it cannot be hashed.
- **Tokens** (sessions, one-time links) are 256 random bits; only their SHA-256 is stored. CSRF
  tokens and throttle keys are HMACs with the secret key, so they need no storage of their own.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from cryptography.fernet import Fernet, InvalidToken
from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

PASSWORD_MIN_LENGTH = 12
PASSWORD_MAX_LENGTH = 1024
# zxcvbn's estimate is cheap for ordinary passwords but grows with length; the start decides.
_STRENGTH_PREFIX = 100
_MIN_GUESSES_LOG10 = 6
TOKEN_BYTES = 32
TOTP_ISSUER = "verbonden"
TOTP_DRIFT_STEPS = 1
RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: codes are typed from paper

_hasher = PasswordHasher()
_dummy_hash: str | None = None
_common = frozenset(FREQUENCY_LISTS["passwords"])


def password_hasher() -> PasswordHasher:
    return _hasher


def use_password_hasher(hasher: PasswordHasher) -> None:
    """Swap the parameters (tests use cheap ones; a deployment changing them rehashes on sign-in)."""
    global _hasher, _dummy_hash
    _hasher = hasher
    _dummy_hash = None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; without a stored hash, the same work is done and False returned."""
    global _dummy_hash
    if stored_hash is None:
        if _dummy_hash is None:
            _dummy_hash = _hasher.hash(secrets.token_urlsafe(16))
        stored_hash = _dummy_hash
        password = password + "\x00never"
    try:
        return _hasher.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)


def password_problem(password: str, *, email: str = "") -> str | None:
    """What is wrong with a new password (``too_short``, ``too_long``, ``too_common``), or None."""
    if len(password) < PASSWORD_MIN_LENGTH:
        return "too_short"
    if len(password) > PASSWORD_MAX_LENGTH:
        return "too_long"
    folded = password.lower()
    if folded in _common or (email and folded == email.lower()):
        return "too_common"
    estimate = zxcvbn(password[:_STRENGTH_PREFIX], user_inputs=[email, email.split("@")[0]] if email else [])
    if float(estimate["guesses_log10"]) < _MIN_GUESSES_LOG10:
        return "too_common"
    return None


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def keyed_hash(secret_key: str, kind: str, value: str) -> str:
    """An HMAC of ``value``: stable across processes, but not reversible without the secret key."""
    message = f"{kind}\x00{value}".encode("utf-8", "surrogateescape")
    return hmac.new(secret_key.encode("utf-8"), message, hashlib.sha256).hexdigest()


def same(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(
        given.encode("utf-8", "surrogateescape"), expected.encode()
    )


def _fernet(secret_key: str) -> Fernet:
    digest = hashlib.sha256(f"verbonden totp secret\x00{secret_key}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt_secret(secret_key: str, plain: str) -> str:
    return _fernet(secret_key).encrypt(plain.encode("ascii")).decode("ascii")


def decrypt_secret(secret_key: str, stored: str) -> str | None:
    """The TOTP secret, or None when it was encrypted under another secret key."""
    try:
        return _fernet(secret_key).decrypt(stored.encode("ascii")).decode("ascii")
    except InvalidToken:
        return None


def new_totp_secret() -> str:
    return pyotp.random_base32()  # 32 base32 characters: 160 bits, as RFC 4226 recommends


def totp_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=TOTP_ISSUER)


def totp_step(secret: str, code: str, *, last_step: int | None, now: float | None = None) -> int | None:
    """The time step ``code`` belongs to (within the drift), if it is right and not used before."""
    code = "".join(code.split())
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(time.time() if now is None else now)
    for step in range(current - TOTP_DRIFT_STEPS, current + TOTP_DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code) and (last_step is None or step > last_step):
            return step
    return None


def new_recovery_codes() -> list[str]:
    """Ten codes like ``k7fq-x2mp``: 40 bits each, typed from paper when the phone is gone."""
    return [
        "-".join("".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(4)) for _ in range(2))
        for _ in range(RECOVERY_CODE_COUNT)
    ]


def recovery_code_hash(code: str) -> str:
    return token_hash("recovery\x00" + "".join(code.lower().split()).replace("-", ""))
