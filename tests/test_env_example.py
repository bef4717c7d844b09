"""`.env.example` documents every setting, with its real default."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from crm_core.settings import Settings, secret_fields

ENV_EXAMPLE = Path(__file__).resolve().parent.parent / ".env.example"
PREFIX = Settings.model_config.get("env_prefix", "")
LINE = re.compile(r"^#\s*([A-Z][A-Z0-9_]+)=(.*)$")


def _documented() -> dict[str, str]:
    """The commented-out `# CRMBOT_X=default` lines."""
    found: dict[str, str] = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        if match := LINE.match(line.strip()):
            assert match.group(1) not in found, f"{match.group(1)} appears twice"
            found[match.group(1)] = match.group(2)
    return found


def _env_name(field: str) -> str:
    return Settings.env_name(field)


def test_prefix_is_crmbot() -> None:
    """The variables this file checks are the ones Settings reads."""
    assert PREFIX == "CRMBOT_"


def test_every_setting_is_documented() -> None:
    """Each field of Settings appears as a commented-out `# NAME=default` line."""
    missing = [_env_name(f) for f in Settings.model_fields if _env_name(f) not in _documented()]
    assert not missing, f"document these in .env.example: {missing}"


def test_nothing_stale_is_documented() -> None:
    """Every documented variable is one Settings reads."""
    known = {_env_name(f) for f in Settings.model_fields}
    assert set(_documented()) <= known


def test_every_setting_has_a_comment_and_nothing_is_set() -> None:
    """Each variable comes after a line of explanation; no line sets a value."""
    lines = ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        stripped = line.strip()
        assert not stripped or stripped.startswith("#"), f"line {i + 1} is not commented out"
        if LINE.match(stripped):
            above = lines[i - 1].strip() if i else ""
            assert above.startswith("#") and not LINE.match(above), f"explain {stripped}"


def test_documented_values_are_the_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Uncommenting every line changes nothing."""
    for field in Settings.model_fields:
        monkeypatch.delenv(_env_name(field), raising=False)
    monkeypatch.chdir(tmp_path)
    default = Settings()
    env_file = tmp_path / ".env"
    env_file.write_text(
        "".join(f"{name}={value}\n" for name, value in _documented().items()), encoding="utf-8"
    )
    uncommented = Settings()
    assert uncommented.resolved_database_url() == default.resolved_database_url()
    assert uncommented.pipeline_stages() == default.pipeline_stages()
    derived = {"database_url", "stages"}
    assert uncommented.model_dump(exclude=derived) == default.model_dump(exclude=derived)


def test_the_readme_settings_table_names_every_setting() -> None:
    """Each setting appears in the README's Configuration table, not just somewhere in prose."""
    readme = (ENV_EXAMPLE.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    named = {name for row in rows for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split("|")[1])}
    missing = [_env_name(f) for f in Settings.model_fields if _env_name(f) not in named]
    assert not missing, f"add to the README's Configuration table: {missing}"


def test_the_secrets_that_may_come_from_files_are_listed() -> None:
    """The NAME_FILE paragraph names exactly the secret settings (and no other setting)."""
    text = ENV_EXAMPLE.read_text(encoding="utf-8")
    paragraph = text.split("# Secrets from files", 1)[1].split("\n\n", 1)[0]
    listed = set(re.findall(r"\b([A-Z][A-Z0-9_]+[A-Z0-9])\b", paragraph.split("The secrets:")[1]))
    assert listed == {_env_name(f) for f in secret_fields(Settings)}
    assert {"slack_bot_token", "database_url", "backup_key"} <= set(secret_fields(Settings))
