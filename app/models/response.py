"""The response (antwoordset) and the storage of its answers.

Answer storage
--------------
A response keeps its answers in one short fixed-position string, ``answers``: character *i* is the
answer to item *i* of its :class:`AnswerLayout` (``"1"``-``"9"``; ``"?"`` for "weet ik niet",
``"."`` for an unanswered item; before revision 0006 ``"."`` stood for both). A layout lists the
item ids, in order, of one instrument version, form and set of
switched-on modules, so a response is decodable without the instrument files.

Why not one row per answer (a long ``answer`` table)? A report reads *every* answer of a wave. With
12-21 items per response, 1,000,000 responses are 12-21 million long rows: an index per row, a join
back to the response, and a pivot in Python. In this layout they are 1,000,000 rows of about 20
bytes that one indexed scan on ``(wave_id, form)`` returns; the report decodes them into a numeric
matrix in a single numpy call (``np.frombuffer`` on the joined strings), so reading a wave costs
about what the database needs to stream the rows. Writes stay one INSERT per response, which keeps
the phone form's submission cheap. The layout also makes a published wording's answers immutable:
a new instrument version gets new layouts, never a reinterpretation of old strings.

Nothing here identifies a respondent: no name, contact data, IP address, user agent, cookie or
invitation. ``submitted_at`` is rounded down to the hour. ``submission_key`` is a SHA-256 hash of
the one-time submission id of the form (or of the API's ``Idempotency-Key``), kept only so that a
retried submission is stored once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, utcnow

MISSING_ANSWER = "."
"""An item the respondent skipped (and, in rows stored before revision 0006, "weet ik niet" too)."""
DONT_KNOW_ANSWER = "?"
""""Weet ik niet": chosen, so not the same as skipped; the psychometrics treat both as missing."""


class InstrumentVersion(SQLModel, table=True):
    """A published instrument version that responses were given to, with its content hash.

    The service refuses to start when the definition file of a recorded version has changed.
    """

    __tablename__ = "instrument_version"

    version: str = Field(primary_key=True, max_length=32)
    content_hash: str = Field(max_length=64)
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AnswerLayout(SQLModel, table=True):
    """The item order of the ``answers`` strings for one version, form and set of modules."""

    __tablename__ = "answer_layout"
    __table_args__ = (UniqueConstraint("instrument_version", "form", "modules"),)

    id: int | None = Field(default=None, primary_key=True)
    instrument_version: str = Field(foreign_key="instrument_version.version", max_length=32)
    form: str = Field(max_length=32)
    modules: str = Field(default="", max_length=200)
    item_ids: str = Field(sa_type=Text)

    @property
    def items(self) -> tuple[str, ...]:
        return tuple(self.item_ids.split(","))


class Response(SQLModel, table=True):
    """One submitted form, linked to the professional it is about and never to who gave it.

    ``professional_id`` is null for a form that is not about a named professional (the
    ``professional`` form, where professionals rate their own organisation and network): there
    the professional of the invitation is the respondent, and a link would identify them.

    ``team_id`` is the professional's team at the time of the response, so a later move to
    another team does not rewrite earlier team reports. ``cut_id`` is the publication cut that
    published it (:class:`app.models.PublicationCut`); outputs read only published responses.
    """

    __tablename__ = "response"
    __table_args__ = (
        Index("ix_response_wave_id_form", "wave_id", "form"),
        # The pending responses of a wave (no cut yet): few, and read on every report.
        Index(
            "ix_response_pending",
            "wave_id",
            postgresql_where=text("cut_id IS NULL"),
            sqlite_where=text("cut_id IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    municipality_id: int = Field(foreign_key="municipality.id", index=True, ondelete="CASCADE")
    wave_id: int = Field(foreign_key="wave.id", ondelete="CASCADE")
    professional_id: int | None = Field(
        default=None, foreign_key="professional.id", index=True, ondelete="CASCADE"
    )
    team_id: int | None = Field(default=None, foreign_key="team.id", ondelete="SET NULL")
    form: str = Field(max_length=32)
    layout_id: int = Field(foreign_key="answer_layout.id")
    language: str = Field(max_length=8)
    answers: str = Field(max_length=255)
    submitted_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    submission_key: str = Field(max_length=64, unique=True)
    cut_id: int | None = Field(default=None, foreign_key="publication_cut.id", ondelete="SET NULL")
    """The publication cut that published this response; None while it is pending."""
