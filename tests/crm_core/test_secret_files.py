"""Secrets from files (the Docker secrets convention): NAME_FILE sets the secret NAME."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic_settings import SettingsError

from bot.cli import main
from crm_core.settings import Settings, env_names, secret_fields

SECRETS = secret_fields(Settings)


@pytest.fixture
def clean(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No setting (or NAME_FILE) from the environment, and an empty working folder."""
    for name in Settings.model_fields:
        for env in env_names(Settings, name):
            monkeypatch.delenv(env, raising=False)
            monkeypatch.delenv(f"{env}_FILE", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _value(settings: Settings, field: str) -> str:
    value = getattr(settings, field)
    return value if isinstance(value, str) else value.get_secret_value()


@pytest.mark.parametrize("field", SECRETS)
def test_every_secret_may_come_from_a_file(
    clean: Path, monkeypatch: pytest.MonkeyPatch, field: str
) -> None:
    """Each name a secret answers to (SLACK_BOT_TOKEN and CRMBOT_SLACK_BOT_TOKEN) has a _FILE."""
    for env in env_names(Settings, field):
        secret = clean / "secret"
        secret.write_text(f"  s3cret-{env}\n", encoding="utf-8")
        monkeypatch.setenv(f"{env}_FILE", str(secret))
        assert _value(Settings(), field) == f"s3cret-{env}"
        monkeypatch.delenv(f"{env}_FILE")
    assert getattr(Settings(), field) is None


def test_a_file_named_in_dot_env_is_read_too(clean: Path) -> None:
    """NAME_FILE works in .env like every other setting; the environment still wins."""
    (clean / "token").write_text("xoxb-from-file", encoding="utf-8")
    (clean / ".env").write_text(f"SLACK_BOT_TOKEN_FILE={clean / 'token'}\n", encoding="utf-8")
    assert _value(Settings(), "slack_bot_token") == "xoxb-from-file"


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        (
            {"SLACK_BOT_TOKEN": "xoxb-inline"},
            "set SLACK_BOT_TOKEN or SLACK_BOT_TOKEN_FILE, not both",
        ),
        ({}, "which cannot be read"),
    ],
)
def test_clashes_and_unreadable_files_are_refused(
    clean: Path, monkeypatch: pytest.MonkeyPatch, env: dict[str, str], problem: str
) -> None:
    """Both set, or a file that is missing, refuse to start; neither value is quoted."""
    path = clean / ("token" if env else "missing")
    if env:
        path.write_text("xoxb-from-file", encoding="utf-8")
    monkeypatch.setenv("SLACK_BOT_TOKEN_FILE", str(path))
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(SettingsError, match=problem) as info:
        Settings()
    assert "xoxb" not in str(info.value)


def test_an_empty_file_is_refused_and_the_cli_says_so_in_one_line(
    clean: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`crmbot` names the variable and the file, exits 2, and prints no traceback."""
    (clean / "key").write_text("\n", encoding="utf-8")
    monkeypatch.setenv("CRMBOT_BACKUP_KEY_FILE", str(clean / "key"))
    result = CliRunner().invoke(main, ["db", "current"])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"Configuration error: CRMBOT_BACKUP_KEY_FILE names {clean / 'key'}, which is empty. "
        "See .env.example."
    )
