"""The command line for accounts, the demo admin, and the invitation and reset mails (a real SMTP server)."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select
from typer.testing import CliRunner

from app import cli
from app.config import get_settings
from app.db import build_engine
from app.main import create_app
from app.migrate import upgrade
from app.models import AuditEvent, Municipality, User, UserToken
from tests.app.test_users import csrf_of, login
from tests.factories.users import PASSWORD, signed_in_headers

runner = CliRunner()


@pytest.fixture
def cli_database(tmp_path, monkeypatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    upgrade(url)
    monkeypatch.setenv("VERBONDEN_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def run(*args: str, stdin: str | None = None):
    return runner.invoke(cli.cli, list(args), input=stdin)


def test_user_create_with_password_stdin_and_sign_in(cli_database):
    assert run("municipality", "create", "Bars-A").exit_code == 0
    created = run(
        "user",
        "create",
        "--municipality",
        "bars-a",
        "--email",
        "Kim@Bars.example",
        "--role",
        "coordinator",
        "--password-stdin",
        stdin=PASSWORD + "\nsecond line ignored\n",
    )
    assert created.exit_code == 0, created.output
    assert PASSWORD not in created.output
    research = run(
        "user",
        "create",
        "--research",
        "--email",
        "onderzoek@lectoraat.example",
        "--role",
        "researcher",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert research.exit_code == 0, research.output
    again = run(
        "user",
        "create",
        "--research",
        "--email",
        "KIM@bars.example",
        "--role",
        "researcher",
        "--password-stdin",
        stdin=PASSWORD,
    )
    assert again.exit_code != 0 and "exists already" in again.output
    short = run(
        "user",
        "create",
        "--research",
        "--email",
        "x@y.example",
        "--role",
        "researcher",
        "--password-stdin",
        stdin="kort\n",
    )
    assert short.exit_code != 0 and "12 characters" in short.output
    assert (
        run(
            "user",
            "create",
            "--research",
            "--municipality",
            "bars-a",
            "--email",
            "z@y.example",
            "--role",
            "admin",
        ).exit_code
        != 0
    )
    assert (
        run(
            "user",
            "create",
            "--research",
            "--email",
            "c@y.example",
            "--role",
            "coordinator",
            "--password-stdin",
            stdin=PASSWORD,
        ).exit_code
        != 0
    )
    assert run("user", "create", "--research", "--email", "r@y.example", "--role", "baas").exit_code != 0

    listed = run("user", "list")
    assert listed.exit_code == 0
    assert "kim@bars.example\tKim\tcoordinator\tbars-a\toff\tactive" in listed.output
    assert "onderzoek@lectoraat.example\tonderzoek\tresearcher\tresearch\toff\tactive" in listed.output
    assert listed.output.strip().endswith("2 accounts")
    only = run("user", "list", "--municipality", "bars-a")
    assert "onderzoek@" not in only.output and "kim@bars.example" in only.output

    settings = get_settings()
    with TestClient(create_app(settings)) as client:
        assert login(client, "kim@bars.example").headers["location"] == "/app/"
        assert client.get("/app/").status_code == 200
        assert run("user", "disable", "KIM@bars.example").exit_code == 0
        assert client.get("/app/", follow_redirects=False).headers["location"] == "/login"
        assert login(client, "kim@bars.example").status_code == 200
        assert "disabled" in run("user", "list").output

        assert run("user", "role", "kim@bars.example", "baas").exit_code != 0
        assert run("user", "role", "onderzoek@lectoraat.example", "coordinator").exit_code != 0
        assert run("user", "role", "kim@bars.example", "admin").exit_code == 0
        assert "kim@bars.example\tKim\tadmin" in run("user", "list").output
        assert run("municipality", "require-2fa", "bars-a").exit_code == 0
        assert run("municipality", "require-2fa", "nergens").exit_code != 0
        run(
            "user",
            "create",
            "--municipality",
            "bars-a",
            "--email",
            "sam@bars.example",
            "--role",
            "admin",
            "--password-stdin",
            stdin=PASSWORD,
        )
        assert login(client, "sam@bars.example").headers["location"] == "/login/enrol"
    with Session(build_engine(cli_database)) as session:
        assert session.exec(select(Municipality).where(Municipality.slug == "bars-a")).one().require_2fa
        actions = [event.action for event in session.exec(select(AuditEvent)).all()]
    assert {
        "user.create",
        "user.password.set",
        "user.login",
        "user.disable",
        "municipality.require_2fa",
    } <= set(actions)


def test_user_create_without_smtp_prints_the_link_on_its_last_line(cli_database):
    run("municipality", "create", "Bars-A")
    created = run(
        "user", "create", "--municipality", "bars-a", "--email", "kim@bars.example", "--role", "coordinator"
    )
    assert created.exit_code == 0, created.output
    link = created.output.strip().splitlines()[-1]
    assert re.fullmatch(r"http://127\.0\.0\.1:8000/login/password/[A-Za-z0-9_-]{43}", link)
    assert "invited" in run("user", "list").output
    reset = run("user", "reset-password", "kim@bars.example")
    assert reset.exit_code == 0
    new_link = reset.output.strip().splitlines()[-1]
    with TestClient(create_app(get_settings())) as client:
        path = new_link.removeprefix("http://127.0.0.1:8000")
        assert client.get(link.removeprefix("http://127.0.0.1:8000")).status_code == 410  # replaced
        page = client.get(path)
        assert page.status_code == 200
        done = client.post(
            path,
            data={"password": PASSWORD, "password_confirm": PASSWORD, "csrf_token": csrf_of(page.text)},
            follow_redirects=False,
        )
        assert done.status_code == 303
        assert login(client, "kim@bars.example").status_code == 303


def test_demo_creates_an_admin_who_signs_in(cli_database):
    shown = run("demo")
    assert shown.exit_code == 0, shown.output
    email = re.search(r"e-mail:\s+(\S+)", shown.output).group(1)
    password = re.search(r"password:\s+(\S+)", shown.output).group(1)
    assert shown.output.strip().splitlines()[-1].startswith("vb_")  # the key stays alone on the last line
    with TestClient(create_app(get_settings())) as client:
        assert login(client, email, password).headers["location"] == "/app/"
        home = client.get("/app/")
        assert "Demostad" in home.text and "/reports/" in home.text
        wave_id = re.search(r"/reports/(\d+)\?form=jongere", home.text).group(1)
        assert client.get(f"/reports/{wave_id}").status_code == 200
    second = run("demo")
    assert re.search(r"password:\s+(\S+)", second.output).group(1) != password


# -- mail ---------------------------------------------------------------------------------------------


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.original_content or envelope.content))
        return "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[tuple[str, Inbox]]:
    from aiosmtpd.controller import Controller

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield f"smtp://127.0.0.1:{port}", inbox
    finally:
        controller.stop()


def link_in(message: Message) -> str:
    body = message.get_payload(decode=True).decode()
    return re.search(r"http://127\.0\.0\.1:8000(/login/password/\S+)", body).group(1)


def test_invitation_mail_through_a_real_smtp_server(cli_database, smtp_server, monkeypatch):
    url, inbox = smtp_server
    monkeypatch.setenv("VERBONDEN_SMTP_URL", url)
    monkeypatch.setenv("VERBONDEN_MAIL_FROM", "verbonden <noreply@bars.example>")
    get_settings.cache_clear()
    run("municipality", "create", "Bars-A")
    created = run(
        "user",
        "create",
        "--municipality",
        "bars-a",
        "--email",
        "kim@bars.example",
        "--role",
        "admin",
        "--name",
        "Kim de Vries",
    )
    assert created.exit_code == 0, created.output
    assert len(inbox.messages) == 1
    mail = inbox.messages[0]
    assert mail["To"] == "kim@bars.example" and mail["From"] == "verbonden <noreply@bars.example>"
    assert "Beste Kim de Vries" in mail.get_payload(decode=True).decode()
    assert link_in(mail) == created.output.strip().splitlines()[-1].removeprefix("http://127.0.0.1:8000")


def test_forgotten_password_mail_says_the_same_for_unknown_addresses(session, settings, smtp_server, app):
    from tests.factories.organisation import make_municipality
    from tests.factories.users import make_user

    url, inbox = smtp_server
    app.state.settings = settings.model_copy(update={"smtp_url": url})
    user = make_user(session, make_municipality(session), email="kim@bars.example")
    signed_in = signed_in_headers(session, app.state.settings, user)
    session.commit()
    with TestClient(app) as client:
        answers = []
        for email in ("niemand@bars.example", "KIM@bars.example"):
            page = client.get("/login/forgot")
            answer = client.post("/login/forgot", data={"email": email, "csrf_token": csrf_of(page.text)})
            assert answer.status_code == 200
            answers.append(answer.text)
        assert answers[0] == answers[1] and "Kijk in uw e-mail" in answers[0]
        assert len(inbox.messages) == 1 and inbox.messages[0]["To"] == "kim@bars.example"
        path = link_in(inbox.messages[0])
        page = client.get(path)
        assert "Kies een nieuw wachtwoord" in page.text
        new = "een-heel-nieuw-wachtwoord-9"
        done = client.post(
            path,
            data={"password": new, "password_confirm": new, "csrf_token": csrf_of(page.text)},
            follow_redirects=False,
        )
        assert done.status_code == 303
        assert client.get(path).status_code == 410  # once
        assert client.get("/api/v1/teams", headers=signed_in).status_code == 401  # sessions ended
        assert login(client, "kim@bars.example", new).status_code == 303
    tokens = session.exec(select(UserToken)).all()
    assert [token.purpose for token in tokens] == ["reset"]
    assert session.exec(select(User)).one().password_hash.startswith("$argon2id$")
