"""Request and response bodies of the submission API."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt

Answer = Annotated[StrictInt, Field(ge=1, le=9)] | None


class ResponseCreate(BaseModel):
    """A completed questionnaire from a partner system. ``null`` answers mean "weet ik niet"."""

    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=1, max_length=64, description="The invitation token of the link")
    answers: dict[Annotated[str, Field(max_length=64)], Answer] = Field(max_length=200)
    language: Literal["nl", "en"] = "nl"


class ResponseReceipt(BaseModel):
    """``stored`` is false when this was a retry of a response stored before (nothing new was stored)."""

    stored: bool
    form: str
    wave_id: int
