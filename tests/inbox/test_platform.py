import io
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.core.management import call_command
from django.db import connection

from agentiq.crypto import mask_secret
from tests.factories import make_account

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_migrations_are_in_step_with_models():
    out = io.StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


@pytest.mark.django_db
def test_healthz_reports_database_and_redis_ok(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "redis": "ok"}


@pytest.mark.django_db
def test_healthz_names_redis_when_it_does_not_answer(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "ok", "redis": "unavailable"}


@pytest.mark.django_db
def test_account_credentials_are_encrypted_at_rest(workspace):
    account = make_account(workspace=workspace, credentials={"token": "secret-wb-token-1234"})

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT credentials FROM inbox_marketplaceaccount WHERE id = %s", [account.pk]
        )
        stored = cursor.fetchone()[0]
    account.refresh_from_db()

    assert "secret-wb-token" not in stored
    assert account.credentials == {"token": "secret-wb-token-1234"}


def test_mask_secret_shows_only_last_four_characters():
    assert mask_secret("abcdefgh1234") == "••••1234"
    assert mask_secret("abc") == "••••"


@pytest.mark.parametrize(
    ("extra_env", "message"),
    [
        ({}, "set SECRET_KEY"),
        ({"SECRET_KEY": "x" * 50}, "set FIELD_ENCRYPTION_KEY"),
    ],
)
def test_production_settings_refuse_default_secrets(extra_env, message):
    env = {
        "DEBUG": "false",
        "PATH": "/usr/bin:/bin",
        "REDIS_URL": "redis://127.0.0.1:6379/9",
        **extra_env,
    }
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "agentiq.settings"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert message in result.stderr


def test_russian_translation_is_complete():
    po = polib.pofile(str(ROOT / "locale/ru/LC_MESSAGES/django.po"))

    untranslated = [entry.msgid for entry in po.untranslated_entries()]
    fuzzy = [entry.msgid for entry in po.fuzzy_entries()]
    assert (untranslated, fuzzy) == ([], [])
    assert (ROOT / "locale/ru/LC_MESSAGES/django.mo").stat().st_mtime >= (
        ROOT / "locale/ru/LC_MESSAGES/django.po"
    ).stat().st_mtime - 1
