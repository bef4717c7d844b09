"""The `crmbot` command line, run through click's CliRunner and as the installed script."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select, update

from bot.cli import main
from crm_core.db import head_revision, make_engine, make_session_factory
from crm_core.models import Customer, Interaction, Reminder, ReminderStatus, User
from crm_core.settings import Settings


def _settings_env() -> list[str]:
    names = [Settings.env_name(name) for name in Settings.model_fields]
    return names + [f"CRMBOT_{name.upper()}" for name in Settings.model_fields]


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty data directory, SQLite, and no stray settings from the environment or .env."""
    for name in _settings_env():
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CRMBOT_DATA_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def cli(data_dir: Path) -> CliRunner:
    """A runner over the data directory."""
    return CliRunner()


def invoke(runner: CliRunner, *args: str, stdin: str | None = None) -> Result:
    """Run `crmbot ARGS`."""
    return runner.invoke(main, list(args), input=stdin, catch_exceptions=False)


@pytest.fixture
def ready(cli: CliRunner) -> CliRunner:
    """An upgraded database with alice in it."""
    assert invoke(cli, "db", "upgrade").exit_code == 0
    result = invoke(cli, "user", "add", "alice", "--name", "Alice Ng", "--team", "East")
    assert result.exit_code == 0, result.output
    return cli


def _customers(data_dir: Path) -> list[str]:
    engine = make_engine(f"sqlite:///{data_dir / 'crmbot.sqlite'}")
    try:
        with make_session_factory(engine)() as session:
            return sorted(session.scalars(select(Customer.name)))
    finally:
        engine.dispose()


def test_db_upgrade_and_current(cli: CliRunner, data_dir: Path) -> None:
    """`db current` says empty, `db upgrade` migrates into the data directory, then current."""
    head = head_revision()
    before = invoke(cli, "db", "current")
    assert before.exit_code == 0
    assert before.stdout.strip() == f"database: empty; code: {head}"

    up = invoke(cli, "db", "upgrade")
    assert up.exit_code == 0, up.output
    assert head in up.stdout
    assert (data_dir / "crmbot.sqlite").is_file()

    after = invoke(cli, "db", "current")
    assert after.stdout.strip() == f"database: {head}; code: {head}"
    # Upgrading again is harmless.
    assert invoke(cli, "db", "upgrade").exit_code == 0


def test_user_add(ready: CliRunner, data_dir: Path) -> None:
    """A user is created with the given role, team, zone and locale."""
    result = invoke(
        ready,
        "user",
        "add",
        "bob",
        "--name",
        "Bob Li",
        "--role",
        "manager",
        "--team",
        "East",
        "--timezone",
        "Asia/Shanghai",
        "--locale",
        "zh",
    )
    assert result.exit_code == 0, result.output
    assert "@bob" in result.stdout and "manager" in result.stdout
    listing = invoke(ready, "user", "list").stdout
    assert "@alice\tAlice Ng\trep\tEast\tUTC" in listing
    assert "@bob\tBob Li\tmanager\tEast\tAsia/Shanghai" in listing
    engine = make_engine(f"sqlite:///{data_dir / 'crmbot.sqlite'}")
    with make_session_factory(engine)() as session:
        bob = session.scalars(select(User).where(User.external_id == "bob")).one()
        assert (bob.locale, bob.timezone) == ("zh", "Asia/Shanghai")
    engine.dispose()


def test_user_add_bad_timezone(ready: CliRunner) -> None:
    """An unknown zone is refused with exit code 2 and an example of a good one."""
    result = invoke(ready, "user", "add", "zed", "--name", "Zed", "--timezone", "Mars/Olympus")
    assert result.exit_code == 2
    assert "Mars/Olympus" in result.stderr
    assert "Europe/Berlin" in result.stderr
    assert "@zed" not in invoke(ready, "user", "list").stdout


def test_user_add_duplicate_handle(ready: CliRunner) -> None:
    """A second @alice is refused with exit code 2 and says why."""
    result = invoke(ready, "user", "add", "alice", "--name", "Another Alice")
    assert result.exit_code == 2
    assert "already" in result.stderr and "@alice" in result.stderr
    assert "Another Alice" not in invoke(ready, "user", "list").stdout


def test_user_add_bad_role_is_a_usage_error(ready: CliRunner) -> None:
    """click itself refuses a role that does not exist."""
    result = invoke(ready, "user", "add", "zed", "--name", "Zed", "--role", "boss")
    assert result.exit_code == 2
    assert "boss" in result.stderr


def test_run_creates_a_customer(ready: CliRunner, data_dir: Path) -> None:
    """`run --as alice` runs one command and prints the reply as text."""
    result = invoke(ready, "run", "--as", "alice", "new customer Acme")
    assert result.exit_code == 0, result.output
    assert "Acme" in result.stdout
    assert "[1] " in result.stdout
    assert _customers(data_dir) == ["Acme"]


def test_run_json(ready: CliRunner) -> None:
    """`run --json` prints the Reply as JSON."""
    assert invoke(ready, "run", "--as", "alice", "new customer Acme").exit_code == 0
    result = invoke(ready, "run", "--as", "@alice", "--json", "customer Acme")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["title"] == "Acme"
    assert data["status"] == "ok"
    assert data["image"] is None
    assert any(f["value"] == "Alice Ng" for f in data["fields"])
    assert all({"label", "action", "payload"} <= set(b) for b in data["buttons"])


def test_run_failure_exits_non_zero(ready: CliRunner) -> None:
    """A command that fails prints why and exits 1."""
    result = invoke(ready, "run", "--as", "alice", "--json", "customer Nowhere Inc")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["status"] == "error"


def test_run_unknown_user(ready: CliRunner, data_dir: Path) -> None:
    """An unknown user is refused before anything runs."""
    result = invoke(ready, "run", "--as", "nobody", "new customer Acme")
    assert result.exit_code == 2
    assert "nobody" in result.stderr
    assert _customers(data_dir) == []


def test_run_on_a_database_that_is_not_upgraded(cli: CliRunner, data_dir: Path) -> None:
    """Every command that needs the schema says to run `crmbot db upgrade`."""
    for args in (
        ["run", "--as", "alice", "help"],
        ["user", "add", "alice", "--name", "Alice"],
        ["user", "list"],
    ):
        result = invoke(cli, *args)
        assert result.exit_code != 0, args
        assert "crmbot db upgrade" in result.stderr, args
        assert "Traceback" not in result.output


def test_bad_stages_setting_is_a_clear_error(
    ready: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bad setting names the variable and exits 2, like every other refusal."""
    monkeypatch.setenv("CRMBOT_STAGES", "garbage")
    result = ready.invoke(main, ["run", "--as", "alice", "help"])
    assert result.exit_code == 2
    assert "CRMBOT_STAGES" in result.stderr and "garbage" in result.stderr


def _crmbot() -> str:
    found = Path(sys.executable).parent / "crmbot"
    if found.is_file():
        return str(found)
    which = shutil.which("crmbot")
    if which is None:
        pytest.fail("the crmbot console script is not installed (pip install -e .)")
    return which


def _console(data_dir: Path, args: list[str], lines: str) -> subprocess.CompletedProcess[str]:
    """The installed `crmbot console ARGS` with `lines` piped in, settings from `data_dir` only."""
    env = {k: v for k, v in os.environ.items() if k not in _settings_env()}
    env["CRMBOT_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [_crmbot(), "console", *args],
        input=lines,
        capture_output=True,
        text=True,
        env=env,
        cwd=data_dir,
        timeout=120,
        check=False,
    )


def test_console_script_reads_commands_from_stdin(ready: CliRunner, data_dir: Path) -> None:
    """The installed `crmbot console --as alice` answers each piped line, then exits."""
    proc = _console(
        data_dir, ["--as", "alice"], "new customer Acme Logistics\ncustomer Acme Logistics\n"
    )
    assert proc.returncode == 0, proc.stderr
    first, second = proc.stdout.strip().split("\n\n", 1)
    assert "Acme Logistics" in first
    # The card of the second command: title, underline, owner.
    assert second.startswith("Acme Logistics\n====")
    assert "Alice Ng" in second
    assert "crm> " not in proc.stdout
    assert _customers(data_dir) == ["Acme Logistics"]


def test_serve_without_a_platform_serves_health_metrics_and_the_api_and_says_so(
    ready: CliRunner, data_dir: Path
) -> None:
    """No platform token: the installed `crmbot serve` says what it serves and how to add a
    platform, answers /healthz, /metrics and /api/v1 to a personal token, never prints the
    token, and stops cleanly on SIGTERM. (One server for all: each start takes seconds.)"""
    import re
    import signal
    import urllib.request

    token = invoke(ready, "token", "create", "--as", "alice").output.splitlines()[0]
    env = {k: v for k, v in os.environ.items() if k not in _settings_env()}
    env.update(CRMBOT_DATA_DIR=str(data_dir), CRMBOT_HTTP_HOST="127.0.0.1", CRMBOT_HTTP_PORT="0")
    proc = subprocess.Popen(
        [_crmbot(), "serve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=data_dir,
    )
    assert proc.stdout is not None
    # A serve that never says it is ready would keep the test waiting: end it after two minutes.
    timer = threading.Timer(120, proc.kill)
    timer.start()
    try:
        first = proc.stdout.readline()
        m = re.match(r"crmbot serve on http://127\.0\.0\.1:(\d+): /healthz, /metrics; ", first)
        assert m, first
        assert "running api, scheduler, indexer; no chat platform" in first
        assert "SLACK_BOT_TOKEN" in first and "TELEGRAM_BOT_TOKEN" in first
        base = f"http://127.0.0.1:{m.group(1)}"
        with urllib.request.urlopen(f"{base}/healthz", timeout=30) as resp:
            assert resp.status == 200
        with urllib.request.urlopen(f"{base}/metrics", timeout=30) as resp:
            assert b"crmbot_reminders_due" in resp.read()
        request = urllib.request.Request(
            f"{base}/api/v1/customers", headers={"Authorization": f"Bearer {token}"}
        )
        with urllib.request.urlopen(request, timeout=30) as resp:
            assert json.loads(resp.read()) == {"items": [], "next": None}
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
    finally:
        timer.cancel()
        proc.kill()
    assert token not in first + out + err


def test_serve_slack_http_without_signing_secret_is_refused(
    ready: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Slack's HTTP mode never starts unsigned: exit 2 naming SLACK_SIGNING_SECRET."""
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("CRMBOT_HTTP_PORT", "0")
    result = invoke(ready, "serve", "--only", "slack")
    assert result.exit_code == 2
    assert "SLACK_SIGNING_SECRET" in result.output
    assert "xoxb-test" not in result.output


def test_demo_console_answers_questions_from_its_own_index(data_dir: Path) -> None:
    """`console --demo` can `ask` at once (BM25 while vectors wait), in an index of its own."""
    proc = _console(data_dir, ["--demo", "--as", "alice"], "ask what did they say about pricing?\n")
    assert proc.returncode == 0, proc.stderr
    assert "[1] " in proc.stdout and "Show note [1]" in proc.stdout
    assert (data_dir / "demo-index").is_dir() and not (data_dir / "index").exists()
    # The demo book is dated from today: its newest note is recent, not from a frozen 2025.
    engine = make_engine(f"sqlite:///{data_dir / 'demo.sqlite'}")
    try:
        with make_session_factory(engine)() as session:
            newest = session.scalar(select(func.max(Interaction.occurred_at)))
    finally:
        engine.dispose()
    assert newest is not None
    assert newest.replace(tzinfo=UTC) > datetime.now(UTC) - timedelta(days=14)


# A note written to clear the reader's screen, ring the bell, hide a line and reverse a name.
HOSTILE = "Dana\x1b[2J\x1b[H wants\x9b31m 12%\x07 off\rGOT YOU\u202eemocleW\ttabbed"


def test_run_prints_note_text_terminal_safe_and_json_exact(
    ready: CliRunner, data_dir: Path
) -> None:
    """`note #N` as text carries no control characters; `--json` keeps the note exactly."""
    assert invoke(ready, "run", "--as", "alice", "new customer Acme").exit_code == 0
    assert invoke(ready, "run", "--as", "alice", "log call Acme: placeholder").exit_code == 0
    # Chat now refuses C0 controls, but C1 and bidi pass, and older or imported rows hold any.
    engine = make_engine(f"sqlite:///{data_dir / 'crmbot.sqlite'}")
    with engine.begin() as conn:
        conn.execute(update(Interaction).values(text=HOSTILE))
    engine.dispose()
    shown = invoke(ready, "run", "--as", "alice", "note #1")
    assert shown.exit_code == 0, shown.output
    out = shown.stdout
    assert not [c for c in out if (ord(c) < 32 and c not in "\n\t") or 0x7F <= ord(c) <= 0x9F]
    assert "\u202e" not in out and "<U+202E>emocleW" in out
    assert "Dana[2J[H wants31m 12% offGOT YOU<U+202E>emocleW\ttabbed" in out
    as_json = invoke(ready, "run", "--as", "alice", "--json", "note #1")
    assert json.loads(as_json.stdout)["text"] == HOSTILE
    # A refusal quoting a name typed with an 8-bit CSI (C1, which chat accepts) is safe too.
    refused = invoke(ready, "run", "--as", "alice", "customer Qq\x9b2Jzz")
    assert refused.exit_code == 1 and '"Qq2Jzz"' in refused.stdout, refused.stdout


def _interaction_times(output: str) -> list[datetime]:
    records = [json.loads(line) for line in output.splitlines() if line.strip()]
    return [datetime.fromisoformat(r["occurred_at"]) for r in records if r["type"] == "interaction"]


def test_demo_data_is_dated_from_the_day_asked_and_is_the_same_for_one_seed_and_day(
    cli: CliRunner,
) -> None:
    args = ("demo-data", "--customers", "4", "--seed", "3")
    first = invoke(cli, *args, "--today", "2026-12-01")
    again = invoke(cli, *args, "--today", "2026-12-01")
    assert first.exit_code == 0 and first.output == again.output
    times = _interaction_times(first.output)
    day = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    # A live book: the newest note is days old, not the generator's fixed 2025 reference.
    assert day - timedelta(days=14) < max(times) <= day
    today = invoke(cli, *args)
    assert max(_interaction_times(today.output)) > datetime.now(UTC) - timedelta(days=14)


def test_a_pipeline_that_drops_a_stage_in_use_refuses_to_start(
    ready: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deals in a stage CRMBOT_STAGES no longer names are never hidden: exit 2, naming it."""
    assert invoke(ready, "run", "--as", "alice", "new customer Acme").exit_code == 0
    made = invoke(ready, "run", "--as", "alice", "new deal Acme: Fleet 12k stage proposal")
    assert made.exit_code == 0, made.output
    monkeypatch.setenv("CRMBOT_STAGES", "lead:10,qualified:40,won:100:won,lost:0:lost")
    result = invoke(ready, "run", "--as", "alice", "pipeline")
    assert result.exit_code == 2
    assert "proposal (1 deal)" in result.output and "CRMBOT_STAGES" in result.output
    monkeypatch.setenv("CRMBOT_STAGES", "lead:10,proposal:40,won:100:won,lost:0:lost")
    assert invoke(ready, "run", "--as", "alice", "pipeline").exit_code == 0


def test_arguments_that_are_not_utf8_are_refused(ready: CliRunner, data_dir: Path) -> None:
    """`crmbot run --as alice $'find \\xff'`: a clear refusal, no traceback, nothing written.

    The four commands run at once: each is a process start of a few seconds.
    """
    env = {k: v for k, v in os.environ.items() if k not in _settings_env()}
    env["CRMBOT_DATA_DIR"] = str(data_dir)
    cases = [
        [b"run", b"--as", b"alice", b"find \xff"],
        [b"run", b"--as", b"alice", b"new customer Acme\xff"],
        [b"ask", b"--as", b"alice", b"what did \xff want?"],
        [b"ask", b"--as", b"alice", b"--customer", b"\xff", b"pricing?"],
    ]
    procs = [
        subprocess.Popen(
            [_crmbot().encode(), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=data_dir,
        )
        for args in cases
    ]
    for args, proc in zip(cases, procs, strict=True):
        stdout, stderr = proc.communicate(timeout=120)
        output = (stdout + stderr).decode("utf-8", "replace")
        assert proc.returncode in (1, 2), (args, output)
        assert "not valid UTF-8" in output, (args, output)
        assert "Traceback" not in output, (args, output)
        assert "reference" not in output, (args, output)
    assert _customers(data_dir) == []


def test_run_ask_and_index_status_use_the_demo_book_with_demo(
    cli: CliRunner, data_dir: Path
) -> None:
    """Where the demo ran, `--demo` reaches its book and index; without it, no stray database."""
    shown = invoke(cli, "run", "--demo", "--as", "alice", "customer Acme")
    assert shown.exit_code == 0, shown.output
    assert "Acme Logistics" in shown.stdout
    plain = invoke(cli, "run", "--as", "alice", "customer Acme")
    assert plain.exit_code == 2
    assert "--demo" in plain.stderr
    assert not (data_dir / "crmbot.sqlite").exists()
    asked = invoke(cli, "ask", "--demo", "--as", "alice", "what did they say about pricing?")
    assert asked.exit_code == 0, asked.output
    assert "pricing" in asked.stdout and "(note #" in asked.stdout
    status = invoke(cli, "index", "status", "--demo", "--json")
    assert status.exit_code == 0, status.output
    figures = json.loads(status.stdout)
    assert figures["live_notes"] > 1000
    assert str(data_dir / "demo-index") in figures["location"]
    assert not (data_dir / "index").exists() and not (data_dir / "crmbot.sqlite").exists()


def test_console_pings_a_reminder_that_is_due(ready: CliRunner, data_dir: Path) -> None:
    """`crmbot console` runs the reminder job: a due reminder prints while the console is open."""
    assert invoke(ready, "run", "--as", "alice", "remind me tomorrow 3pm call Dana").exit_code == 0
    engine = make_engine(f"sqlite:///{data_dir / 'crmbot.sqlite'}")
    with engine.begin() as conn:
        conn.execute(update(Reminder).values(due_at=datetime.now(UTC) - timedelta(minutes=1)))
    env = {k: v for k, v in os.environ.items() if k not in _settings_env()}
    env.update(CRMBOT_DATA_DIR=str(data_dir), CRMBOT_REMINDER_INTERVAL_SECONDS="1")
    proc = subprocess.Popen(
        [_crmbot(), "console", "--as", "alice"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=data_dir,
    )
    assert proc.stdin is not None and proc.stdout is not None
    seen: list[str] = []
    # A console that never pings would wait for input for ever: end it after a minute.
    timer = threading.Timer(60, proc.kill)
    timer.start()
    try:
        # The console stays open (no input yet) until the ping has been printed.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and "call Dana" not in "".join(seen):
            line = proc.stdout.readline()
            if not line:
                break
            seen.append(line)
        proc.stdin.write("quit\n")
        proc.stdin.close()
        proc.wait(timeout=60)
    finally:
        timer.cancel()
        proc.kill()
    out = "".join(seen)
    assert "--- to @alice ---" in out and "call Dana" in out, out
    with make_session_factory(engine)() as session:
        assert session.scalar(select(Reminder.status)) == ReminderStatus.sent
    engine.dispose()


def test_importing_the_cli_loads_neither_chroma_nor_langchain() -> None:
    """`crmbot --help` starts without the note index's libraries (or the database's)."""
    heavy = ("chromadb", "langchain", "langchain_core", "numpy", "sqlalchemy", "alembic")
    probe = (
        "import sys, bot.cli\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {heavy!r}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]", out.stdout


def test_a_command_that_needs_no_index_does_not_load_chroma(ready: CliRunner) -> None:
    """`run "customer X"` opens the database but not Chroma or the embedding model."""
    probe = (
        "import sys\n"
        "from bot.cli import main\n"
        "try:\n"
        "    main(['run', '--as', 'alice', 'help'])\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'chromadb', 'langchain_core'}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout


def test_run_json_loose_write_is_a_confirm_with_its_command(
    ready: CliRunner, data_dir: Path
) -> None:
    """A loose write prints status "confirm" and the command; running that command writes."""
    assert invoke(ready, "run", "--as", "alice", "new customer Acme Logistics").exit_code == 0
    assert invoke(ready, "run", "--as", "alice", "new deal Acme: Fleet 15k").exit_code == 0
    result = invoke(ready, "run", "--as", "alice", "--json", "acme fleet deal is won!")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["status"] == "confirm"
    assert data["command"] == "move #1 to won"
    done = invoke(ready, "run", "--as", "alice", "--json", data["command"])
    assert json.loads(done.stdout)["status"] == "ok"
    read = json.loads(invoke(ready, "run", "--as", "alice", "--json", "tell me about acme").stdout)
    assert read["status"] == "ok" and read["title"] == "Acme Logistics"
    assert invoke(ready, "run", "--as", "alice", "new customer Acme Express").exit_code == 0
    unsure = json.loads(
        invoke(ready, "run", "--as", "alice", "--json", "log that I called acme, pricing").stdout
    )
    assert unsure["status"] == "info"
    assert sorted(b["label"] for b in unsure["buttons"]) == ["Acme Express", "Acme Logistics"]


def test_console_says_how_long_indexing_will_take() -> None:
    from bot.cli import IndexingNotices
    from retrieval.indexer import Progress

    said: list[str] = []
    notices = IndexingNotices(said.append, demo=True)
    notices(Progress(1100, 1191, None))  # one batch in: no rate yet, nothing to promise
    assert said == []
    notices(Progress(900, 1191, 20.0))
    notices(Progress(700, 1191, 20.0))  # the estimate is given once
    assert said == [
        "Indexed 291 of 1,191 notes; about 45 s to go (`crmbot index status --demo` shows "
        "progress).\n"
    ]
    notices(Progress(0, 0, None))
    assert said[-1].startswith("The note index has caught up (in ")


def test_a_command_leaves_the_collector_running_even_when_it_fails(ready: CliRunner) -> None:
    """`_app` pauses the cyclic collector while it loads (start-up time) and always turns it
    back on, also when the database is refused."""
    import gc

    assert invoke(ready, "run", "--as", "alice", "customers").exit_code == 0
    assert gc.isenabled()
    result = ready.invoke(
        main,
        ["run", "--as", "alice", "customers"],
        env={"CRMBOT_DATABASE_URL": "sqlite:////nonexistent/x.sqlite"},
    )
    assert result.exit_code != 0
    assert gc.isenabled()
    gc.unfreeze()


def test_run_checks_the_schema_without_alembic_and_parses_no_dates(ready: CliRunner) -> None:
    """`run "customer X"` checks the schema revision without loading Alembic (its scripts are
    read as text) and loads dateparser only for a phrase that needs it (start-up time)."""
    probe = (
        "import sys\n"
        "from bot.cli import main\n"
        "try:\n"
        "    main(['run', '--as', 'alice', 'customer Acme'])\n"
        "except SystemExit as exc:\n"
        "    assert exc.code in (0, 1, None), exc.code\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'alembic', 'dateparser'}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_serve_start_line_is_plain_only_with_text_logs(
    ready: CliRunner, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    """The start line goes to standard output with text logs; with JSON logs it is only the
    JSON log record, so every line of the process output is JSON."""
    from aiohttp import web

    from bot import serve as serve_mod
    from bot.runtime import Runtime

    def fake_serve(app: object, only: object, on_ready: object) -> None:
        assert callable(on_ready)
        runtime = Runtime(app, web.Application(), [], port=8080)  # type: ignore[arg-type]
        runtime.serving = ["api", "scheduler", "indexer"]
        on_ready(runtime)

    monkeypatch.setattr(serve_mod, "serve", fake_serve)
    monkeypatch.setenv("CRMBOT_LOG_FORMAT", fmt)
    result = invoke(ready, "serve")
    assert result.exit_code == 0, result.output
    if fmt == "json":
        assert result.stdout == ""
    else:
        assert result.stdout.startswith("crmbot serve on http://")
        assert "reminders, digests and notices wait in the database" in result.stdout


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_serve_on_a_port_in_use_says_so_in_one_line(
    ready: CliRunner, data_dir: Path, fmt: str
) -> None:
    """Another server holds the port: exit 2 with one line naming the port and what to do (a
    JSON record with JSON logs), no traceback."""
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if k not in _settings_env()}
        env.update(
            CRMBOT_DATA_DIR=str(data_dir),
            CRMBOT_HTTP_HOST="127.0.0.1",
            CRMBOT_HTTP_PORT=str(port),
            CRMBOT_LOG_FORMAT=fmt,
        )
        proc = subprocess.run(
            [_crmbot(), "serve"],
            capture_output=True,
            text=True,
            env=env,
            cwd=data_dir,
            timeout=120,
        )
    assert proc.returncode == 2, proc.stderr
    lines = (proc.stdout + proc.stderr).splitlines()
    want = f"port {port} on 127.0.0.1 is in use; set CRMBOT_HTTP_PORT or stop the other server."
    assert "Traceback" not in proc.stderr
    if fmt == "json":
        records = [json.loads(line) for line in lines]  # every line is JSON
        assert [r["message"] for r in records if r["level"] == "ERROR"] == [want]
    else:
        assert lines == [want]
