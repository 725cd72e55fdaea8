"""The respondent form and the submission API, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import inspect
from sqlmodel import Session, func, select

from app.db import utcnow
from app.models import Response
from tests.factories.collection import make_invitation, make_wave
from tests.factories.organisation import make_key, make_municipality, make_professional, make_team


@pytest.fixture
def setting(session: Session):
    municipality = make_municipality(session, "Bars-A")
    team = make_team(session, municipality)
    professional = make_professional(session, team, display_name="Sam", role="jongerenwerker")
    wave = make_wave(session, municipality)
    invitation = make_invitation(session, wave, professional)
    return municipality, team, professional, wave, invitation


def stored(session: Session) -> int:
    return session.exec(select(func.count()).select_from(Response)).one()


def form_fields(html: str) -> dict[str, str]:
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html))
    return hidden


def item_ids(html: str) -> list[str]:
    return list(dict.fromkeys(re.findall(r'<input type="radio" name="([^"]+)"', html)))


def test_form_shows_who_it_is_about_and_every_question(client, setting):
    *_, invitation = setting
    response = client.get(f"/s/{invitation.token}")
    assert response.status_code == 200
    html = response.text
    assert '<html lang="nl">' in html
    assert "Over Sam, jongerenwerker" in html
    assert "Je vult dit anoniem in" in html
    ids = item_ids(html)
    assert len(ids) >= 12
    assert html.count("<fieldset") == len(ids)
    assert html.count("Weet ik niet") >= len(ids)
    assert f"Vraag 1 van {len(ids)}" in html
    assert "<script" not in html


def test_form_size_budget_and_no_third_party_requests(client, setting):
    *_, invitation = setting
    html = client.get(f"/s/{invitation.token}").text
    css = client.get("/static/respondent.css")
    assert css.status_code == 200
    assert len(html.encode()) + len(css.content) < 30 * 1024
    for url in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert not url.startswith(("http:", "https:", "//")), url


def test_english_switch(client, setting):
    *_, invitation = setting
    html = client.get(f"/s/{invitation.token}?lang=en").text
    assert '<html lang="en">' in html
    assert "About Sam, youth worker" in html
    assert "I don&#39;t know" in html or "I don't know" in html


def submit_all(client, token: str, value: str = "4", **extra: str):
    html = client.get(f"/s/{token}").text
    data = {**form_fields(html), **{item: value for item in item_ids(html)}, **extra}
    return client.post(f"/s/{token}", data=data, follow_redirects=False), data


def test_submission_stores_one_response_and_thanks(client, session, setting):
    _, team, professional, wave, invitation = setting
    response, _ = submit_all(client, invitation.token)
    assert response.status_code == 303
    thanks = client.get(response.headers["location"])
    assert thanks.status_code == 200 and "Dank je wel" in thanks.text
    rows = session.exec(select(Response)).all()
    assert len(rows) == 1
    row = rows[0]
    assert row.professional_id == professional.id and row.team_id == team.id and row.wave_id == wave.id
    assert set(row.answers) == {"4"}
    assert row.submitted_at.minute == 0 and row.submitted_at.second == 0


def test_double_tap_stores_once(client, session, setting):
    *_, invitation = setting
    first, data = submit_all(client, invitation.token)
    second = client.post(f"/s/{invitation.token}", data=data, follow_redirects=False)
    assert first.status_code == second.status_code == 303
    assert stored(session) == 1


def test_dont_know_is_stored_apart_from_a_skipped_question(client, session, setting):
    *_, invitation = setting
    submit_all(client, invitation.token, value="x")
    assert set(session.exec(select(Response)).one().answers) == {"?"}


def test_refused_answer_keeps_the_others_and_names_the_question(client, session, setting):
    *_, invitation = setting
    html = client.get(f"/s/{invitation.token}").text
    ids = item_ids(html)
    data = {**form_fields(html), **{item: "2" for item in ids}, ids[3]: "7"}
    response = client.post(f"/s/{invitation.token}", data=data)
    assert response.status_code == 422
    page = response.text
    assert 'class="q has-error" id="q-' + ids[3] in page
    assert "Dit antwoord kennen we niet" in page
    checked = re.findall(r'name="([^"]+)" value="2" checked', page)
    assert set(checked) == set(ids) - {ids[3]}
    assert stored(session) == 0


def test_unknown_question_is_refused(client, session, setting):
    *_, invitation = setting
    response, _ = submit_all(client, invitation.token, not_an_item="3")
    assert response.status_code == 422
    assert stored(session) == 0


def test_empty_form_is_refused_in_plain_dutch(client, session, setting):
    *_, invitation = setting
    html = client.get(f"/s/{invitation.token}").text
    response = client.post(f"/s/{invitation.token}", data=form_fields(html))
    assert response.status_code == 422
    assert "Je hebt nog geen vraag beantwoord" in response.text
    assert stored(session) == 0


DEAD_LINKS = [
    ("revoked", 410, "Deze link is gestopt"),
    ("expired", 410, "Deze link is verlopen"),
    ("closed", 410, "De vragenlijst is gesloten"),
    ("not_open", 404, "Nog niet begonnen"),
]


def make_dead(session: Session, change: str, invitation, wave) -> None:
    """Make the link unusable in the way ``change`` names (see DEAD_LINKS)."""
    now = utcnow()
    if change == "revoked":
        invitation.revoked_at = now
    elif change == "expired":
        invitation.expires_at = now - timedelta(minutes=1)
    elif change == "closed":
        wave.closes_at = now - timedelta(minutes=1)
    elif change == "not_open":
        wave.opens_at = now + timedelta(days=1)
    session.add_all([invitation, wave])
    session.flush()


@pytest.mark.parametrize(
    ("change", "status", "text"), [("unknown", 404, "Deze link werkt niet"), *DEAD_LINKS]
)
def test_links_that_cannot_be_used_get_their_own_page(client, session, setting, change, status, text):
    *_, wave, invitation = setting
    token = invitation.token
    if change == "unknown":
        token = "no-such-token-" + "x" * 20
    else:
        make_dead(session, change, invitation, wave)
    for response in (client.get(f"/s/{token}"), client.post(f"/s/{token}", data={"jg_gz_1": "3"})):
        assert response.status_code == status
        assert text in response.text
        assert "Traceback" not in response.text
    assert stored(session) == 0


def test_personal_link_is_used_up_after_one_response(client, session, setting):
    _, _, professional, wave, _ = setting
    personal = make_invitation(session, wave, professional, kind="personal")
    first, data = submit_all(client, personal.token)
    assert first.status_code == 303
    retry = client.post(f"/s/{personal.token}", data=data, follow_redirects=False)
    assert retry.status_code == 303  # the same submission again: thanked, nothing new stored
    again = client.get(f"/s/{personal.token}")
    assert again.status_code == 410 and "Al ingevuld" in again.text
    fresh = client.post(f"/s/{personal.token}", data={**data, "submission_id": "another-submission-id-123"})
    assert fresh.status_code == 410
    assert stored(session) == 1
    session.refresh(personal)
    used = personal.used_at
    assert (used.hour, used.minute, used.second, used.microsecond) == (0, 0, 0, 0)  # the day only


def test_modules_of_the_wave_are_asked(client, session, setting):
    municipality, _, professional, _, _ = setting
    wave = make_wave(session, municipality, modules=("bejegening",))
    invitation = make_invitation(session, wave, professional)
    plain = len(item_ids(client.get(f"/s/{setting[4].token}").text))
    with_module = len(item_ids(client.get(f"/s/{invitation.token}").text))
    assert with_module >= plain + 9


# -- the submission API ------------------------------------------------------------------------------


def api_answers(client, token: str, value: int | None = 3) -> dict[str, int | None]:
    return {item: value for item in item_ids(client.get(f"/s/{token}").text)}


def test_api_submission_is_idempotent(client, session, setting):
    municipality, *_, invitation = setting
    headers = {**make_key(session, municipality, "responses:write"), "Idempotency-Key": "abc-123"}
    body = {"token": invitation.token, "answers": api_answers(client, invitation.token), "language": "en"}
    first = client.post("/api/v1/responses", json=body, headers=headers)
    again = client.post("/api/v1/responses", json=body, headers=headers)
    assert first.status_code == 201 and first.json()["stored"] is True
    assert again.status_code == 200 and again.json()["stored"] is False
    assert stored(session) == 1
    assert session.exec(select(Response)).one().language == "en"


@pytest.mark.parametrize(
    "answers",
    [{"jg_gz_1": 6}, {"jg_gz_1": 0}, {"jg_gz_1": True}, {"jg_gz_1": "3"}, {"no_such_item": 3}, {}],
)
def test_api_refuses_bad_answers_with_problem_json(client, session, setting, answers):
    municipality, *_, invitation = setting
    headers = make_key(session, municipality, "responses:write")
    response = client.post(
        "/api/v1/responses", json={"token": invitation.token, "answers": answers}, headers=headers
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert stored(session) == 0


def test_api_scope_and_municipality(client, session, setting):
    municipality, *_, invitation = setting
    body = {"token": invitation.token, "answers": {"jg_gz_1": 3}}
    assert client.post("/api/v1/responses", json=body).status_code == 401
    manage_only = make_key(session, municipality, "manage")
    assert client.post("/api/v1/responses", json=body, headers=manage_only).status_code == 403
    other = make_key(session, make_municipality(session, "Elders"), "responses:write")
    assert client.post("/api/v1/responses", json=body, headers=other).status_code == 404
    assert stored(session) == 0


def test_api_checks_the_key_in_the_submissions_transaction(client, session, setting):
    """The key is checked with the submission (one transaction): a key revoked or expired since
    its last call stores nothing and answers 401; an unknown key 401; a key's last use is noted."""
    from app.models import ApiKey

    municipality, *_, invitation = setting
    body = {"token": invitation.token, "answers": api_answers(client, invitation.token)}
    unknown = {"Authorization": "Bearer vb_" + "x" * 43}
    assert client.post("/api/v1/responses", json=body, headers=unknown).status_code == 401
    headers = make_key(session, municipality, "responses:write")
    assert client.post("/api/v1/responses", json=body, headers=headers).status_code == 201
    key = session.exec(select(ApiKey).where(ApiKey.municipality_id == municipality.id)).one()
    session.refresh(key)
    assert key.last_used_at is not None
    key.revoked_at = utcnow()
    session.add(key)
    session.commit()
    again = {**body, "answers": api_answers(client, invitation.token, 4)}
    refused = client.post("/api/v1/responses", json=again, headers=headers)
    assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
    key.revoked_at, key.expires_at = None, utcnow() - timedelta(seconds=1)
    session.add(key)
    session.commit()
    assert client.post("/api/v1/responses", json=again, headers=headers).status_code == 401
    assert stored(session) == 1


def test_api_a_key_verified_here_goes_with_the_one_statement(client, session, setting, monkeypatch):
    """Within the minute after this worker verified a key, a submission is one INSERT that finds
    the key live itself; a key revoked, expired or of another municipality since stores nothing
    there and hears 401 from the full check; a new minute checks (and notes) the key in full."""
    from sqlalchemy import event

    from app import auth
    from app.models import ApiKey

    municipality, _team, professional, wave, invitation = setting
    other = make_invitation(session, wave, professional)
    headers = make_key(session, municipality, "responses:write")
    answers = api_answers(client, invitation.token)
    api_answers(client, other.token)
    assert (
        client.post(
            "/api/v1/responses", json={"token": invitation.token, "answers": answers}, headers=headers
        ).status_code
        == 201
    )
    statements: list[str] = []
    connection = session.connection()
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(connection, "before_cursor_execute", listener)
    try:
        again = client.post(
            "/api/v1/responses", json={"token": other.token, "answers": answers}, headers=headers
        )
    finally:
        event.remove(connection, "before_cursor_execute", listener)
    assert again.status_code == 201
    writes = [sql for sql in statements if not sql.lstrip().upper().startswith(("SAVEPOINT", "RELEASE"))]
    assert len(writes) == 1 and writes[0].lstrip().upper().startswith("INSERT INTO RESPONSE"), writes
    assert "api_key" in writes[0]
    key = session.exec(select(ApiKey).where(ApiKey.municipality_id == municipality.id)).one()
    key.revoked_at = utcnow()
    session.add(key)
    session.commit()
    third = make_invitation(session, wave, professional)
    api_answers(client, third.token)
    refused = client.post(
        "/api/v1/responses", json={"token": third.token, "answers": answers}, headers=headers
    )
    assert refused.status_code == 401
    key.revoked_at, key.expires_at = None, utcnow() - timedelta(seconds=1)
    session.add(key)
    session.commit()
    assert (
        client.post(
            "/api/v1/responses", json={"token": third.token, "answers": answers}, headers=headers
        ).status_code
        == 401
    )
    key.expires_at = None
    key.last_used_at = utcnow() - auth.LAST_USED_RESOLUTION * 2
    session.add(key)
    session.commit()
    assert (
        client.post(
            "/api/v1/responses", json={"token": third.token, "answers": answers}, headers=headers
        ).status_code
        == 201
    )
    session.refresh(key)
    assert utcnow() - key.last_used_at < auth.LAST_USED_RESOLUTION  # a new minute: noted again
    assert stored(session) == 3


def test_api_refuses_the_key_before_the_body(client, session, setting):
    """Although the key is checked in the submission's unit of work, a made-up key or one without
    the scope hears 401 or 403 for a broken body too, as on every other route; a good key 422."""
    municipality, *_, invitation = setting
    broken = {"token": invitation.token, "answers": "not a mapping"}
    unknown = {"Authorization": "Bearer vb_" + "x" * 43}
    assert client.post("/api/v1/responses", json=broken, headers=unknown).status_code == 401
    reader = make_key(session, municipality, "responses:read")
    assert client.post("/api/v1/responses", json=broken, headers=reader).status_code == 403
    assert client.post("/api/v1/responses", content=b"{", headers=reader).status_code == 403
    writer = make_key(session, municipality, "responses:write")
    invalid = client.post("/api/v1/responses", json=broken, headers=writer)
    assert invalid.status_code == 422 and invalid.json()["errors"]
    assert stored(session) == 0


def test_no_respondent_identifying_column_exists(database):
    forbidden = re.compile(
        r"(^|_)(ip|ip_address|user_agent|email|e_mail|phone|name_of_respondent|cookie|"
        r"birth|address|postcode|respondent_name|session_id)($|_)"
    )
    columns = {
        f"{table}.{column['name']}"
        for table in inspect(database.engine).get_table_names()
        for column in inspect(database.engine).get_columns(table)
    }
    # Staff sign in with their e-mail address (table ``user``): accounts of staff, never of respondents.
    # The municipality's own contact details (the sender respondents may reach) are not a respondent's.
    allowed = {"user.email", "municipality.contact_email", "municipality.contact_phone"}
    assert not [column for column in columns - allowed if forbidden.search(column.split(".")[1])]
    response_columns = {column.split(".")[1] for column in columns if column.startswith("response.")}
    assert "invitation_id" not in response_columns  # a personal link must not lead to its answers


def test_a_self_report_is_not_linked_to_the_professional_who_gave_it(client, session, setting):
    _, team, professional, wave, _ = setting
    own = make_invitation(session, wave, professional, form="professional", kind="personal")
    response, _ = submit_all(client, own.token)
    assert response.status_code == 303
    row = session.exec(select(Response)).one()
    assert row.professional_id is None and row.team_id == team.id and row.form == "professional"


def test_the_access_log_names_the_route_never_the_token(client, setting, caplog):
    import logging

    *_, invitation = setting
    caplog.set_level(logging.INFO, logger="verbonden.access")
    submit_all(client, invitation.token)
    lines = [record.getMessage() for record in caplog.records if record.name == "verbonden.access"]
    assert any(line.startswith("POST /s/{token} 303") for line in lines), lines
    assert not any(invitation.token in line for line in lines)


def test_an_idempotency_key_reused_for_another_link_is_another_request(client, session, setting):
    municipality, _, professional, wave, invitation = setting
    other = make_invitation(session, wave, professional)
    headers = {**make_key(session, municipality, "responses:write"), "Idempotency-Key": "same-key"}
    answers = api_answers(client, invitation.token)
    for token in (invitation.token, other.token):
        response = client.post(
            "/api/v1/responses", json={"token": token, "answers": answers}, headers=headers
        )
        assert response.status_code == 201
    assert stored(session) == 2


def test_the_error_summary_links_to_each_refused_question(client, setting):
    *_, invitation = setting
    html = client.get(f"/s/{invitation.token}").text
    ids = item_ids(html)
    data = {**form_fields(html), **{item: "2" for item in ids}, ids[3]: "7"}
    page = client.post(f"/s/{invitation.token}", data=data).text
    assert f'<a href="#q-{ids[3]}">Naar vraag 4</a>' in page


# -- the form's hot path: one INSERT ... SELECT through a link opened before --------------------------


@pytest.mark.parametrize(("change", "status", "text"), DEAD_LINKS)
def test_a_link_that_changed_after_the_form_was_shown_is_checked_again(
    client, session, setting, change, status, text
):
    *_, wave, invitation = setting
    html = client.get(f"/s/{invitation.token}").text  # the process now knows the link's form
    data = {**form_fields(html), **dict.fromkeys(item_ids(html), "3")}
    make_dead(session, change, invitation, wave)
    response = client.post(f"/s/{invitation.token}", data=data, follow_redirects=False)
    assert response.status_code == status and text in response.text
    assert stored(session) == 0


def test_modules_switched_on_after_the_form_was_shown_store_in_the_new_layout(client, session, setting):
    *_, wave, invitation = setting
    html = client.get(f"/s/{invitation.token}").text
    data = {**form_fields(html), **dict.fromkeys(item_ids(html), "2")}
    wave.modules = "bejegening"
    session.add(wave)
    session.flush()
    # The module's questions were never shown: the form asks for them once, then "Toch versturen".
    asked_again = client.post(f"/s/{invitation.token}", data=data, follow_redirects=False)
    assert asked_again.status_code == 200 and "Toch versturen" in asked_again.text
    assert stored(session) == 0
    answered = len(data) - len(form_fields(html))
    data["skipped"] = "send"
    assert client.post(f"/s/{invitation.token}", data=data, follow_redirects=False).status_code == 303
    row = session.exec(select(Response)).one()
    asked = item_ids(client.get(f"/s/{invitation.token}").text)
    assert len(row.answers) == len(asked) > answered
    assert row.answers.startswith("2" * answered)
    assert row.answers.endswith(".")  # the module's questions were not shown: unanswered


def test_the_hot_path_stores_what_the_full_path_stores(client, session, setting):
    municipality, _, professional, wave, invitation = setting
    other_team = make_team(session, municipality, name="Noord")
    self_report = make_invitation(session, wave, professional, form="professional")
    html = client.get(f"/s/{invitation.token}").text
    own_html = client.get(f"/s/{self_report.token}").text
    professional.team_id = other_team.id  # moved after the form was shown: the new team counts
    session.add(professional)
    session.flush()
    for token, page in ((invitation.token, html), (self_report.token, own_html)):
        data = {**form_fields(page), **dict.fromkeys(item_ids(page), "5"), "lang": "en"}
        assert client.post(f"/s/{token}", data=data, follow_redirects=False).status_code == 303
        # the same submission again (a double tap): thanked, stored once
        assert client.post(f"/s/{token}", data=data, follow_redirects=False).status_code == 303
    rows = {row.form: row for row in session.exec(select(Response))}
    assert set(rows) == {"jongere", "professional"}
    young, own = rows["jongere"], rows["professional"]
    assert (young.municipality_id, young.wave_id, young.professional_id) == (
        municipality.id,
        wave.id,
        professional.id,
    )
    assert own.professional_id is None  # a self-report is never linked to who gave it
    assert young.team_id == own.team_id == other_team.id
    assert young.language == own.language == "en"
    assert set(young.answers) == set(own.answers) == {"5"}
    assert young.submitted_at.minute == young.submitted_at.second == 0


def test_a_submission_through_a_known_link_takes_the_one_statement_path(
    client, session, setting, monkeypatch
):
    from app.collection import service

    *_, invitation = setting
    html = client.get(f"/s/{invitation.token}").text
    data = {**form_fields(html), **dict.fromkeys(item_ids(html), "1")}

    def full_path(*args, **kwargs):
        raise AssertionError("the full path was taken")

    monkeypatch.setattr(service, "open_questionnaire", full_path)
    assert client.post(f"/s/{invitation.token}", data=data, follow_redirects=False).status_code == 303
    assert stored(session) == 1


def test_a_form_body_over_the_limits_is_refused_and_nothing_stored(client, session, setting):
    *_, invitation = setting
    html = client.get(f"/s/{invitation.token}").text
    answers = dict.fromkeys(item_ids(html), "3")
    huge = client.post(f"/s/{invitation.token}", data={**form_fields(html), **answers, "x": "a" * 70_000})
    assert huge.status_code == 413
    many = client.post(
        f"/s/{invitation.token}", data={**form_fields(html), **answers, **{f"f{n}": "1" for n in range(300)}}
    )
    assert many.status_code == 400
    assert stored(session) == 0
