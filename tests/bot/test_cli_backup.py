"""`crmbot backup FILE` and `crmbot restore FILE`: exit 0 on success, one clear line and a
non-zero exit on failure, and a refused restore writes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.bot.test_cli import _settings_env, invoke


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty data directory, SQLite, and no stray settings from the environment or .env."""
    for name in _settings_env():
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CRMBOT_DATA_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def ready(data_dir: Path) -> CliRunner:
    """A runner over an upgraded database."""
    runner = CliRunner()
    assert invoke(runner, "db", "upgrade").exit_code == 0
    return runner


@pytest.fixture
def book(ready: CliRunner, data_dir: Path) -> Path:
    """A demo book of 12 customers in the data directory; returns its export."""
    data = data_dir / "demo.jsonl"
    assert invoke(ready, "demo-data", "--customers", "12", "--out", str(data)).exit_code == 0
    assert invoke(ready, "import", str(data)).exit_code == 0
    out = data_dir / "before.jsonl"
    assert invoke(ready, "export", str(out)).exit_code == 0
    return out


def _one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    return lines[0]


def test_backup_then_restore_elsewhere_gives_the_same_export(
    ready: CliRunner, book: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a key: backup, restore into a new data directory, export: identical."""
    monkeypatch.setenv("CRMBOT_BACKUP_KEY", "s3cret phrase of the day")
    archive = data_dir / "book.crmbak"
    made = invoke(ready, "backup", str(archive))
    assert made.exit_code == 0, made.output
    assert "12 customers" in made.stdout and "encrypted" in made.stdout
    again = invoke(ready, "backup", str(archive))
    assert again.exit_code == 2 and "exists already" in _one_line(again.stderr)

    monkeypatch.setenv("CRMBOT_DATA_DIR", str(data_dir / "other"))
    restored = invoke(ready, "restore", str(archive))
    assert restored.exit_code == 0, restored.output
    assert "Restored" in restored.stdout and "crmbot reindex" in restored.stdout
    after = data_dir / "after.jsonl"
    assert invoke(ready, "export", str(after)).exit_code == 0
    assert after.read_text(encoding="utf-8") == book.read_text(encoding="utf-8")

    refused = invoke(ready, "restore", str(archive))
    assert refused.exit_code == 2
    assert "is not empty (customers: 12" in _one_line(refused.stderr)


def test_wrong_key_and_truncated_archive_are_refused_with_nothing_written(
    ready: CliRunner, book: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One line, exit 2, and no database file appears."""
    monkeypatch.setenv("CRMBOT_BACKUP_KEY", "the right key, long enough")
    archive = data_dir / "book.crmbak"
    assert invoke(ready, "backup", str(archive)).exit_code == 0
    target = data_dir / "other"
    monkeypatch.setenv("CRMBOT_DATA_DIR", str(target))

    monkeypatch.setenv("CRMBOT_BACKUP_KEY", "the wrong key, long enough")
    wrong = invoke(ready, "restore", str(archive))
    assert wrong.exit_code == 2
    assert _one_line(wrong.stderr).startswith("Wrong key for ")

    monkeypatch.setenv("CRMBOT_BACKUP_KEY", "the right key, long enough")
    cut = data_dir / "cut.crmbak"
    cut.write_bytes(archive.read_bytes()[:-100])
    truncated = invoke(ready, "restore", str(cut))
    assert truncated.exit_code == 2
    assert "truncated" in _one_line(truncated.stderr)

    missing = invoke(ready, "restore", str(data_dir / "nope.crmbak"))
    assert missing.exit_code == 2 and "No backup at" in _one_line(missing.stderr)
    assert not (target / "crmbot.sqlite").exists()


def test_backups_are_private_keys_must_be_real_and_folders_exist(
    ready: CliRunner, book: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The archive is 0600; a blank or short key and a missing folder are refused in one line,
    exit 2, with no file written."""
    plain = data_dir / "plain.crmbak"
    assert invoke(ready, "backup", str(plain)).exit_code == 0
    assert plain.stat().st_mode & 0o777 == 0o600
    for key, why in (("   ", "is set but blank"), ("short", "too short")):
        monkeypatch.setenv("CRMBOT_BACKUP_KEY", key)
        refused = invoke(ready, "backup", str(data_dir / "k.crmbak"))
        assert refused.exit_code == 2 and why in _one_line(refused.stderr), refused.output
        assert not (data_dir / "k.crmbak").exists()
    monkeypatch.setenv("CRMBOT_BACKUP_KEY", "a key of enough characters")
    sealed = data_dir / "sealed.crmbak"
    assert invoke(ready, "backup", str(sealed)).exit_code == 0
    assert sealed.stat().st_mode & 0o777 == 0o600
    nowhere = data_dir / "no" / "such" / "dir" / "x.crmbak"
    missing = invoke(ready, "backup", str(nowhere))
    assert missing.exit_code == 2 and "No folder" in _one_line(missing.stderr)
    assert not (data_dir / "no").exists()


def test_restore_pauses_webhooks_until_an_admin_resumes_them(
    ready: CliRunner, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A restored copy (a drill) posts nothing to the production receivers: restore pauses
    every webhook and says how to resume one; its owed and new events wait, in order, and go
    once an admin types `webhook resume #1`."""
    from crm_core.db import make_engine, make_session_factory
    from schedules.webhooks import WebhookDispatcher

    assert invoke(ready, "user", "add", "ada", "--name", "Ada", "--role", "admin").exit_code == 0
    added = invoke(
        ready, "run", "--as", "ada", "webhook add http://127.0.0.1:9/prod events customer.created"
    )
    assert added.exit_code == 0, added.output
    assert invoke(ready, "run", "--as", "ada", "new customer Acme").exit_code == 0
    archive = data_dir / "book.crmbak"
    assert invoke(ready, "backup", str(archive)).exit_code == 0

    monkeypatch.setenv("CRMBOT_DATA_DIR", str(data_dir / "drill"))
    restored = invoke(ready, "restore", str(archive))
    assert restored.exit_code == 0, restored.output
    assert "Webhooks #1 are paused on this copy" in restored.stdout
    assert "`webhook resume #1`" in restored.stdout
    assert invoke(ready, "run", "--as", "ada", "new customer Drill Test").exit_code == 0
    assert "Paused" in invoke(ready, "run", "--as", "ada", "webhooks").stdout

    engine = make_engine(f"sqlite:///{data_dir / 'drill' / 'crmbot.sqlite'}")
    try:
        dispatcher = WebhookDispatcher(make_session_factory(engine))
        assert dispatcher.claim() == []
        resumed = invoke(ready, "run", "--as", "ada", "webhook resume #1")
        assert resumed.exit_code == 0 and "back on" in resumed.stdout, resumed.output
        again = invoke(ready, "run", "--as", "ada", "webhook resume #1")
        assert again.exit_code == 1 and "not paused" in again.stdout
        owed = dispatcher.claim()
        assert [o.body.decode().count("Acme") for o in owed] == [1, 0]
        assert "Drill Test" in owed[1].body.decode()
    finally:
        engine.dispose()
