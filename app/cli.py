"""The ``verbonden`` command line: serve, migrate, and manage municipalities and keys."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from app.config import ConfigurationError, Settings, get_settings
from app.db import get_engine
from app.errors import AppError
from app.models import Municipality, User
from app.municipality import service as municipality_service

WORKER_HEALTHCHECK_SECONDS = 120

cli = typer.Typer(
    help="verbonden: measure verbondenheid and report its reliability.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_cli = typer.Typer(help="Database migrations.", no_args_is_help=True)
municipality_cli = typer.Typer(help="Partner municipalities (tenants).", no_args_is_help=True)
cli.add_typer(db_cli, name="db")
apikey_cli = typer.Typer(help="API keys.", no_args_is_help=True)
cli.add_typer(municipality_cli, name="municipality")
cli.add_typer(apikey_cli, name="apikey")
retention_cli = typer.Typer(help="Retention of responses.", no_args_is_help=True)
cli.add_typer(retention_cli, name="retention")
user_cli = typer.Typer(help="People who sign in: accounts and their roles.", no_args_is_help=True)
cli.add_typer(user_cli, name="user")


def fail(message: str) -> typer.Exit:
    """Print one readable line to stderr and return the exit to raise."""
    typer.secho(f"verbonden: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code=1)


def settings_or_exit() -> Settings:
    try:
        return get_settings()
    except ConfigurationError as exc:
        raise fail(str(exc)) from None


def unreachable(exc: OperationalError) -> str:
    reason = " ".join(str(exc.orig).split())
    return f"cannot reach the database in VERBONDEN_DATABASE_URL ({reason})"


def municipality_or_exit(session: Session, slug: str, *, hint: str = "") -> Municipality:
    municipality = municipality_service.by_slug(session, slug)
    if municipality is None:
        raise fail(f"no municipality {slug!r}{hint}")
    return municipality


CREATE_HINT = "; create it with `verbonden municipality create`"


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on [VERBONDEN_HOST]")] = None,
    port: Annotated[int | None, typer.Option(help="Port [VERBONDEN_PORT]")] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes [VERBONDEN_WORKERS]")] = None,
    reload: Annotated[bool, typer.Option(help="Reload on code changes (development)")] = False,
) -> None:
    """Serve the web application with uvicorn."""
    import uvicorn

    settings = settings_or_exit()
    processes = workers or settings.workers
    if processes > 1 and not settings.redis_url:
        typer.secho(
            f"verbonden: warning: {processes} workers without VERBONDEN_REDIS_URL count rate limits "
            f"each on their own, so every limit is {processes} times its setting; set "
            "VERBONDEN_REDIS_URL to share them",
            err=True,
            fg=typer.colors.YELLOW,
        )
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=processes,
        reload=reload,
        access_log=False,  # it would log client addresses and tokens; app.logging logs safely
        # Forwarded headers only from VERBONDEN_TRUSTED_PROXIES (none by default): anyone else
        # could claim any address in X-Forwarded-For and so escape the per-address limits.
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=settings.trusted_proxies or None,
        log_level=settings.log_level,
        # uvicorn's supervisor kills a worker that does not answer its ping within this time, and
        # a worker busy importing numpy, pandas and scipy on a loaded machine takes longer than
        # uvicorn's 5 seconds: every worker was killed and restarted before it could serve.
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
    )


@db_cli.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision")] = "head") -> None:
    """Run the migrations up to the latest revision."""
    from app.migrate import upgrade

    settings = settings_or_exit()
    try:
        upgrade(settings.database_url, revision)
    except OperationalError as exc:
        raise fail(unreachable(exc)) from None
    typer.echo(f"database is at {revision}")


@db_cli.command("current")
def db_current() -> None:
    """Print the revision the database is at, and the latest one."""
    from app.migrate import current_revision, head_revision

    settings_or_exit()
    try:
        current = current_revision(get_engine())
    except OperationalError as exc:
        raise fail(unreachable(exc)) from None
    head = head_revision()
    state = "up to date" if current == head else "needs `verbonden db upgrade`"
    typer.echo(f"current: {current or 'none'}\nhead:    {head}\n{state}")


@municipality_cli.command("create")
def municipality_create(name: Annotated[str, typer.Argument(help="Name, e.g. 'Bars-A'")]) -> None:
    """Create a municipality; its slug is made from the name."""
    settings_or_exit()
    with Session(get_engine(), expire_on_commit=False) as session:
        try:
            municipality = municipality_service.create_municipality(session, name)
        except AppError as exc:
            raise fail(exc.detail) from None
        session.commit()
        typer.echo(f"created municipality {municipality.slug} (id {municipality.id})")


@municipality_cli.command("delete")
def municipality_delete(
    slug: Annotated[str, typer.Argument(help="Slug of the municipality")],
    yes: Annotated[bool, typer.Option("--yes", help="Really erase everything it owns")] = False,
) -> None:
    """Erase a municipality and everything it owns (teams, professionals, waves, responses, keys)."""
    settings_or_exit()
    with Session(get_engine(), expire_on_commit=False) as session:
        municipality = municipality_or_exit(session, slug)
        if not yes:
            raise fail(f"this erases {slug} and all its data for good; run again with --yes")
        erased = municipality_service.delete_municipality(session, municipality)
        session.commit()
    typer.echo(f"erased municipality {slug} with {erased} responses")


@municipality_cli.command("require-2fa")
def municipality_require_2fa(
    slug: Annotated[str, typer.Argument(help="Slug of the municipality")],
    off: Annotated[bool, typer.Option("--off", help="No longer require a second factor")] = False,
) -> None:
    """Require a second factor (TOTP) of every account of the municipality from their next page on."""
    from app.users import service as user_service

    settings_or_exit()
    with Session(get_engine(), expire_on_commit=False) as session:
        municipality = municipality_or_exit(session, slug)
        user_service.require_second_factor(session, municipality=municipality, required=not off, actor=None)
        session.commit()
    state = "no longer requires" if off else "requires"
    typer.echo(f"{slug} {state} a second factor; accounts without one enrol at their next sign-in")


PASSWORD_PROBLEMS = {
    "too_short": "a password needs at least 12 characters",
    "too_long": "a password has at most 1024 characters",
    "too_common": "this password is too common or too easy to guess; choose another",
}


def _user_or_exit(session: Session, email: str) -> User:
    from app.users import repository as user_repository

    user = user_repository.user_by_email(session, email.strip().lower())
    if user is None:
        raise fail(f"no account {email.strip().lower()!r}")
    return user


@user_cli.command("create")
def user_create(
    email: Annotated[str, typer.Option(help="E-mail address (compared case-insensitively)")],
    role: Annotated[str, typer.Option(help="coordinator, researcher or admin")],
    municipality: Annotated[str | None, typer.Option(help="Slug of the person's municipality")] = None,
    research: Annotated[
        bool, typer.Option(help="A research account: reads every municipality, writes nothing")
    ] = False,
    name: Annotated[str | None, typer.Option(help="Display name (default: the e-mail's local part)")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from the first line of stdin")
    ] = False,
) -> None:
    """Create an account. Prints a one-time link to set the password, alone on the last line (and
    mails it when VERBONDEN_SMTP_URL is set), unless --password-stdin sets the password."""
    from pydantic import ValidationError

    from app.users import service as user_service
    from app.users.mail import send_link
    from app.users.schemas import UserCreate

    settings = settings_or_exit()
    if research == (municipality is not None):
        raise fail("give either --municipality SLUG or --research")
    password = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if len(password) < 12:
            raise fail(PASSWORD_PROBLEMS["too_short"])
    with Session(get_engine(), expire_on_commit=False) as session:
        owner_id: int | None = None
        if municipality is not None:
            owner_id = municipality_or_exit(session, municipality, hint=CREATE_HINT).id
        try:
            user_in = UserCreate(
                email=email,
                display_name=name or email.split("@")[0],
                role=role,
                municipality_id=owner_id,
            )
        except ValidationError as exc:
            fields = ", ".join(str(error["loc"][0]) for error in exc.errors())
            raise fail(f"not valid: {fields} (role is coordinator, researcher or admin)") from None
        try:
            user = user_service.create_user(session, user_in=user_in, actor=None)
            if password is not None:
                user_service.set_password(session, user=user, password=password, actor=None)
                token = None
            else:
                token = user_service.issue_link(
                    session, user=user, purpose=user_service.PURPOSE_INVITE, actor=None
                )
        except user_service.PasswordRefused as exc:
            raise fail(PASSWORD_PROBLEMS.get(exc.problem, exc.problem)) from None
        except AppError as exc:
            raise fail(exc.detail) from None
        session.commit()
    owner_label = municipality or "research"
    typer.echo(f"created {user.role} {user.email} for {owner_label}")
    if token is not None:
        url = user_service.link_url(settings, token)
        if settings.smtp_url:
            send_link(settings, to=user.email, name=user.display_name, url=url, purpose="invite")
            typer.echo(f"sent the invitation to {user.email}; the link (valid 72 hours, once):")
        else:
            typer.echo("VERBONDEN_SMTP_URL is not set; hand over this link (valid 72 hours, once):")
        typer.echo(url)


@user_cli.command("disable")
def user_disable(email: Annotated[str, typer.Argument(help="E-mail address of the account")]) -> None:
    """Disable an account: it can no longer sign in, and its live sessions end now."""
    from app.users import service as user_service

    settings_or_exit()
    with Session(get_engine(), expire_on_commit=False) as session:
        user = _user_or_exit(session, email)
        user_service.disable_user(session, user=user, actor=None)
        session.commit()
    typer.echo(f"disabled {user.email}; its sessions have ended")


@user_cli.command("role")
def user_role(
    email: Annotated[str, typer.Argument(help="E-mail address of the account")],
    role: Annotated[str, typer.Argument(help="coordinator, researcher or admin")],
) -> None:
    """Change an account's role (from its next request on)."""
    from app.users import service as user_service
    from app.users.schemas import Role

    settings_or_exit()
    if role not in {item.value for item in Role}:
        raise fail("role is coordinator, researcher or admin")
    with Session(get_engine(), expire_on_commit=False) as session:
        user = _user_or_exit(session, email)
        try:
            user_service.change_role(session, user=user, role=Role(role), actor=None)
        except AppError as exc:
            raise fail(exc.detail) from None
        session.commit()
    typer.echo(f"{user.email} is now {user.role}")


@user_cli.command("reset-2fa")
def user_reset_2fa(email: Annotated[str, typer.Argument(help="E-mail address of the account")]) -> None:
    """Remove an account's second factor (a lost phone): it enrols again at the next sign-in."""
    from app.users import service as user_service

    settings_or_exit()
    with Session(get_engine(), expire_on_commit=False) as session:
        user = _user_or_exit(session, email)
        user_service.reset_second_factor(session, user=user, actor=None)
        session.commit()
    typer.echo(f"removed the second factor of {user.email}; its sessions have ended")


@user_cli.command("reset-password")
def user_reset_password(email: Annotated[str, typer.Argument(help="E-mail address of the account")]) -> None:
    """Print a one-time link (valid 1 hour) to set a new password, alone on the last line."""
    from app.users import service as user_service

    settings = settings_or_exit()
    with Session(get_engine(), expire_on_commit=False) as session:
        user = _user_or_exit(session, email)
        token = user_service.issue_link(session, user=user, purpose=user_service.PURPOSE_RESET, actor=None)
        session.commit()
    typer.echo(f"a link to set a new password for {user.email} (valid 1 hour, once):")
    typer.echo(user_service.link_url(settings, token))


@user_cli.command("list")
def user_list(
    municipality: Annotated[str | None, typer.Option(help="Only this municipality's accounts")] = None,
) -> None:
    """List accounts: e-mail, name, role, municipality, second factor, state."""
    from app.users import service as user_service

    settings_or_exit()
    with Session(get_engine()) as session:
        owner_id = None
        if municipality is not None:
            owner_id = municipality_or_exit(session, municipality).id
        users = user_service.list_users(session, municipality_id=owner_id)
        slugs = municipality_service.slugs(session)
    typer.echo("email\tname\trole\tmunicipality\t2fa\tstate")
    for user in users:
        owner_slug = slugs.get(user.municipality_id, "-") if user.municipality_id else "research"
        state = "disabled" if user.disabled_at else ("active" if user.password_hash else "invited")
        second = "on" if user.totp_enabled_at else "off"
        typer.echo("\t".join([user.email, user.display_name, user.role, owner_slug, second, state]))
    typer.echo(f"{len(users)} accounts")


@retention_cli.command("apply")
def retention_apply() -> None:
    """Delete responses older than VERBONDEN_RETENTION_DAYS and say how many."""
    from app.publication.retention import apply_retention, retention_cutoff

    settings = settings_or_exit()
    if settings.retention_days is None:
        raise fail("VERBONDEN_RETENTION_DAYS is not set; nothing is deleted")
    with Session(get_engine()) as session:
        deleted = apply_retention(session, retention_days=settings.retention_days)
        session.commit()
    cutoff = retention_cutoff(settings.retention_days)
    typer.echo(f"deleted {deleted} responses submitted before {cutoff:%Y-%m-%d %H:%M} UTC")


@cli.command()
def demo() -> None:
    """Load demo data once (a municipality, 30 professionals, a wave, simulated responses);
    print a demo form link with its QR code and a fresh demo API key."""
    import segno

    from app.demo import guess_network_address, load_demo, phone_hint

    settings = settings_or_exit()
    with Session(get_engine(), expire_on_commit=False) as session:
        result = load_demo(session, base_url=settings.base_url)
        session.commit()
    state = "created" if result.created else "already there"
    typer.echo(f"demo municipality {result.municipality.slug}: {state}, {result.responses} responses")
    typer.echo(f"\ndemo form (open it on a phone-sized window): {result.form_url}\n")
    segno.make(result.form_url, error="m").terminal(compact=True)
    typer.echo(f"\ndemo admin (sign in at {settings.base_url}/login; a new password at every run):")
    typer.echo(f"  e-mail:   {result.admin_email}")
    typer.echo(f"  password: {result.admin_password}")
    hint = phone_hint(
        base_url=settings.base_url,
        host=settings.host,
        port=settings.port,
        network_address=guess_network_address(),
    )
    if hint:
        typer.echo("\n" + "\n".join(hint))
    typer.echo("\ndemo API key (all scopes but admin; shown once, the previous demo key is revoked):")
    typer.echo(f"  curl -H 'Authorization: Bearer {result.api_key}' {settings.base_url}/api/v1/teams")
    typer.echo(result.api_key)


@apikey_cli.command("create")
def apikey_create(
    municipality: Annotated[
        str | None, typer.Option(help="Slug of the municipality the key belongs to")
    ] = None,
    scope: Annotated[
        list[str], typer.Option(help="A scope; repeat for more (manage, responses:write, ...)")
    ] = [],  # noqa: B006
    name: Annotated[str, typer.Option(help="What the key is for, shown in lists")] = "cli",
    research: Annotated[
        bool, typer.Option(help="A research key: reads every municipality, no writes")
    ] = False,
) -> None:
    """Create an API key and print it once, alone on the last line (only its hash is stored)."""
    from app.apikeys import service as apikey_service

    settings_or_exit()
    if research == (municipality is not None):
        raise fail("give either --municipality SLUG or --research")
    with Session(get_engine(), expire_on_commit=False) as session:
        owner_id: int | None = None
        if municipality is not None:
            owner_id = municipality_or_exit(session, municipality, hint=CREATE_HINT).id
        try:
            api_key, secret = apikey_service.create_operator_key(
                session, municipality_id=owner_id, name=name, scopes=scope
            )
        except ValueError as exc:
            raise fail(str(exc)) from None
        session.commit()
        typer.echo(f"created key {api_key.prefix}... ({api_key.scopes}) for {municipality or 'research'}")
        typer.echo(secret)


@cli.command()
def audit(
    limit: Annotated[int, typer.Option(min=1, max=100_000, help="How many events, newest first")] = 50,
) -> None:
    """Print the audit trail, newest first: when, key, municipality, action, object, wave, detail."""
    from app.audit import service as audit_service
    from app.audit.schemas import AuditFilter

    settings_or_exit()
    try:
        with Session(get_engine()) as session:
            events, total = audit_service.list_events(
                session, None, wanted=AuditFilter(), limit=limit, offset=0
            )
    except OperationalError as exc:
        raise fail(unreachable(exc)) from None
    typer.echo("occurred_at\tkey\tmunicipality\taction\tobject\twave\tdetail")
    for event in events:
        key = f"key {event.api_key_id}" if event.api_key_id is not None else "cli"
        target = f"{event.object_type} {event.object_id}" if event.object_type else "-"
        cells = [event.occurred_at.isoformat(timespec="seconds"), key, event.municipality_id, event.action]
        typer.echo(
            "\t".join(
                str("-" if cell is None else cell) for cell in [*cells, target, event.wave_id, event.detail]
            )
        )
    typer.echo(f"{len(events)} of {total} events")


@cli.command()
def report(
    wave: Annotated[int, typer.Option("--wave", help="Wave id")],
    form: Annotated[str, typer.Option(help="Form: jongere, ouder or professional")] = "jongere",
    output_format: Annotated[str, typer.Option("--format", help="html or json")] = "html",
    lang: Annotated[str, typer.Option(help="Language of the HTML page: nl or en")] = "nl",
) -> None:
    """Print a wave's report (reliability, team and professional scores) from the database, to stdout.

    Reads every municipality's responses of the wave; disclosure control applies as on the API.
    """
    import json

    from app.reports import repository as report_repository
    from app.reports import service as report_service
    from app.reports.schemas import Level
    from app.reports.views import render_report

    settings = settings_or_exit()
    if output_format not in ("html", "json") or lang not in ("nl", "en"):
        raise fail("--format is html or json; --lang is nl or en")
    try:
        with Session(get_engine()) as session:
            found = report_repository.wave(session, wave)
            if found is None:
                raise fail(f"no wave with id {wave}")
            selection = report_service.select_answers(
                session, wave=found, form=form, municipality_id=None, min_group_size=settings.min_group_size
            )
            # A cut made for this report is kept: every later output builds on the same batches.
            session.commit()
            if output_format == "html":
                page = render_report(session, selection, professionals=found.professional_feedback, lang=lang)  # type: ignore[arg-type]
                typer.echo(page)
                return
            levels: tuple[Level, ...] = ("team", "professional") if found.professional_feedback else ("team",)
            reports = {
                "reliability": report_service.reliability_report(selection).model_dump(mode="json"),
                "scores": {
                    level: report_service.scores_report(session, selection, level).model_dump(mode="json")
                    for level in levels
                    if level == "team" or selection.about_professional
                },
            }
            typer.echo(json.dumps(reports, ensure_ascii=False, indent=1))
    except OperationalError as exc:
        raise fail(unreachable(exc)) from None
    except AppError as exc:
        raise fail(exc.detail) from None


def main() -> None:
    try:
        cli()
    except ConfigurationError as exc:
        typer.secho(f"verbonden: {exc}", err=True, fg=typer.colors.RED)
        sys.exit(1)
