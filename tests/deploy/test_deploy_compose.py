"""deploy/compose.yaml against the Compose specification's JSON Schema (vendored in
check-jsonschema, so offline), what it runs checked with rapidvet's own parser, its health check
run against a real server, and deploy/env.example read by rapidvet's own settings loader."""

from __future__ import annotations

import copy
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet

from rapidvet.app.settings import SettingsError, load_settings
from tests.support.deploy_helpers import (
    DEPLOY,
    PLACEHOLDER,
    ROOT,
    bare_service,
    builtin_schema,
    closed_port_url,
    rapidvet_args,
    schema_errors,
    setting_names,
    yaml_file,
)
from tests.support.service import private_key_pem, running_service, service_env

pytest_plugins = ("tests.support.postgres",)

COMPOSE = DEPLOY / "compose.yaml"
ENV_EXAMPLE = DEPLOY / "env.example"
RAPIDVET_SERVICES = ("migrate", "web", "worker")
# Variables in env.example that are not rapidvet's: Compose hands them to PostgreSQL.
OTHER_VARIABLES = {"POSTGRES_PASSWORD"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    # PyYAML resolves the `<<: *rapidvet` merge keys, as Compose does before it validates.
    return yaml_file(COMPOSE)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with bare_service(tmp_path_factory.mktemp("compose")) as running:
        yield running


def env_example() -> dict[str, str]:
    lines = ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
    pairs = [line.partition("=") for line in lines if line and not line.startswith("#")]
    return {key: value for key, _, value in pairs}


def test_compose_file_matches_the_compose_specification(compose):
    assert schema_errors(compose, builtin_schema("vendor.compose-spec")) == []


def test_the_schema_refuses_a_broken_compose_file(compose):
    # Proves the schema is applied, not vacuously passed.
    broken = copy.deepcopy(compose)
    broken["services"]["web"]["deploy"]["replicas"] = {"count": 2}
    broken["services"]["worker"]["restart_policy"] = "always"
    errors = schema_errors(broken, builtin_schema("vendor.compose-spec"))
    assert any(e.startswith("services.web.deploy.replicas") for e in errors), errors
    assert any("restart_policy" in e for e in errors), errors


def test_two_web_replicas_a_worker_and_a_migration_before_them(compose):
    services = compose["services"]
    assert set(services) == {*RAPIDVET_SERVICES, "postgres"}
    web = rapidvet_args(services["web"]["command"])
    assert (web.command, web.no_worker, web.host) == ("serve", True, "0.0.0.0")
    assert services["web"]["deploy"]["replicas"] == 2
    published = [str(p).rsplit(":", 1)[-1] for p in services["web"]["ports"]]
    assert published == [str(web.port)]
    assert rapidvet_args(services["worker"]["command"]).command == "worker"
    migrate = rapidvet_args(services["migrate"]["command"])
    assert (migrate.command, migrate.db_command) == ("db", "migrate")
    assert services["migrate"]["restart"] == "no"
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    for name in ("web", "worker"):
        assert services[name]["depends_on"] == {
            "migrate": {"condition": "service_completed_successfully"}
        }


def test_rapidvet_containers_share_one_image_and_lock_themselves_down(compose):
    for name in RAPIDVET_SERVICES:
        service = compose["services"][name]
        assert service["image"] == "rapidvet:latest", name
        build = service["build"]
        assert (COMPOSE.parent / build["context"] / build["dockerfile"]).resolve() == (
            ROOT / "deploy" / "Dockerfile"
        )
        assert service["read_only"] is True and "/tmp" in service["tmpfs"], name
        assert service["cap_drop"] == ["ALL"], name
        assert "no-new-privileges:true" in service["security_opt"], name
        url = service["environment"]["RAPIDVET_DATABASE_URL"]
        assert url.startswith("postgresql://") and "@postgres:" in url, name
        assert ":" not in url.removeprefix("postgresql://").split("@")[0], "password in the URL"


def test_secrets_come_from_the_env_file_the_example_shows(compose):
    for name in RAPIDVET_SERVICES:
        assert compose["services"][name]["env_file"] == ".env", name
    assert (COMPOSE.parent / ".env").with_name("env.example") == ENV_EXAMPLE
    # Every variable the file interpolates is one the example tells the admin to set.
    used = set(re.findall(r"\$\{([A-Z_]+)", COMPOSE.read_text(encoding="utf-8")))
    assert used and used <= set(env_example())


def test_every_named_volume_is_declared_and_used(compose):
    mounted = {
        volume.split(":", 1)[0]
        for service in compose["services"].values()
        for volume in service.get("volumes", [])
        if not volume.startswith((".", "/"))
    }
    assert mounted == set(compose["volumes"]) == {"postgres-data"}
    postgres = compose["services"]["postgres"]
    assert "postgres-data:/var/lib/postgresql/data" in postgres["volumes"]
    assert postgres["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]


def web_health_probe(
    compose: dict[str, Any], base_url: str, service: str = "web"
) -> subprocess.CompletedProcess[str]:
    """A service's health check command, run here against `base_url`."""
    command = compose["services"][service]["healthcheck"]["test"]
    assert command[:3] == ["CMD", "python3", "-c"], "the image has Python but maybe not curl"
    port = rapidvet_args(compose["services"][service]["command"]).port
    code = command[3]
    assert f"http://127.0.0.1:{port}/readyz" in code
    code = code.replace(f"http://127.0.0.1:{port}", base_url)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)


def test_web_health_check_passes_on_a_ready_server(compose, server):
    done = web_health_probe(compose, server.url)
    assert done.returncode == 0, done.stderr


def test_web_health_check_fails_where_nothing_answers(compose):
    assert web_health_probe(compose, closed_port_url()).returncode != 0


def test_containers_without_http_do_not_inherit_the_image_health_check(compose):
    assert compose["services"]["migrate"]["healthcheck"] == {"disable": True}


def test_the_worker_is_checked_on_its_own_probe_port(compose, postgres_url, tmp_path):
    args = rapidvet_args(compose["services"]["worker"]["command"])
    assert (args.command, args.host, args.port) == ("worker", "0.0.0.0", 3000)
    env = service_env(tmp_path, "http://127.0.0.1:9", RAPIDVET_DATABASE_URL=postgres_url)
    with running_service(env, tmp_path, command="worker") as worker:
        done = web_health_probe(compose, worker.url, service="worker")
    assert done.returncode == 0, done.stderr


def test_env_example_names_only_settings_rapidvet_reads():
    names = set(env_example())
    assert names - OTHER_VARIABLES <= setting_names()
    assert {"RAPIDVET_SECRET_KEY", "RAPIDVET_WEBHOOK_SECRET", "RAPIDVET_APP_ID"} <= names


def test_env_example_does_not_start_until_filled_in():
    with pytest.raises(SettingsError, match="RAPIDVET_SECRET_KEY"):
        load_settings(env={}, env_file=str(ENV_EXAMPLE))


def test_env_example_filled_in_as_it_says_loads(tmp_path: Path):
    # Follow the file's own instructions: a generated key, the PEM quoted with \n for breaks.
    pem = private_key_pem()
    text = ENV_EXAMPLE.read_text(encoding="utf-8")
    assert "RAPIDVET_PRIVATE_KEY='-----BEGIN" in text
    text = text.replace(PLACEHOLDER, Fernet.generate_key().decode())
    text = text.replace("RAPIDVET_APP_ID=\n", "RAPIDVET_APP_ID=123\n")
    quoted = pem.strip().replace("\n", "\\n")
    text = text.replace("RAPIDVET_PRIVATE_KEY=\n", f"RAPIDVET_PRIVATE_KEY='{quoted}'\n")
    filled = tmp_path / "rapidvet.env"
    filled.write_text(text, encoding="utf-8")
    loaded = load_settings(env={}, env_file=str(filled))
    assert loaded.app_id == 123
    assert loaded.private_key == pem.strip() + "\n"
    assert loaded.secret_key and loaded.public_url == "https://rapidvet.example.com"
