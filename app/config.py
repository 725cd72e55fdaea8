"""Settings of the verbonden service, read from the environment (prefix ``VERBONDEN_``)."""

from __future__ import annotations

import ipaddress
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
REDIS_SCHEMES = ("redis", "rediss", "unix")
ADDRESS_LIMIT_FACTOR = 5


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
    submit_rate_limit: int = Field(default=60, ge=0)
    submit_address_rate_limit: int | None = Field(default=None, ge=0)
    redis_url: str | None = None
    trusted_proxies: str = ""
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

    @field_validator("redis_url")
    @classmethod
    def _redis_url_is_supported(cls, value: str | None) -> str | None:
        if not value:
            return None
        scheme = value.partition("://")[0]
        if scheme not in REDIS_SCHEMES or not value.partition("://")[2]:
            # The value may hold a password: the message never repeats it.
            raise ValueError(
                f"not a Redis URL; expected e.g. redis://localhost:6379/0 "
                f"(schemes: {', '.join(REDIS_SCHEMES)})"
            )
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _trusted_proxies_are_addresses(cls, value: str) -> str:
        entries = [entry.strip() for entry in value.split(",") if entry.strip()]
        if entries == ["*"]:
            return "*"
        normalised = []
        for entry in entries:
            try:
                # uvicorn compares networks strictly: 10.0.0.5/24 is written as 10.0.0.0/24.
                network = ipaddress.ip_network(entry, strict=False) if "/" in entry else None
                normalised.append(str(network) if network else str(ipaddress.ip_address(entry)))
            except ValueError:
                raise ValueError(
                    f"{entry!r} is not an IP address or network; give the proxies' addresses, "
                    "comma-separated, e.g. 10.0.0.5,172.28.0.0/24 (or * to trust every peer)"
                ) from None
        return ",".join(normalised)

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
    def submit_limit_per_address(self) -> int:
        """Submissions per minute per client address: the setting, else 5x the per-link limit
        (a school behind one NAT address); so ``SUBMIT_RATE_LIMIT=0`` switches both off."""
        if self.submit_address_rate_limit is not None:
            return self.submit_address_rate_limit
        return ADDRESS_LIMIT_FACTOR * self.submit_rate_limit

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
