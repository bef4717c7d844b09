"""Configuration read from the environment (pydantic-settings)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from crm_core.stages import DEFAULT_STAGES, Stage, parse_stages


class Settings(BaseSettings):
    """Every knob of crmbot; each one is documented in .env.example."""

    model_config = SettingsConfigDict(env_prefix="CRMBOT_", env_file=".env", extra="ignore")

    data_dir: Path = Path("./data")
    database_url: str | None = None
    stages: str = Field(default="", description="name:probability[:won|lost],... in order")
    default_currency: str = "USD"
    default_timezone: str = "UTC"
    default_locale: str = "en"
    log_level: str = "INFO"

    @field_validator("stages")
    @classmethod
    def _valid_stages(cls, value: str) -> str:
        if value.strip():
            parse_stages(value)  # raises ValueError with a message naming the bad stage
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
