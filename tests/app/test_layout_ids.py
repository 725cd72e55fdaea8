"""Answer layout ids are remembered per process only once the transaction that made them committed."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from app.collection import repository
from app.instrument_versions.service import ensure_instrument_version_recorded, published_instrument
from app.migrate import upgrade
from app.models import AnswerLayout
from tests.conftest import BACKENDS, Database


def layout_key(session: Session, modules: str) -> tuple[str, str, str, str]:
    version = published_instrument().version
    return (str(session.get_bind().engine.url), version, "jongere", modules)


def layout_id(session: Session, modules: str) -> int:
    return repository.answer_layout_id(
        session, version=published_instrument().version, form="jongere", modules=modules, item_ids="a,b"
    )


@pytest.mark.parametrize("fresh_database", BACKENDS, indirect=True)
def test_a_layout_is_remembered_after_commit_and_never_after_rollback(fresh_database: Database):
    upgrade(fresh_database.url)
    with Session(fresh_database.engine) as session:
        ensure_instrument_version_recorded(session, published_instrument())
        session.commit()
        layout_id(session, "rolled-back")
        session.rollback()
        assert layout_key(session, "rolled-back") not in repository._layout_ids.known
        assert session.exec(select(AnswerLayout)).all() == []

        created = layout_id(session, "committed")
        assert layout_key(session, "committed") not in repository._layout_ids.known  # not yet
        session.commit()
        assert repository._layout_ids.known[layout_key(session, "committed")] == created
        assert layout_id(session, "committed") == created  # from memory now


def test_a_savepoint_release_is_not_a_commit(session: Session):
    # The tests' session commits savepoints of a transaction that is rolled back at the end.
    ensure_instrument_version_recorded(session, published_instrument())
    layout_id(session, "savepoint-only")
    session.commit()
    assert layout_key(session, "savepoint-only") not in repository._layout_ids.known
