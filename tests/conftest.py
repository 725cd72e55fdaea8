"""Test databases: every database test runs on SQLite and, when configured, on PostgreSQL.

The schema is built by the real Alembic migrations (never ``create_all``), once per backend and
session; each test then runs inside a transaction that is rolled back, so tests never see each
other's rows. Set ``VERBONDEN_TEST_DATABASE_URL=postgresql+psycopg://user@host:5432/db`` to add
PostgreSQL: the suite creates (and afterwards drops) a fresh database beside that one.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

from app.collection import caches
from app.config import Settings
from app.db import UnitOfWork, build_engine, get_session, get_stream_session, get_unit_of_work
from app.main import create_app
from app.migrate import upgrade

POSTGRES_URL_ENV = "VERBONDEN_TEST_DATABASE_URL"
BACKENDS = ["sqlite", "postgresql"]
REDIS_URL_ENV = "VERBONDEN_TEST_REDIS_URL"
DEFAULT_TEST_REDIS_URL = "redis://127.0.0.1:6379/15"  # the tests' own database number

# Property tests explore new examples on a developer's machine, but in CI (CI=true, as .ci/run
# sets) every run tries the same ones: a suite that lands or not by chance is no gate. Cases that
# hypothesis found are kept as @example on their test, so they run everywhere.
hypothesis_settings.register_profile(
    "verbonden-ci",
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
hypothesis_settings.register_profile("verbonden-dev", print_blob=True)
hypothesis_settings.load_profile(
    "verbonden-ci" if os.environ.get("CI", "").lower() in ("1", "true", "yes") else "verbonden-dev"
)


def postgres_server_url() -> str | None:
    return os.environ.get(POSTGRES_URL_ENV) or None


class Database:
    """A migrated throw-away database of one backend."""

    def __init__(self, backend: str, url: str, admin_url: str | None = None) -> None:
        self.backend = backend
        self.url = url
        self.admin_url = admin_url
        self.engine: Engine = build_engine(url, pool_size=5)

    def settings(self, **overrides: object) -> Settings:
        return Settings(database_url=self.url, **overrides)  # type: ignore[arg-type]

    def dispose(self) -> None:
        self.engine.dispose()


def create_postgres_database(server_url: str, name: str) -> tuple[str, str]:
    """Create database ``name`` on the server of ``server_url``; return (its URL, the admin URL)."""
    admin_url = make_url(server_url).set(database=make_url(server_url).database or "postgres")
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return admin_url.set(database=name).render_as_string(hide_password=False), admin_url.render_as_string(
        hide_password=False
    )


def drop_postgres_database(admin_url: str, name: str) -> None:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def new_database(backend: str, tmp_dir: Path, *, migrate: bool = True) -> Database:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_dir / f'verbonden-{uuid.uuid4().hex[:8]}.sqlite3'}"
        database = Database(backend, url)
    else:
        server = postgres_server_url()
        if server is None:
            pytest.skip(f"PostgreSQL tests need {POSTGRES_URL_ENV} (set by .ci/run)")
        name = f"verbonden_test_{uuid.uuid4().hex[:12]}"
        url, admin_url = create_postgres_database(server, name)
        database = Database(backend, url, admin_url)
    if migrate:
        upgrade(database.url)
    return database


def remove_database(database: Database) -> None:
    database.dispose()
    if database.backend == "postgresql" and database.admin_url:
        drop_postgres_database(database.admin_url, make_url(database.url).database or "")


def redis_test_url() -> str:
    return os.environ.get(REDIS_URL_ENV) or DEFAULT_TEST_REDIS_URL


def clean_redis(client: redis.Redis) -> None:
    """Delete every key the service writes (``verbonden:...``) from the tests' Redis database."""
    for key in client.scan_iter("verbonden:*", count=1000):
        client.delete(key)


@contextmanager
def tests_redis() -> Iterator[str]:
    """The tests' Redis database (``VERBONDEN_TEST_REDIS_URL``, else number 15 on 127.0.0.1:6379),
    clean before and after. Skipped without a Redis server, unless CI requires one
    (``VERBONDEN_REQUIRE_REDIS=1``)."""
    url = redis_test_url()
    client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
    try:
        client.ping()
    except redis.RedisError as exc:
        client.close()
        if os.environ.get("VERBONDEN_REQUIRE_REDIS") == "1":
            pytest.fail(f"VERBONDEN_REQUIRE_REDIS=1 but Redis at {url} does not answer ({exc})")
        pytest.skip(f"Redis tests need a Redis server at {url} (set {REDIS_URL_ENV})")
    clean_redis(client)
    try:
        yield url
    finally:
        clean_redis(client)
        client.close()


@pytest.fixture
def redis_url() -> Iterator[str]:
    """The tests' Redis database, clean before and after the test (see :func:`tests_redis`)."""
    with tests_redis() as url:
        yield url


@pytest.fixture(scope="session", params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """A migrated database per backend, shared by the whole session."""
    created = new_database(request.param, tmp_path_factory.mktemp(request.param))
    yield created
    remove_database(created)


@pytest.fixture
def fresh_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """An empty, un-migrated database for migration tests (parametrize ``backend`` indirectly)."""
    backend = getattr(request, "param", "sqlite")
    created = new_database(backend, tmp_path, migrate=False)
    yield created
    remove_database(created)


@pytest.fixture
def session(database: Database) -> Iterator[Session]:
    """A session inside a transaction that is rolled back after the test.

    Commits made by the code under test become savepoint releases, so they are undone too.
    """
    connection = database.engine.connect()
    transaction = connection.begin()
    db_session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield db_session
    finally:
        db_session.close()
        if transaction.is_active:
            transaction.rollback()
        connection.close()


@pytest.fixture
def settings(database: Database) -> Settings:
    return database.settings()


def use_test_session(application: FastAPI, session: Session) -> None:
    """Route every request's database work through ``session`` (the test's transaction)."""

    def _test_session() -> Iterator[Session]:
        # Keep what the test set up (a savepoint release; the outer transaction still rolls back),
        # so that a request that fails and rolls back undoes only its own work.
        session.commit()
        try:
            yield session
        except BaseException:
            session.rollback()
            raise
        else:
            session.commit()

    def _test_stream_session() -> Iterator[Session]:
        yield session

    def _test_unit_of_work() -> UnitOfWork:
        return UnitOfWork(lambda: contextmanager(_test_session)())

    application.dependency_overrides[get_session] = _test_session
    application.dependency_overrides[get_stream_session] = _test_stream_session
    application.dependency_overrides[get_unit_of_work] = _test_unit_of_work


@pytest.fixture
def app(settings: Settings, session: Session) -> FastAPI:
    """The application wired to the test transaction."""
    application = create_app(settings)
    use_test_session(application, session)
    return application


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture(autouse=True)
def forget_remembered_links() -> Iterator[None]:
    """Each test starts as a new worker would: no link or form page remembered from another test."""
    caches.reset()
    yield
    caches.reset()


@pytest.fixture(autouse=True, scope="session")
def cheap_password_hashing() -> Iterator[None]:
    """argon2id with the smallest parameters: sign-ins in tests cost microseconds, not 0.3 s each.

    (Production parameters are argon2-cffi's defaults; a test checks that a hash made with other
    parameters is replaced at sign-in.)"""
    from argon2 import PasswordHasher

    from app.users import crypto

    production = crypto.password_hasher()
    crypto.use_password_hasher(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    yield
    crypto.use_password_hasher(production)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """CI sets VERBONDEN_REQUIRE_POSTGRES=1: then a missing PostgreSQL is a failure, not a skip."""
    if os.environ.get("VERBONDEN_REQUIRE_POSTGRES") == "1" and postgres_server_url() is None:
        raise pytest.UsageError(f"VERBONDEN_REQUIRE_POSTGRES=1 but {POSTGRES_URL_ENV} is not set")
