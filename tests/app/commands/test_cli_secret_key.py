"""`rapidvet secret-key` prints a new Fernet key each time: what RAPIDVET_SECRET_KEY takes."""

from __future__ import annotations

import subprocess

from cryptography.fernet import Fernet

from rapidvet.app.settings import Settings, load_settings
from tests.support.service import RAPIDVET


def printed_key() -> str:
    made = subprocess.run([RAPIDVET, "secret-key"], capture_output=True, text=True, check=True)
    assert made.stdout.endswith("\n") and made.stdout.count("\n") == 1, made.stdout
    return made.stdout.strip()


def test_secret_key_prints_a_new_key_the_settings_take():
    key, other = printed_key(), printed_key()
    assert key != other
    Fernet(key)  # 32 url-safe base64-encoded bytes, or it raises
    settings: Settings = load_settings({"RAPIDVET_SECRET_KEY": key}, env_file=None)
    assert settings.secret_key == key
