"""Request and response shapes of the management API: XCreate / XUpdate in, XPublic out.

Inputs forbid unknown fields, so a misspelt field is a 422 rather than silently ignored. Every text
has a maximum length and holds no control, zero-width or bidi characters; a timestamp carries a
timezone, or is a date alone (that day in Europe/Amsterdam; see :mod:`app.validation`).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from app.api_common import MAX_ROW_ID
from app.models import InvitationKind, PartnerKind
from app.validation import EndMoment, PlainText, StartMoment

RowId = Annotated[int, Field(ge=1, le=MAX_ROW_ID)]

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), PlainText]
ShortName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), PlainText]
ProfessionalCode = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")
]
ModuleId = Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_]*$")]


# Stored and answered in UTC, so a created object reads back exactly as it was returned.
UtcDatetime = StartMoment
UtcEndDatetime = EndMoment
FormId = Literal["jongere", "ouder", "professional"]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# -- partners -------------------------------------------------------------------------------------------


class PartnerCreate(_Input):
    name: Name
    kind: PartnerKind = PartnerKind.other


class PartnerUpdate(_Input):
    name: Name | None = None
    kind: PartnerKind | None = None


class PartnerPublic(_Output):
    id: int
    municipality_id: int
    name: str
    kind: str
    created_at: datetime


# -- teams ----------------------------------------------------------------------------------------------


class TeamCreate(_Input):
    name: Name


class TeamUpdate(_Input):
    name: Name | None = None


class TeamPublic(_Output):
    id: int
    municipality_id: int
    name: str
    created_at: datetime


# -- professionals --------------------------------------------------------------------------------------


class ProfessionalCreate(_Input):
    display_name: ShortName = Field(description="What respondents see on the form, e.g. 'Sam'.")
    role: ShortName = Field(description="e.g. 'jongerenwerker', shown beside the name.")
    team_id: RowId
    partner_id: RowId | None = None
    code: ProfessionalCode | None = Field(
        default=None, description="Pseudonym used in exports; generated when absent. Unique per municipality."
    )


class ProfessionalUpdate(_Input):
    display_name: ShortName | None = None
    role: ShortName | None = None
    team_id: RowId | None = None
    partner_id: RowId | None = None
    code: ProfessionalCode | None = None


class ProfessionalPublic(_Output):
    id: int
    municipality_id: int
    code: str
    display_name: str
    role: str
    team_id: int
    partner_id: int | None
    created_at: datetime


# -- waves ----------------------------------------------------------------------------------------------


def _closes_after_opens(opens_at: datetime | None, closes_at: datetime | None) -> None:
    if opens_at is not None and closes_at is not None and closes_at <= opens_at:
        raise ValueError("closes_at must be after opens_at")


class WaveCreate(_Input):
    name: Name
    opens_at: UtcDatetime
    closes_at: UtcEndDatetime | None = None
    modules: list[ModuleId] = Field(default_factory=list, max_length=20)
    professional_feedback: bool = Field(
        default=True,
        description="Publish numbers per professional (scores level=professional, feedback pages). "
        "Off: a team is the smallest published cell, so teams publish sooner; cannot be switched "
        "back on once the wave has published numbers.",
    )

    @model_validator(mode="after")
    def _period(self) -> WaveCreate:
        _closes_after_opens(self.opens_at, self.closes_at)
        return self


class WaveUpdate(_Input):
    name: Name | None = None
    opens_at: UtcDatetime | None = None
    closes_at: UtcEndDatetime | None = None
    modules: list[ModuleId] | None = Field(default=None, max_length=20)
    professional_feedback: bool | None = None

    @model_validator(mode="after")
    def _period(self) -> WaveUpdate:
        _closes_after_opens(self.opens_at, self.closes_at)
        return self


class WavePublic(_Output):
    id: int
    municipality_id: int
    name: str
    instrument_version: str
    opens_at: datetime
    closes_at: datetime | None
    modules: list[str]
    professional_feedback: bool
    """Whether the wave publishes numbers per professional; off: a team is the smallest cell."""
    created_at: datetime


class WaveListed(WavePublic):
    """A wave in ``GET /api/v1/waves``: with the forms that have published responses to report on."""

    published_forms: list[str]


# -- invitations ----------------------------------------------------------------------------------------


class InvitationStatus(StrEnum):
    active = "active"
    expired = "expired"
    revoked = "revoked"
    used = "used"


class InvitationCreate(_Input):
    wave_id: RowId
    form: FormId
    professional_id: RowId
    kind: InvitationKind = InvitationKind.open
    expires_at: UtcEndDatetime | None = None


class InvitationUpdate(_Input):
    expires_at: UtcEndDatetime | None = None
    revoked: bool | None = Field(default=None, description="true revokes; a revocation is final.")


class InvitationPublic(_Output):
    id: int
    municipality_id: int
    wave_id: int
    professional_id: int
    form: str
    kind: str
    token: str
    url: str
    status: InvitationStatus
    expires_at: datetime | None
    revoked_at: datetime | None
    used_at: datetime | None
    created_at: datetime


# -- feedback links -------------------------------------------------------------------------------------


class SheetAudience(StrEnum):
    """Who a printed sheet of QR codes is for."""

    respondents = "respondents"  # young people and parents: the forms about the professional
    professional = "professional"  # the professional alone: their own self-report form
