"""The Slack manifest and the README command table are written from the verb declarations, and
the committed files say what the declarations say."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from bot.cli import main
from bot.docs import END, START, commands_table, with_table
from bot.slack.manifest import manifest, usage_hint
from handlers.args import Arg, Kind
from handlers.registry import Verb
from handlers.reply import Reply
from handlers.verbs import all_verbs

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "bot" / "slack" / "manifest.yml"
README = ROOT / "README.md"
FIX = "a verb was added or changed: run `crmbot docs {what} --write {path}`"


def _extra_verb() -> Verb:
    def handler(_req: object) -> Reply:
        return Reply()

    return Verb(
        "frobnicate",
        handler,  # type: ignore[arg-type]
        (Arg("customer", Kind.name),),
        examples=("frobnicate Acme",),
        writes=False,
        aliases=("捣鼓",),
    )


def _slash_command(text: str) -> dict[str, object]:
    (command,) = yaml.safe_load(text)["features"]["slash_commands"]
    assert isinstance(command, dict)
    return command


def test_committed_manifest_matches_the_declarations() -> None:
    """bot/slack/manifest.yml is what `crmbot docs manifest` writes today."""
    committed = MANIFEST.read_text(encoding="utf-8")
    assert committed == manifest(all_verbs()), FIX.format(what="manifest", path=MANIFEST.name)
    command = _slash_command(committed)
    hint = str(command["usage_hint"])
    assert hint.split(" | ") == [v.name for v in all_verbs()]
    # Slack's manifest schema: usage_hint at most 1000 characters, description 2000.
    assert len(hint) <= 1000 and len(str(command["description"])) <= 2000
    assert command["command"] == "/crm" and command["should_escape"] is True


def test_readme_table_matches_the_declarations() -> None:
    """The README's command table is what `crmbot docs commands` writes today."""
    readme = README.read_text(encoding="utf-8")
    assert with_table(readme, commands_table(all_verbs())) == readme, FIX.format(
        what="commands", path="README.md"
    )
    table = readme[readme.index(START) : readme.index(END)]
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    assert len(rows) == len(all_verbs())
    for verb, row in zip(all_verbs(), rows, strict=True):
        assert row.startswith(f"| `{verb.usage.replace('|', chr(92) + '|')}`"), row
        assert all(alias in row for alias in verb.chinese), (verb.name, row)


def test_a_changed_declaration_makes_both_drift() -> None:
    """The checks above fail when a declaration changes and the files are not regenerated."""
    verbs = [*all_verbs(), _extra_verb()]
    assert manifest(verbs) != MANIFEST.read_text(encoding="utf-8")
    assert usage_hint(verbs).endswith(" | whoami | frobnicate")
    # A new Chinese alias for whoami changes its README row.
    renamed = [
        replace(v, aliases=(*v.aliases, "我是哪位")) if v.name == "whoami" else v
        for v in all_verbs()
    ]
    readme = README.read_text(encoding="utf-8")
    updated = with_table(readme, commands_table(renamed))
    assert updated != readme
    assert "| 我是谁 / 我是哪位 |" in updated


def test_cli_prints_and_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`crmbot docs manifest|commands` print the files; --write updates them in place."""
    monkeypatch.setenv("CRMBOT_DATA_DIR", str(tmp_path))
    runner = CliRunner()
    printed = runner.invoke(main, ["docs", "manifest"], catch_exceptions=False)
    assert printed.exit_code == 0 and printed.output == MANIFEST.read_text(encoding="utf-8")

    stale = tmp_path / "README.md"
    stale.write_text(f"# Title\n\n{START}\n| old | table |\n{END}\n\nMore.\n", encoding="utf-8")
    wrote = runner.invoke(main, ["docs", "commands", "--write", str(stale)])
    assert wrote.exit_code == 0, wrote.output
    text = stale.read_text(encoding="utf-8")
    assert text.startswith(f"# Title\n\n{START}\n| command | 中文 | what it does |")
    assert text.endswith(f"{END}\n\nMore.\n") and "| old | table |" not in text

    stale.write_text("# No markers\n", encoding="utf-8")
    refused = runner.invoke(main, ["docs", "commands", "--write", str(stale)])
    assert refused.exit_code == 2 and "no command-table markers" in refused.output
    assert stale.read_text(encoding="utf-8") == "# No markers\n"
