"""`crmbot ask --customer` and `--batch`: a customer the asker cannot see is not there."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select, update

from bot.cli import main
from crm_core.db import unit_of_work
from crm_core.models import Customer
from tests.conftest import TestBot


def _env(testbot: TestBot, tmp_path: Path) -> dict[str, str]:
    url = str(testbot.session_factory.kw["bind"].url.render_as_string(hide_password=False))
    return {"CRMBOT_DATABASE_URL": url, "CRMBOT_DATA_DIR": str(tmp_path / "cli")}


def _books(testbot: TestBot) -> int:
    """Alice owns Acme (external id c1); Dave owns Globex (c2). Returns Globex's id."""
    testbot("alice", "new customer Acme")
    testbot("alice", "log call Acme: Dana wants 12% off the renewal")
    testbot("dave", "new customer Globex")
    testbot("dave", "log call Globex: secret pricing talk")
    with unit_of_work(testbot.session_factory) as session:
        session.execute(update(Customer).where(Customer.name == "Acme").values(external_id="c1"))
        session.execute(update(Customer).where(Customer.name == "Globex").values(external_id="c2"))
        return int(session.scalars(select(Customer.id).where(Customer.name == "Globex")).one())


def test_ask_about_a_hidden_customer_answers_like_a_missing_one(
    testbot: TestBot, tmp_path: Path
) -> None:
    """`--customer c2` (Dave's) says what `--customer c999` says, with no id in it."""
    globex = _books(testbot)
    runner, env = CliRunner(), _env(testbot, tmp_path)

    def ask(ref: str, *extra: str) -> tuple[int, str]:
        res = runner.invoke(
            main, ["ask", "--as", "alice", "--customer", ref, *extra, "q?"], env=env
        )
        return res.exit_code, res.output.replace(ref, "<ref>")

    hidden, missing = ask("c2"), ask("c999")
    assert hidden == missing
    assert hidden[0] != 0 and f"#{globex}" not in hidden[1]
    assert ask("c2", "--json") == ask("c999", "--json")
    # Dave, whose customer it is, is answered.
    mine = runner.invoke(main, ["ask", "--as", "dave", "--customer", "c2", "pricing?"], env=env)
    assert mine.exit_code == 0, mine.output


def test_batch_about_a_hidden_customer_answers_like_a_missing_one(
    testbot: TestBot, tmp_path: Path
) -> None:
    """In `--batch`, a line about c2 fails with the words a line about c999 gets."""
    _books(testbot)
    batch = tmp_path / "q.jsonl"
    lines = [
        {"id": "hidden", "asker": "alice", "customer": "c2", "question": "pricing?"},
        {"id": "missing", "asker": "alice", "customer": "c999", "question": "pricing?"},
        {"id": "own", "asker": "alice", "customer": "c1", "question": "renewal discount?"},
    ]
    batch.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    res = CliRunner().invoke(
        main, ["ask", "--batch", str(batch), "--json"], env=_env(testbot, tmp_path)
    )
    assert res.exit_code == 0, res.output
    out = {x["id"]: x for x in map(json.loads, res.output.splitlines())}
    hidden = out["hidden"]["error"].replace("c2", "<ref>").replace("line 1", "line N")
    missing = out["missing"]["error"].replace("c999", "<ref>").replace("line 2", "line N")
    assert hidden == missing
    assert out["own"]["sources"]
