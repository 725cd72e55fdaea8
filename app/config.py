"""Settings of the verbonden service, read from the environment (prefix ``VERBONDEN_``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

DEFAULT_SECRET_KEY = "change-me-development-only"  # noqa: S105 - a placeholder that production refuses
DEFAULT_DATA_DIR = Path("data")
SUPPORTED_DRIVERS = ("sqlite", "postgresql+psycopg")


class ConfigurationError(RuntimeError):
    """A setting is missing, malformed or unsafe; the message names the setting."""


class Settings(BaseSettings):
    """Every setting of the service; see the configuration table in README.md."""

    model_config = SettingsConfigDict(env_prefix="VERBONDEN_", env_file=".env", extra="ignore")

    env: Literal["development", "production"] = "development"
    database_url: str = Field(default=f"sqlite:///{DEFAULT_DATA_DIR / 'verbonden.sqlite3'}")
    secret_key: str = DEFAULT_SECRET_KEY
    base_url: str = "http://127.0.0.1:8000"
    min_group_size: int = Field(default=5, ge=2)
    retention_days: int | None = Field(default=None, ge=1)
    https: bool = False
    api_rate_limit: int = Field(default=600, ge=0)
    submit_rate_limit: int = Field(default=30, ge=0)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default=1, ge=1)
    db_pool_size: int = Field(default=20, ge=1)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    session_idle_minutes: int = Field(default=60, ge=1)
    session_max_hours: int = Field(default=12, ge=1)
    smtp_url: str | None = None
    mail_from: str = "verbonden <noreply@localhost>"

    @field_validator("database_url")
    @classmethod
    def _database_url_is_supported(cls, value: str) -> str:
        try:
            url = make_url(value)
        except ArgumentError:
            raise ValueError(
                f"cannot parse {value!r}; expected e.g. sqlite:///data/verbonden.sqlite3 "
                "or postgresql+psycopg://user:password@host:5432/dbname"
            ) from None
        if url.drivername not in SUPPORTED_DRIVERS:
            raise ValueError(
                f"driver {url.drivername!r} is not supported; use one of {', '.join(SUPPORTED_DRIVERS)}"
            )
        return value

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url_is_supported(cls, value: str | None) -> str | None:
        if not value:
            return None
        try:
            url = make_url(value)
        except ArgumentError:
            # The value is not repeated: it may hold the mail server's password.
            raise ValueError(
                "cannot parse it; expected e.g. smtp://user:password@host:587?starttls=true"
            ) from None
        if url.drivername not in ("smtp", "smtps") or not url.host:
            raise ValueError("use smtp://host:port (optionally ?starttls=true) or smtps://host:port")
        return value

    @model_validator(mode="after")
    def _safe_in_production(self) -> Settings:
        weak_secret = self.secret_key == DEFAULT_SECRET_KEY or len(self.secret_key) < 32
        if self.env == "production" and weak_secret:
            raise ValueError(
                "VERBONDEN_SECRET_KEY is left at its development default or shorter than 32 characters; "
                "set a long random value (python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        return self

    @property
    def is_sqlite(self) -> bool:
        return make_url(self.database_url).drivername == "sqlite"


def load_settings() -> Settings:
    """Read the settings, turning a validation error into one readable line per bad setting."""
    try:
        return Settings()
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            field = ".".join(str(part) for part in error["loc"]) or "settings"
            message = str(error["msg"]).removeprefix("Value error, ")
            name = f"VERBONDEN_{field.upper()}" if error["loc"] else "settings"
            lines.append(f"{name}: {message}")
        raise ConfigurationError("; ".join(lines)) from None


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (cached; tests clear the cache with ``get_settings.cache_clear()``)."""
    return load_settings()
