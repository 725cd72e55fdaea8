"""Retention deletes old responses; erasing a municipality takes everything it owns."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, func, select

from app.collection.service import check_answers, open_questionnaire, store_response, submission_key
from app.db import utcnow
from app.models import ApiKey, AuditEvent, Invitation, Professional, Response, Team, Wave
from app.municipality.service import delete_municipality
from app.publication.retention import apply_retention
from tests.factories.collection import make_invitation, make_wave
from tests.factories.organisation import make_key, make_municipality, make_professional, make_team


def count(session: Session, model) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def store(session: Session, token: str, number: int, days_ago: int) -> None:
    questionnaire = open_questionnaire(session, token)
    answers = check_answers(questionnaire, dict.fromkeys(questionnaire.item_ids, 3))
    store_response(
        session,
        questionnaire,
        answers,
        language="nl",
        key=submission_key("test", str(number)),
        now=utcnow() - timedelta(days=days_ago),
    )


def test_retention_deletes_only_what_is_older_than_the_limit(session):
    municipality = make_municipality(session)
    wave = make_wave(session, municipality, opens_at=utcnow() - timedelta(days=400))
    token = make_invitation(session, wave, make_professional(session, make_team(session, municipality))).token
    for number, days_ago in enumerate([1, 10, 89, 91, 200, 365]):
        store(session, token, number, days_ago)
    assert apply_retention(session, retention_days=90) == 3
    assert count(session, Response) == 3
    assert apply_retention(session, retention_days=90) == 0
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "retention.apply")).all()
    assert len(events) == 2 and '"deleted":3' in events[0].detail


def test_erasing_a_municipality_removes_everything_it_owns(session):
    leaving, staying = make_municipality(session), make_municipality(session)
    for municipality in (leaving, staying):
        make_key(session, municipality, "manage")
        wave = make_wave(session, municipality)
        professional = make_professional(session, make_team(session, municipality))
        store(session, make_invitation(session, wave, professional).token, municipality.id, 0)
    assert delete_municipality(session, leaving) == 1
    for model in (Response, Invitation, Wave, Professional, Team, ApiKey):
        rows = session.exec(select(model)).all()
        assert len(rows) == 1 and rows[0].municipality_id == staying.id, model.__name__


def test_published_responses_are_deleted_by_whole_batches(session):
    from app.publication.service import publish_due

    municipality = make_municipality(session)
    wave = make_wave(session, municipality, opens_at=utcnow() - timedelta(days=400))
    token = make_invitation(session, wave, make_professional(session, make_team(session, municipality))).token
    for number, days_ago in enumerate([300, 250, 200, 150, 120]):  # one batch, all older than 90 days
        store(session, token, number, days_ago)
    assert publish_due(session, wave, min_group_size=5) is not None
    for number, days_ago in enumerate([100, 60, 30, 20, 10], start=5):  # a batch with one old response
        store(session, token, number, days_ago)
    assert publish_due(session, wave, min_group_size=5) is not None
    store(session, token, 10, 95)  # pending: published nowhere, so it goes at the limit itself
    # The first batch goes whole; the second stays whole until its newest response is old enough,
    # so the reports never lose one response (about one person) between two reads.
    assert apply_retention(session, retention_days=90) == 6
    assert count(session, Response) == 5
    assert apply_retention(session, retention_days=5) == 5
