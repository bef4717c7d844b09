"""Logging for every crmbot process: plain text, or JSON lines (CRMBOT_LOG_FORMAT=json).

Both formats redact tokens (Slack's xox…/xapp-…, Telegram's bot tokens, crmbot's API tokens
crm_… and webhook secrets whsec_…, every configured secret) from what they print. JSON lines
carry the time, level, logger, message and, when a failure was answered with a reference id,
that `ref`; an exception is its type and stack frames only: its message may quote a value (a
name, a note), and note text is customer data. Text keeps exception messages, except those of
aiohttp, which quote the raw request.
"""

from __future__ import annotations

import json
import logging
import re
import traceback
from collections.abc import Iterable
from datetime import UTC, datetime

TOKEN_SHAPES = re.compile(
    r"\bxox[abposrce]-[A-Za-z0-9-]{6,}"  # Slack bot, user and config tokens
    r"|\bxapp-[A-Za-z0-9-]{6,}"  # Slack app-level tokens
    r"|(?<![0-9])\d{5,12}:[A-Za-z0-9_-]{30,}"  # Telegram bot tokens, inside API URLs too
    # crmbot's API tokens and webhook signing secrets (43 and 32 characters after the mark),
    # whole or cut short as aiohttp quotes a header; "crm_core/…" is too short to match.
    r"|\bcrm_[A-Za-z0-9_-]{12,}"
    r"|\bwhsec_[A-Za-z0-9_-]{12,}"
)
# Loggers whose exception messages quote the raw request (a header, the URL, the body): aiohttp
# reports a request it could not parse with the bytes it choked on. Their frames are kept.
QUOTING_LOGGERS = ("aiohttp.",)
REDACTED = "[redacted]"
# Record attributes copied into a JSON line when a call passes them in `extra`.
EXTRAS = ("ref", "platform", "verb", "component")


class Redactor:
    """Replaces token-shaped strings and the configured secrets with [redacted]."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Longest first, so a secret that contains another is hidden whole; a short one (under
        # 8 characters) would blank out ordinary words.
        self.secrets = sorted({s for s in secrets if len(s) >= 8}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return TOKEN_SHAPES.sub(REDACTED, text)


class TextFormatter(logging.Formatter):
    """The usual one-line text format, redacted."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        exc = record.exc_info
        if exc and exc[0] is not None and record.name.startswith(QUOTING_LOGGERS):
            bare = logging.makeLogRecord({**record.__dict__, "exc_info": None, "exc_text": None})
            frames = "".join(traceback.format_list(traceback.extract_tb(exc[2])))
            return self.redact(
                f"{super().format(bare)}\nTraceback (most recent call last):\n{frames}"
                f"{exc[0].__name__} (its message quotes the request: left out)"
            )
        return self.redact(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": self.redact(record.getMessage()),
        }
        for key in EXTRAS:
            value = getattr(record, key, None)
            if value is not None:
                line[key] = self.redact(str(value))
        if record.exc_info and record.exc_info[0] is not None:
            exc_type, _, tb = record.exc_info
            line["error"] = exc_type.__name__
            line["trace"] = [
                f"{frame.filename}:{frame.lineno} in {frame.name}"
                for frame in traceback.extract_tb(tb)
            ]
        return json.dumps(line, ensure_ascii=False)


def configure(level: str, fmt: str, secrets: Iterable[str] = ()) -> None:
    """Send every log record to standard error in `fmt` ("text" or "json"), redacted."""
    redact = Redactor(secrets)
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter(redact) if fmt == "json" else TextFormatter(redact))
    # A no-op when the root logger has handlers already (a test runner's capture).
    logging.basicConfig(level=level.upper(), handlers=[handler])
