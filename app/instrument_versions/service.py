"""Which instrument versions the service publishes, and the record of versions data were collected with.

A wave pins the instrument version it was created with; the ``instrument_version`` table keeps that
version's content hash so that a later change to its definition file is caught (a published version
never changes).
"""

from __future__ import annotations

import functools

from sqlmodel import Session

from app.instrument_versions import repository
from app.models import InstrumentVersion
from instrument.errors import InstrumentError
from instrument.loader import current_instrument, load_definitions, verify_recorded_hashes
from instrument.schema import Instrument


class InstrumentChanged(RuntimeError):
    """The definition of a recorded version no longer has the content hash it was recorded with."""


def published_instrument() -> Instrument:
    """The version new waves use: the latest published definition."""
    return current_instrument()


@functools.cache
def _definitions() -> dict[str, Instrument]:
    return load_definitions()


def instrument_for_version(version: str) -> Instrument:
    """The published definition of ``version``; KeyError when no such version is published."""
    current = current_instrument()
    if current.version == version:
        return current
    return _definitions()[version]


def ensure_instrument_version_recorded(session: Session, instrument: Instrument) -> InstrumentVersion:
    """Record ``instrument``'s version and content hash unless already recorded; return the row.

    Raises InstrumentChanged when the version is recorded with another content hash.
    """
    recorded = repository.get(session, instrument.version)
    if recorded is None:
        recorded = repository.record(
            session, version=instrument.version, content_hash=instrument.content_hash
        )
    if recorded.content_hash != instrument.content_hash:
        raise InstrumentChanged(
            f"instrument version {instrument.version} was recorded with content hash "
            f"{recorded.content_hash[:12]}..., but its definition now hashes to "
            f"{instrument.content_hash[:12]}...; a published version never changes"
        )
    return recorded


def check_recorded_versions(session: Session) -> None:
    """Refuse to go on when the definition of a version that responses were given to has changed.

    Raises :class:`InstrumentChanged` naming each missing or changed version.
    """
    try:
        verify_recorded_hashes(repository.recorded_hashes(session), _definitions())
    except InstrumentError as exc:
        raise InstrumentChanged(str(exc)) from None
