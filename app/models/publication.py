"""The publication cut: a set of responses that the wave's outputs are computed from.

Statistics are published in batches, never live. A cut publishes the pending responses of one or
more *leaves* (the finest cell any output shows: a professional on one form, or a team) once a
leaf holds a batch that is about at least ``min_group_size`` respondents in every count an output
can show (see :mod:`app.reports.disclosure`). A response records the cut that published it
(``response.cut_id``); every output reads the responses with a cut, so each published cell is a
union of whole batches and every change between two reads is about at least that many people.

A cut keeps only when it was made and how many responses it published: nothing that orders the
respondents of a batch in time.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, utcnow


class PublicationCut(SQLModel, table=True):
    __tablename__ = "publication_cut"

    id: int | None = Field(default=None, primary_key=True)
    wave_id: int = Field(foreign_key="wave.id", index=True, ondelete="CASCADE")
    made_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    n_responses: int = Field(ge=0)
