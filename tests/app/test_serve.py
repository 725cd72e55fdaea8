"""``verbonden serve``: workers, forwarded headers only from trusted proxies, and the settings for them."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from app import cli
from app.config import ConfigurationError, Settings, get_settings, load_settings


@pytest.fixture
def served(monkeypatch) -> dict[str, Any]:
    """What ``verbonden serve`` would hand to uvicorn (uvicorn itself is not started)."""
    calls: dict[str, Any] = {}
    monkeypatch.setattr("uvicorn.run", lambda target, **options: calls.update(target=target, **options))
    for name in ("VERBONDEN_REDIS_URL", "VERBONDEN_TRUSTED_PROXIES", "VERBONDEN_WORKERS"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield calls
    get_settings.cache_clear()


def serve(*args: str) -> Any:
    return CliRunner().invoke(cli.cli, ["serve", *args])


def test_without_trusted_proxies_forwarded_headers_are_ignored(served):
    assert serve().exit_code == 0
    assert served["proxy_headers"] is False
    assert served["access_log"] is False


def test_trusted_proxies_are_handed_to_uvicorn(served, monkeypatch):
    monkeypatch.setenv("VERBONDEN_TRUSTED_PROXIES", "10.0.0.7, 172.28.0.0/24")
    assert serve().exit_code == 0
    assert served["proxy_headers"] is True
    assert served["forwarded_allow_ips"] == "10.0.0.7,172.28.0.0/24"


def test_several_workers_without_redis_get_a_warning(served):
    result = serve("--workers", "3")
    assert result.exit_code == 0
    assert served["workers"] == 3
    assert "3 workers without VERBONDEN_REDIS_URL" in result.stderr
    assert "3 times" in result.stderr


def test_several_workers_with_redis_start_quietly(served, monkeypatch):
    monkeypatch.setenv("VERBONDEN_REDIS_URL", "redis://redis:6379/0")
    result = serve("--workers", "2")
    assert result.exit_code == 0
    assert served["workers"] == 2
    assert "warning" not in result.stderr


def test_one_worker_without_redis_starts_quietly(served):
    result = serve()
    assert result.exit_code == 0
    assert "warning" not in result.stderr


@pytest.mark.parametrize(
    ("value", "normalised"),
    [
        ("", ""),
        ("127.0.0.1", "127.0.0.1"),
        (" 10.0.0.5/24 , ::1", "10.0.0.0/24,::1"),  # uvicorn compares networks strictly
        ("*", "*"),
    ],
)
def test_trusted_proxies_are_addresses_or_networks(value, normalised):
    assert Settings(trusted_proxies=value).trusted_proxies == normalised


@pytest.mark.parametrize("value", ["proxy.example", "10.0.0.300", "10.0.0.0/33", "*,10.0.0.1"])
def test_a_trusted_proxy_that_is_no_address_stops_the_start(value, monkeypatch):
    monkeypatch.setenv("VERBONDEN_TRUSTED_PROXIES", value)
    with pytest.raises(ConfigurationError, match="VERBONDEN_TRUSTED_PROXIES"):
        load_settings()


@pytest.mark.parametrize("value", ["localhost:6379", "http://user:s3cret@redis:6379", "redis://"])
def test_a_redis_url_must_be_one_and_is_never_repeated(value, monkeypatch):
    monkeypatch.setenv("VERBONDEN_REDIS_URL", value)
    with pytest.raises(ConfigurationError, match="VERBONDEN_REDIS_URL") as raised:
        load_settings()
    assert "s3cret" not in str(raised.value)


def test_the_address_limit_follows_the_link_limit_unless_set():
    assert Settings().submit_rate_limit == 60
    assert Settings().submit_limit_per_address == 300
    assert Settings(submit_rate_limit=0).submit_limit_per_address == 0
    assert Settings(submit_rate_limit=0, submit_address_rate_limit=50).submit_limit_per_address == 50
    assert Settings(redis_url="").redis_url is None
