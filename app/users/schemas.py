"""Roles and the shapes of accounts: what a new account needs, and what a list shows."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints

from app.auth import Scope

# Deliberately loose: the one-time link proves the address; this only stops obvious typing errors.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_EMAIL_LENGTH = 254


class Role(StrEnum):
    coordinator = "coordinator"
    researcher = "researcher"
    admin = "admin"


# One rule set for keys and people: a role is a fixed set of the API's scopes.
ROLE_SCOPES: dict[Role, frozenset[str]] = {
    Role.coordinator: frozenset({Scope.manage.value, Scope.reports_aggregate.value}),
    Role.researcher: frozenset(
        {Scope.reports_aggregate.value, Scope.reports_professional.value, Scope.responses_read.value}
    ),
    Role.admin: frozenset(
        {
            Scope.manage.value,
            Scope.reports_aggregate.value,
            Scope.reports_professional.value,
            Scope.responses_read.value,
            Scope.admin.value,
        }
    ),
}
# A research account reads every municipality and writes nothing, exactly like a research key.
RESEARCH_WITHOUT = frozenset({Scope.manage.value, Scope.responses_write.value})


def role_scopes(role: str, *, research: bool) -> frozenset[str]:
    scopes = ROLE_SCOPES[Role(role)]
    return scopes - RESEARCH_WITHOUT if research else scopes


def normalise_email(value: str) -> str:
    """E-mail addresses compare case-insensitively: stored and looked up lower-cased."""
    email = value.strip().lower()
    if len(email) > MAX_EMAIL_LENGTH or not _EMAIL.match(email):
        raise ValueError("not an e-mail address")
    return email


Email = Annotated[str, AfterValidator(normalise_email)]
DisplayName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class UserCreate(BaseModel):
    """A new account: of ``municipality_id``, or a research account (``municipality_id`` None)."""

    model_config = ConfigDict(extra="forbid")

    email: Email
    display_name: DisplayName
    role: Role
    municipality_id: int | None


class UserPublic(BaseModel):
    """An account as a list shows it: never a hash, a secret or a code."""

    id: int
    email: str
    display_name: str
    role: str
    municipality_id: int | None
    second_factor: bool
    created_at: datetime
    last_login_at: datetime | None
    disabled_at: datetime | None
