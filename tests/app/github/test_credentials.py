"""The App's credentials: from the environment or the database, sealed at rest, the environment
winning; the settings that go with them; and the manifest the set-up page posts."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
from cryptography.fernet import Fernet

from rapidvet.app.github.credentials import AppCredentials, Registration, resolve, save, stored
from rapidvet.app.settings import Settings, SettingsError, load_settings
from rapidvet.app.store.sqlite import SqliteStore
from rapidvet.app.web.pages.setup import manifest, new_app_url
from tests.support.service import private_key_pem

PEM = private_key_pem()
STORED = AppCredentials(
    app_id=77,
    private_key=PEM,
    webhook_secret="stored-webhook-secret",
    slug="rapidvet-acme",
    client_id="Iv1.stored",
    client_secret="stored-client-secret",
)


@pytest.fixture
def settings() -> Settings:
    return Settings(secret_key=Fernet.generate_key().decode())


def test_nothing_anywhere_means_unconfigured(store, settings):
    assert resolve(settings, store) is None
    assert not Registration(settings, store).refresh()


def test_stored_credentials_are_sealed_and_read_back(store, settings, tmp_path):
    assert save(store, settings, STORED)
    assert resolve(settings, store) == STORED
    with sqlite3.connect(tmp_path / "rapidvet.db") as db:
        (raw,) = db.execute("SELECT value FROM records WHERE scope = 'app'").fetchone()
    for secret in ("PRIVATE KEY", PEM.splitlines()[1], "stored-webhook-secret", "stored-client"):
        assert secret not in raw
    assert "rapidvet-acme" in raw and "Iv1.stored" in raw  # not secrets: kept readable
    assert "stored-webhook-secret" not in repr(STORED) and "PRIVATE" not in repr(STORED)


def test_a_second_save_keeps_the_first(store, settings):
    assert save(store, settings, STORED)
    other = AppCredentials(app_id=78, private_key=PEM, webhook_secret="other")
    assert not save(store, settings, other)
    assert stored(store, settings) == STORED


def test_the_environment_wins_value_by_value(store, settings):
    save(store, settings, STORED)
    env = Settings(webhook_secret="env-secret", client_id="Iv1.env", secret_key=settings.secret_key)
    found = resolve(env, store)
    assert found is not None
    assert (found.app_id, found.private_key, found.slug) == (77, PEM, "rapidvet-acme")
    assert (found.webhook_secret, found.client_id, found.client_secret) == (
        "env-secret",
        "Iv1.env",
        "stored-client-secret",
    )


def test_the_environment_alone_names_the_app(store, settings):
    env = Settings(app_id=5, private_key=PEM, webhook_secret="s", secret_key=settings.secret_key)
    assert resolve(env, store) == AppCredentials(5, PEM, "s")
    assert not AppCredentials(5, PEM, "s").can_sign_in


@pytest.mark.parametrize(
    ("given", "missing"),
    [
        ({"private_key": PEM, "webhook_secret": "s"}, "RAPIDVET_APP_ID is not set"),
        ({"app_id": 5, "webhook_secret": "s"}, "RAPIDVET_PRIVATE_KEY (or"),
        ({"app_id": 5, "private_key": PEM}, "RAPIDVET_WEBHOOK_SECRET is not set"),
    ],
)
def test_an_app_named_in_part_is_an_error(store, given, missing):
    with pytest.raises(SettingsError, match=missing.replace("(", r"\(")):
        resolve(Settings(**given), store)


def test_a_wrong_or_missing_key_is_said_clearly(store, settings):
    save(store, settings, STORED)
    wrong = Settings(secret_key=Fernet.generate_key().decode())
    with pytest.raises(SettingsError, match="RAPIDVET_SECRET_KEY does not decrypt"):
        resolve(wrong, store)
    with pytest.raises(SettingsError, match="set RAPIDVET_SECRET_KEY to the key they were stored"):
        resolve(Settings(), store)


def test_saving_needs_a_key(store):
    with pytest.raises(SettingsError, match="Generate one with: rapidvet secret-key"):
        save(store, Settings(), STORED)


def test_registration_takes_up_credentials_another_process_stores(store, settings, tmp_path):
    registration = Registration(settings, store)
    other = SqliteStore(str(tmp_path / "rapidvet.db"))

    async def scenario() -> bool:
        stop = asyncio.Event()
        waiting = asyncio.create_task(registration.wait(stop))
        await asyncio.sleep(0.1)
        assert not waiting.done()
        save(other, settings, STORED)
        registered = await asyncio.wait_for(waiting, timeout=10)
        await registration.close()
        return registered

    assert asyncio.run(scenario())
    assert registration.credentials == STORED
    assert registration.github is not None and registration.github.settings.app_id == 77
    other.close()


def test_waiting_ends_when_stopped(store, settings):
    async def scenario() -> bool:
        stop = asyncio.Event()
        stop.set()
        return await Registration(settings, store).wait(stop)

    assert asyncio.run(scenario()) is False


# -- settings ------------------------------------------------------------------------------------


def test_app_settings_are_optional_and_new_ones_are_read():
    key = Fernet.generate_key().decode()
    settings = load_settings(
        {
            "RAPIDVET_PUBLIC_URL": "https://rapidvet.example.com/",
            "RAPIDVET_SECRET_KEY": key,
            "RAPIDVET_PAGES": "public",
            "RAPIDVET_CLIENT_ID": "Iv1.x",
        },
        None,
    )
    assert (settings.app_id, settings.private_key, settings.webhook_secret) == (0, "", "")
    assert settings.public_url == "https://rapidvet.example.com"
    assert (settings.secret_key, settings.pages, settings.client_id) == (key, "public", "Iv1.x")
    assert key not in repr(settings)
    assert load_settings({}, None).pages == "repo-readers"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("RAPIDVET_SECRET_KEY", "hunter2", "RAPIDVET_SECRET_KEY must be a Fernet key"),
        ("RAPIDVET_PAGES", "everyone", "RAPIDVET_PAGES must be one of public, repo-readers, off"),
        ("RAPIDVET_PUBLIC_URL", "rapidvet.example.com", "RAPIDVET_PUBLIC_URL must be an http(s)"),
    ],
)
def test_malformed_new_settings(name, value, message):
    with pytest.raises(SettingsError) as raised:
        load_settings({name: value}, None)
    assert str(raised.value).startswith(message) and "\n" not in str(raised.value)


def test_a_malformed_secret_key_error_says_how_to_make_one():
    with pytest.raises(
        SettingsError, match=r"generate one with: rapidvet secret-key \(or python3 -c"
    ):
        load_settings({"RAPIDVET_SECRET_KEY": "short"}, None)


# -- the manifest --------------------------------------------------------------------------------


def test_the_manifest_asks_for_exactly_what_the_app_needs():
    found = manifest("https://rapidvet.example.com", "")
    assert found == {
        "name": "rapidvet",
        "url": "https://rapidvet.example.com",
        "description": "Vets VPMOM plans in a Git handbook through RAPID reviews.",
        "hook_attributes": {"url": "https://rapidvet.example.com/webhooks", "active": True},
        "redirect_url": "https://rapidvet.example.com/setup/callback",
        "callback_urls": ["https://rapidvet.example.com/login/callback"],
        "setup_url": "https://rapidvet.example.com/",
        "public": False,
        "default_permissions": {
            "checks": "write",
            "contents": "write",
            "pull_requests": "write",
            "metadata": "read",
            "members": "read",
            "merge_queues": "read",
        },
        "default_events": [
            "pull_request",
            "pull_request_review",
            "check_run",
            "check_suite",
            "push",
            "merge_group",
        ],
    }
    assert manifest("https://h", "acme")["name"] == "rapidvet-acme"


def test_new_app_pages_for_a_user_and_an_organization():
    github = Settings(github_url="https://api.github.com").web_url
    ghes = Settings(github_url="https://ghe.example.com/api/v3").web_url
    fake = Settings(github_url="http://127.0.0.1:8123").web_url
    assert new_app_url(github, "") == "https://github.com/settings/apps/new"
    assert (
        new_app_url(ghes, "acme") == "https://ghe.example.com/organizations/acme/settings/apps/new"
    )
    assert new_app_url(fake, "") == "http://127.0.0.1:8123/settings/apps/new"
