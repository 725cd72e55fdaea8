"""The Alembic migrations are the only way the schema is built, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

import app.models  # noqa: F401 - the metadata must hold every table
from app.db import metadata
from app.migrate import current_revision, downgrade, head_revision, upgrade
from tests.conftest import BACKENDS, Database

CORE_TABLES = {
    "municipality",
    "partner",
    "team",
    "professional",
    "wave",
    "invitation",
    "response",
    "answer_layout",
    "instrument_version",
    "api_key",
}


@pytest.mark.parametrize("fresh_database", BACKENDS, indirect=True)
def test_upgrade_downgrade_upgrade(fresh_database: Database):
    upgrade(fresh_database.url)
    assert current_revision(fresh_database.engine) == head_revision()
    assert set(inspect(fresh_database.engine).get_table_names()) >= CORE_TABLES

    downgrade(fresh_database.url, "base")
    assert current_revision(fresh_database.engine) is None
    assert set(inspect(fresh_database.engine).get_table_names()) <= {"alembic_version"}

    upgrade(fresh_database.url)
    assert current_revision(fresh_database.engine) == head_revision()


def test_models_and_migrations_agree(database: Database):
    """`alembic check`: autogenerate finds nothing to add, drop or alter."""
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    assert differences == []


def test_revision_files_are_date_prefixed():
    from app.migrate import MIGRATIONS_DIR

    names = [path.name for path in (MIGRATIONS_DIR / "versions").glob("*.py")]
    assert names
    for name in names:
        year, month, day = name.split("_")[:3]
        assert len(year) == 4 and year.isdigit() and month.isdigit() and day.isdigit(), name
