"""Logs: JSON lines with CRMBOT_LOG_FORMAT=json, the reference id of a failure, and never note
text or tokens (redacted in both formats)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.logs import JsonFormatter, Redactor, TextFormatter
from crm_core.db import make_engine, make_session_factory, unit_of_work, upgrade
from crm_core.services.users import add_user
from tests.bot.test_cli import _settings_env

ROOT = Path(__file__).resolve().parents[2]
SLACK_TOKEN = "xoxb-1111111111-2222222222-abcdefABCDEF"
TELEGRAM_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw_"
CONFIGURED = "configured-llm-key-0123456789"
NOTE = "Dana wants 12 percent off the renewal, confidential"


def _record(
    msg: str, *args: object, exc: BaseException | None = None, **extra: str
) -> logging.LogRecord:
    record = logging.LogRecord("bot.test", logging.ERROR, __file__, 1, msg, args, None)
    if exc is not None:
        record.exc_info = (type(exc), exc, exc.__traceback__)
    for k, v in extra.items():
        setattr(record, k, v)
    return record


def _raised(message: str) -> BaseException:
    try:
        raise ValueError(message)
    except ValueError as exc:
        return exc


def test_json_lines_redact_tokens_and_leave_out_exception_messages() -> None:
    """Tokens in a message are redacted; an exception is its type and frames, not its text."""
    fmt = JsonFormatter(Redactor([CONFIGURED]))
    line = fmt.format(
        _record(
            "calling %s with %s and %s",
            f"https://api.telegram.org/bot{TELEGRAM_TOKEN}/getMe",
            SLACK_TOKEN,
            CONFIGURED,
            exc=_raised(NOTE),
            ref="a1b2c3d4",
            platform="slack",
        )
    )
    data = json.loads(line)
    assert data["level"] == "ERROR" and data["logger"] == "bot.test"
    assert data["ref"] == "a1b2c3d4" and data["platform"] == "slack"
    assert data["error"] == "ValueError"
    assert data["trace"] and data["trace"][0].endswith("in _raised")
    assert data["message"].count("[redacted]") == 3
    for secret in (SLACK_TOKEN, TELEGRAM_TOKEN, CONFIGURED, NOTE, "xoxb-"):
        assert secret not in line
    text = TextFormatter(Redactor([CONFIGURED])).format(_record("token %s", SLACK_TOKEN))
    assert SLACK_TOKEN not in text and "[redacted]" in text


@pytest.fixture
def book(tmp_path: Path) -> Path:
    """A SQLite book with alice and a customer."""
    path = tmp_path / "crm.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with unit_of_work(make_session_factory(engine)) as s:
        add_user(s, "alice", "Alice", role="rep", team="East")
    engine.dispose()
    return path


def _crmbot(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in set(_settings_env())}
    env |= {
        "PYTHONPATH": str(ROOT),
        "CRMBOT_DATABASE_URL": f"sqlite:///{path}",
        "CRMBOT_LOG_FORMAT": "json",
        "CRMBOT_LOG_LEVEL": "DEBUG",
        "SLACK_BOT_TOKEN": SLACK_TOKEN,
        "CRMBOT_LLM_API_KEY": CONFIGURED,
    }
    return subprocess.run(
        [sys.executable, "-c", "from bot.cli import main; main()", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=path.parent,
        timeout=180,
        check=False,
    )


def test_commands_log_json_lines_with_the_reference_and_no_note_or_token(book: Path) -> None:
    """A note with a token in it and a command that fails: JSON lines, the failure's reference
    id, and neither the note text nor a token anywhere in the logs."""
    made = _crmbot(book, "run", "--as", "alice", "new customer Acme")
    assert made.returncode == 0, made.stderr
    logged = _crmbot(book, "run", "--as", "alice", f"log call Acme: {NOTE} {TELEGRAM_TOKEN}")
    assert logged.returncode == 0, logged.stderr
    # A real failure inside the unit of work: the database refuses every audit row.
    engine = make_engine(f"sqlite:///{book}")
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TRIGGER no_audit BEFORE INSERT ON audit_entries "
            "BEGIN SELECT RAISE(ABORT, 'the disk is on fire'); END"
        )
    engine.dispose()
    failed = _crmbot(book, "run", "--as", "alice", f"log call Acme: {NOTE} {SLACK_TOKEN}")
    assert failed.returncode == 1
    ref = failed.stdout.strip().rsplit(" ", 1)[-1].rstrip(".")
    assert len(ref) == 8, failed.stdout

    lines = [json.loads(x) for p in (made, logged, failed) for x in p.stderr.splitlines() if x]
    assert all({"time", "level", "logger", "message"} <= set(x) for x in lines)
    failures = [x for x in lines if x.get("ref") == ref]
    assert len(failures) == 1
    assert failures[0]["level"] == "ERROR" and failures[0]["error"] == "IntegrityError"
    assert failures[0]["platform"] == "cli" and failures[0]["verb"] == "log"
    everything = made.stderr + logged.stderr + failed.stderr
    for secret in (NOTE, "12 percent", SLACK_TOKEN, TELEGRAM_TOKEN, CONFIGURED, "disk is on fire"):
        assert secret not in everything


API_TOKEN = "crm_OfYblHkehg-_qEf9tUKLSuAiV5ueF44zYukKQ-cPciY"
WEBHOOK_SECRET = "whsec_3q2-7Xb0KpLrTzY8mWnQa1sVdE4fGhJk"


def test_api_tokens_and_webhook_secrets_are_redacted_in_both_formats() -> None:
    """crm_… and whsec_… are redacted like Slack's and Telegram's, whole or cut short, and an
    aiohttp parse error that quotes the raw request is logged without its message in text."""
    from aiohttp.http_exceptions import LineTooLong

    redact = Redactor()
    quoted = f"b'Bearer {API_TOKEN[:30]}'"
    for fmt in (TextFormatter(redact), JsonFormatter(redact)):
        out = fmt.format(_record("token %s secret %s cut %s", API_TOKEN, WEBHOOK_SECRET, quoted))
        assert API_TOKEN[:20] not in out and WEBHOOK_SECRET[:20] not in out
        assert out.count("[redacted]") == 3
    # Module paths and ordinary words that start so are left alone.
    assert redact("crm_core/services/api_tokens.py crm_ whsec_") == (
        "crm_core/services/api_tokens.py crm_ whsec_"
    )
    # Built apart from the raise: a frame shows its source line.
    line = f"b'GET /api/v1/customers?q=SecretCustomerName{'b' * 80}'"
    try:
        raise LineTooLong(line, "8190")
    except LineTooLong as exc:
        record = logging.LogRecord(
            "aiohttp.server",
            logging.ERROR,
            __file__,
            1,
            "Error handling request from %s",
            ("127.0.0.1",),
            (type(exc), exc, exc.__traceback__),
        )
    text = TextFormatter(redact).format(record)
    assert "SecretCustomerName" not in text
    assert "Error handling request from 127.0.0.1" in text and "LineTooLong" in text
    assert "test_api_tokens_and_webhook_secrets" in text  # the frames are kept
