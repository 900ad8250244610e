"""Production mode refuses the development keys, and `check --deploy` is clean with real ones."""

import base64
import os
import secrets
import subprocess
import sys

from django.conf import settings

MANAGE = str(settings.BASE_DIR / "manage.py")


def run_manage(*args, **env):
    inherited = ("SECRET_KEY", "KEY_ENCRYPTION_KEY", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE")
    clean = {k: v for k, v in os.environ.items() if k not in inherited}
    return subprocess.run(
        [sys.executable, MANAGE, *args],
        env={**clean, "LOG_TO_FILES": "false", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def production_env(**overrides):
    env = {
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "KEY_ENCRYPTION_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "ALLOWED_HOSTS": "books.example.com",
    }
    env.update(overrides)
    return env


def test_production_refuses_default_secret_key():
    env = production_env()
    del env["SECRET_KEY"]
    result = run_manage("check", **env)
    assert result.returncode != 0
    assert "set SECRET_KEY" in result.stderr


def test_production_refuses_default_key_encryption_key():
    env = production_env()
    del env["KEY_ENCRYPTION_KEY"]
    result = run_manage("check", **env)
    assert result.returncode != 0
    assert "set KEY_ENCRYPTION_KEY" in result.stderr


def test_check_deploy_is_clean_in_production_mode():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", **production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_development_defaults_need_no_environment():
    result = run_manage("check", DEBUG="true")
    assert result.returncode == 0, result.stderr
