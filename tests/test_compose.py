"""``compose.yaml``, the production starting point: valid YAML of the right shape, and every setting
it gives the app is one the app reads, with values the app accepts."""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from app.config import Settings

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "compose.yaml"
EXAMPLE_ENVIRONMENT = {
    "VERBONDEN_SECRET_KEY": "k" * 48,
    "POSTGRES_PASSWORD": "a-password",
    "VERBONDEN_BASE_URL": "https://vragenlijst.example.nl",
}
_VARIABLE = re.compile(r"\$\{(\w+)(?:(:-|:\?)([^}]*))?\}")


def interpolate(text: str, environment: dict[str, str]) -> str:
    """Compose's ``${NAME}``, ``${NAME:-default}`` and ``${NAME:?error}``, as ``docker compose`` does."""

    def value(match: re.Match[str]) -> str:
        name, operator, argument = match.groups()
        if environment.get(name):
            return environment[name]
        if operator == ":?":
            raise KeyError(f"{name}: {argument}")
        return argument or ""

    return _VARIABLE.sub(value, text)


def compose(environment: dict[str, str] = EXAMPLE_ENVIRONMENT) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(interpolate(COMPOSE.read_text(), environment))
    return loaded


def test_it_is_yaml_with_the_app_postgresql_and_redis_each_with_a_health_check():
    services = compose()["services"]
    assert set(services) == {"app", "db", "redis"}
    for name, service in services.items():
        assert service["healthcheck"]["test"], name
        assert service.get("restart") == "unless-stopped", name
    assert services["app"]["depends_on"] == {
        "db": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
    }
    assert "/readyz" in " ".join(services["app"]["healthcheck"]["test"])


def test_postgresql_keeps_its_data_in_a_named_volume_and_redis_keeps_nothing():
    document = compose()
    volume, mount = document["services"]["db"]["volumes"][0].split(":", 1)
    assert volume in document["volumes"] and mount == "/var/lib/postgresql/data"
    command = document["services"]["redis"]["command"]
    assert command[command.index("--save") + 1] == "" and "volatile-ttl" in command


def test_the_app_runs_two_workers_that_share_their_limits_in_redis():
    environment = compose()["services"]["app"]["environment"]
    assert environment["VERBONDEN_WORKERS"] == "2"
    assert urlsplit(environment["VERBONDEN_REDIS_URL"]).hostname == "redis"
    assert urlsplit(environment["VERBONDEN_DATABASE_URL"]).hostname == "db"


def test_every_setting_it_names_is_one_the_app_reads_and_accepts():
    environment = compose()["services"]["app"]["environment"]
    names = {name.removeprefix("VERBONDEN_").lower(): value for name, value in environment.items()}
    assert all(name.startswith("VERBONDEN_") for name in environment)
    assert set(names) <= set(Settings.model_fields), set(names) - set(Settings.model_fields)
    settings = Settings(_env_file=None, **names)  # type: ignore[call-arg]
    assert settings.env == "production" and settings.workers == 2
    assert settings.redis_url == "redis://redis:6379/0"
    assert settings.database_url.startswith("postgresql+psycopg://verbonden:a-password@db:5432/")


def test_the_default_trusted_proxy_is_the_networks_gateway():
    document = compose()
    network = document["networks"]["default"]["ipam"]["config"][0]
    trusted = document["services"]["app"]["environment"]["VERBONDEN_TRUSTED_PROXIES"]
    assert trusted == network["gateway"]
    assert ipaddress.ip_address(trusted) in ipaddress.ip_network(network["subnet"])
    assert document["services"]["app"]["ports"] == ["127.0.0.1:8000:8000"]  # only the host's proxy


def test_it_refuses_to_start_without_a_secret_or_a_database_password():
    for missing in ("VERBONDEN_SECRET_KEY", "POSTGRES_PASSWORD"):
        with pytest.raises(KeyError, match=missing):
            compose({name: value for name, value in EXAMPLE_ENVIRONMENT.items() if name != missing})


def docker_compose_available() -> bool:
    if shutil.which("docker") is None:
        return False
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
    return probe.returncode == 0


@pytest.mark.skipif(not docker_compose_available(), reason="needs `docker compose` (Docker's compose plugin)")
def test_docker_compose_accepts_it():
    checked = subprocess.run(
        ["docker", "compose", "-f", str(COMPOSE), "config", "--quiet"],
        env={**os.environ, **EXAMPLE_ENVIRONMENT},
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr
