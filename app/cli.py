"""The ``verbonden`` command line: serve, migrate, and manage municipalities and keys."""

from __future__ import annotations

import re
import sys
import unicodedata
from typing import Annotated

import typer
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

from app.config import ConfigurationError, Settings, get_settings
from app.db import get_engine
from app.models import Municipality

cli = typer.Typer(
    help="verbonden: measure verbondenheid and report its reliability.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_cli = typer.Typer(help="Database migrations.", no_args_is_help=True)
municipality_cli = typer.Typer(help="Partner municipalities (tenants).", no_args_is_help=True)
cli.add_typer(db_cli, name="db")
cli.add_typer(municipality_cli, name="municipality")


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


def slugify(name: str) -> str:
    """``Bars-A`` -> ``bars-a``; ``'s-Hertogenbosch`` -> ``s-hertogenbosch``; accents dropped."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug[:64]


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
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers or settings.workers,
        reload=reload,
        access_log=False,  # it would log client addresses and tokens; app.logging logs safely
        proxy_headers=True,
        log_level=settings.log_level,
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
    slug = slugify(name)
    if not slug:
        raise fail(f"cannot make a slug from {name!r}; use letters or digits")
    with Session(get_engine()) as session:
        if session.exec(select(Municipality).where(Municipality.slug == slug)).first():
            raise fail(f"municipality {slug!r} exists already")
        municipality = Municipality(slug=slug, name=name.strip())
        session.add(municipality)
        session.commit()
        typer.echo(f"created municipality {slug} (id {municipality.id})")


def main() -> None:
    try:
        cli()
    except ConfigurationError as exc:
        typer.secho(f"verbonden: {exc}", err=True, fg=typer.colors.RED)
        sys.exit(1)
