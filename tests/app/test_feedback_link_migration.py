"""Migration 0008: a feedback link made before it gets its creating key from the audit trail."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from app.migrate import downgrade, upgrade
from tests.conftest import BACKENDS, Database

NOW = "2026-11-30 12:00:00+00:00"


@pytest.mark.parametrize("fresh_database", BACKENDS, indirect=True)
def test_existing_links_get_their_creator_from_the_trail(fresh_database: Database):
    upgrade(fresh_database.url, "0003")
    with fresh_database.engine.begin() as connection:
        connection.execute(
            text("INSERT INTO municipality (id, slug, name, created_at) VALUES (1, 'a', 'A', :now)"),
            {"now": NOW},
        )
        connection.execute(
            text("INSERT INTO team (id, municipality_id, name, created_at) VALUES (1, 1, 'Noord', :now)"),
            {"now": NOW},
        )
        connection.execute(
            text(
                "INSERT INTO professional"
                " (id, municipality_id, team_id, code, display_name, role, created_at)"
                " VALUES (1, 1, 1, 'PCODE', 'Sam', 'agent', :now)"
            ),
            {"now": NOW},
        )
        for link_id in (1, 2):
            connection.execute(
                text(
                    "INSERT INTO feedback_link (id, municipality_id, professional_id, token, created_at)"
                    " VALUES (:id, 1, 1, :token, :now)"
                ),
                {"id": link_id, "token": f"token-{link_id}", "now": NOW},
            )
        # Link 1 was made through the API by key 42; link 2 from the command line (no event, no key).
        connection.execute(
            text(
                "INSERT INTO audit_event (occurred_at, api_key_id, municipality_id, action, object_type,"
                " object_id) VALUES (:now, 42, 1, 'feedback_link.create', 'feedback_link', 1)"
            ),
            {"now": NOW},
        )
    upgrade(fresh_database.url, "0008")
    with fresh_database.engine.connect() as connection:
        creators = connection.execute(
            text("SELECT id, created_by_api_key_id FROM feedback_link ORDER BY id")
        ).all()
    assert [tuple(row) for row in creators] == [(1, 42), (2, None)]
    downgrade(fresh_database.url, "0003")
