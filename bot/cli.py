"""The `crmbot` command line: console, one-shot run, import/export, users, demo data, db, docs."""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

# Only what every command needs loads here: `crmbot --help` must not wait for SQLAlchemy,
# Chroma or the embedding model. Each command imports the rest when it runs.
from bot.allocator import loaded, pause_collector_while_loading
from bot.console.render import render_text, terminal_safe
from crm_core.errors import CrmError, SchemaOutOfDate, StagesMismatch
from handlers.i18n import Translator
from handlers.reply import Command

if TYPE_CHECKING:
    from bot.bootstrap import App
    from crm_core.settings import Settings
    from retrieval.indexer import Progress

DEMO_CUSTOMERS = 60
DEMO_SEED = 7


def _fail(message: str) -> None:
    # Refusals may quote what was given (a customer name, an import line): terminal-safe.
    click.echo(terminal_safe(message), err=True)
    sys.exit(2)


def _missing_sqlite(url: str) -> Path | None:
    """The SQLite file a URL names when it does not exist yet (opening it would create it)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    if parsed.database == ":memory:" or parsed.database.startswith("file:"):
        return None
    path = Path(parsed.database)
    return None if path.exists() else path


def _app(settings: Settings, **kwargs: object) -> App:
    pause_collector_while_loading()
    try:
        return _build_app(settings, **kwargs)
    finally:
        loaded()


def _build_app(settings: Settings, **kwargs: object) -> App:
    from bot.bootstrap import build

    missing = _missing_sqlite(str(kwargs.get("database_url") or settings.resolved_database_url()))
    if missing is not None:
        # Opening it would leave an empty file behind that every later command finds "empty".
        demo = (settings.data_dir / "demo.sqlite").exists()
        _fail(
            f"No database at {missing}. "
            + (
                "The demo's database is in this folder: add --demo (e.g. crmbot run --demo "
                '--as alice "customer Acme").'
                if demo
                else "Create one with `crmbot db upgrade`, or try the demo: crmbot console --demo."
            )
        )
    try:
        return build(settings, **kwargs)  # type: ignore[arg-type]
    except (SchemaOutOfDate, StagesMismatch) as exc:
        _fail(str(exc))
        raise  # unreachable; keeps type checkers honest


def _user_id(app: App, who: str) -> int:
    from crm_core import db
    from crm_core.resolve import find_user

    try:
        with db.unit_of_work(app.session_factory) as session:
            return find_user(session, who).id
    except CrmError as exc:
        _fail(Translator("en")(exc.key, **exc.params))
        raise


@click.group()
@click.option("--log-level", default=None, help="DEBUG, INFO, WARNING (default from settings).")
@click.pass_context
def main(ctx: click.Context, log_level: str | None) -> None:
    """crmbot: the CRM that lives in your team's messenger."""
    from pydantic import ValidationError
    from pydantic_settings import SettingsError

    from crm_core.settings import Settings

    try:
        settings = Settings()
    except SettingsError as exc:
        # A NAME_FILE that cannot be read, or NAME and NAME_FILE both set (never the secret).
        _fail(f"Configuration error: {exc}. See .env.example.")
        raise
    except ValidationError as exc:
        problems = "; ".join(
            f"CRMBOT_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" for e in exc.errors()
        )
        _fail(f"Configuration error: {problems}. See .env.example.")
        raise
    from bot.logs import configure

    configure(log_level or settings.log_level, settings.log_format, settings.secret_values())
    # Alembic announces its context on every start; only its warnings matter here.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # httpx logs every request URL at INFO, and Telegram's URLs carry the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # APScheduler logs each run of every periodic job (every 20 s) at INFO.
    logging.getLogger("apscheduler.executors").setLevel(logging.WARNING)
    # bm25s reports each index build at DEBUG/INFO; chromadb chats about its own setup.
    for name in ("bm25s", "chromadb"):
        logging.getLogger(name).setLevel(logging.WARNING)
    ctx.obj = settings


@main.command()
@click.option("--demo", is_flag=True, help="Use a demo database with generated data.")
@click.option("--as", "who", default=None, help="Act as this user (handle, email or name).")
@click.pass_obj
def console(settings: Settings, demo: bool, who: str | None) -> None:
    """Talk to the bot in the terminal."""
    if demo:
        app = _demo_app(settings)
        who = who or "alice"
    else:
        app = _app(settings)
    if not who:
        _fail("Say who you are: crmbot console --as alice")
    from bot.console.notifier import ConsoleNotifier
    from bot.console.pings import ReminderPings
    from bot.console.session import ConsoleSession
    from bot.scheduling import console_reminders

    user_id = _user_id(app, who or "")
    session = ConsoleSession(app.dispatcher, user_id)

    # The person's reminders ping here, between prompts (others' are left to `serve`).
    notifier = ConsoleNotifier(write=session.notice)
    job = console_reminders(app.dispatcher, user_id, notifier)
    pings = ReminderPings(job, settings.reminder_interval_seconds)
    pings.start()
    worker = None
    if sys.stdin.isatty():
        from retrieval.worker import IndexWorker

        # Someone at the keyboard: index in the background (a fresh demo has ~1,200 notes),
        # as `crmbot serve` does; `ask` meanwhile answers from what is indexed and says so.
        indexer = app.notes().indexer
        pending = indexer.progress().pending
        worker = IndexWorker(
            indexer,
            settings.index_interval_seconds,
            on_progress=IndexingNotices(session.notice, demo=demo),
        )
        worker.start()
        click.echo("crmbot console. Type `help`, a number to press a button, `quit` to leave.")
        if pending:
            click.echo(
                f"Indexing {pending:,} notes for `ask` in the background; "
                "an estimate follows after the first batch."
            )
    from bot.allocator import freeze_startup_heap

    # As `serve` does: what start-up loaded stays out of full collections (no pauses later).
    freeze_startup_heap()
    try:
        session.loop(sys.stdin, sys.stdout)
    finally:
        pings.stop()
        if worker is not None:
            worker.stop(timeout=2)


class IndexingNotices:
    """Console lines while the note index fills: one estimate, then when it is done."""

    def __init__(self, say: Callable[[str], None], *, demo: bool) -> None:
        self.say = say
        self.status = "crmbot index status" + (" --demo" if demo else "")
        self.estimated = False
        self.started = time.monotonic()

    def __call__(self, progress: Progress) -> None:
        """Called by the worker after each batch."""
        if progress.pending == 0:
            took = _duration(time.monotonic() - self.started)
            self.say(f"The note index has caught up (in {took}); `ask` now reads every note.\n")
            self.estimated = False
            return
        eta = progress.eta_seconds()
        if not self.estimated and eta is not None:
            self.estimated = True
            self.say(
                f"Indexed {progress.indexed:,} of {progress.live:,} notes; about {_duration(eta)} "
                f"to go (`{self.status}` shows progress).\n"
            )


def _demo_app(settings: Settings) -> App:
    from sqlalchemy import func, select

    from bot.bootstrap import build
    from crm_core import db
    from crm_core.models import Customer

    url = settings.database_url or f"sqlite:///{(settings.data_dir / 'demo.sqlite').resolve()}"
    # The demo's notes get an index of their own: never mixed with the real database's.
    settings = settings.model_copy(
        update={"index_dir": settings.data_dir / "demo-index", "chroma_url": None}
    )
    engine = db.make_engine(url)
    db.upgrade(engine)
    app = build(settings, database_url=url)
    with db.unit_of_work(app.session_factory) as session:
        empty = not session.scalar(select(func.count()).select_from(Customer))
        if empty:
            from crm_core.demo_data import day_start, generate, tweetsumm_issues
            from crm_core.exchange import import_jsonl

            # Dated from today, so the demo looks like a live book: recent calls, deals due soon.
            # Its tickets are real customer-care summaries (TweetSumm), read where they lie.
            now = day_start(app.dispatcher.clock().date())
            care = tweetsumm_issues()
            lines = (json.dumps(r) for r in generate(DEMO_CUSTOMERS, DEMO_SEED, now=now, care=care))
            import_jsonl(session, lines, stages=app.pipeline.stages)
    return app


DEMO_HELP = "Use the demo database and index (as `console --demo` does)."


@main.command()
@click.option("--as", "who", required=True, help="Act as this user (handle, email or name).")
@click.option("--json", "as_json", is_flag=True, help="Print the reply as JSON.")
@click.option("--demo", is_flag=True, help=DEMO_HELP)
@click.argument("text")
@click.pass_obj
def run(settings: Settings, who: str, as_json: bool, demo: bool, text: str) -> None:
    """Run one command and print the reply."""
    app = _demo_app(settings) if demo else _app(settings)
    reply = app.dispatcher.dispatch(Command(_user_id(app, who), "cli", text=text))
    if as_json:
        click.echo(json.dumps(reply.to_json(), ensure_ascii=False, indent=2))
    else:
        click.echo(render_text(reply))
    if reply.status == "error":
        sys.exit(1)


@main.command()
@click.option(
    "--only",
    multiple=True,
    help="Run only this component (repeatable): slack, telegram, scheduler, ...",
)
@click.option(
    "--reuse-port",
    is_flag=True,
    help="Share the HTTP port with other workers (as CRMBOT_HTTP_REUSE_PORT=true).",
)
@click.pass_obj
def serve(settings: Settings, only: tuple[str, ...], reuse_port: bool) -> None:
    """Run the configured adapters, the scheduler and the workers until stopped."""
    if reuse_port:
        settings.http_reuse_port = True
    from bot.runtime import Runtime, ServeError
    from bot.serve import describe, plan
    from bot.serve import serve as run_serve

    def ready(runtime: Runtime) -> None:
        # Said on standard output whatever the log level: which parts this process serves.
        # Not with JSON logs: the same line is logged as JSON, and every line must be JSON.
        if settings.log_format != "json":
            click.echo(describe(runtime, runtime.serving))

    # The indexing worker keeps the note index current; answers need not index first.
    app = _app(settings, inline_drain=False)
    try:
        plan(app, only)
        run_serve(app, only, on_ready=ready)
    except ServeError as exc:
        # Raised before anything is served: a missing setting, named with what to set, or a
        # port taken. With JSON logs as one JSON record, so every line stays JSON.
        if settings.log_format == "json":
            logging.getLogger("bot.serve").error("%s", exc)
            sys.exit(2)
        _fail(str(exc))


@main.command("link-code")
@click.argument("who")
@click.option("--as", "admin", default=None, help="The admin who issues it (default: the first).")
@click.pass_obj
def link_code(settings: Settings, who: str, admin: str | None) -> None:
    """Print a one-time code that links WHO's Telegram account (first line: the code alone)."""
    from sqlalchemy import select

    from crm_core import db
    from crm_core.models import Role, User, utcnow
    from crm_core.resolve import find_user
    from crm_core.services.link_codes import CODE_TTL, create_link_code

    app = _app(settings)
    try:
        with db.unit_of_work(app.session_factory) as session:
            target = find_user(session, who)
            # Whoever runs the CLI holds the database already; the code is issued (and
            # audited) in the name of an admin.
            actor = (
                find_user(session, admin)
                if admin
                else session.scalar(
                    select(User)
                    .where(User.role == Role.admin, User.active.is_(True))
                    .order_by(User.id)
                    .limit(1)
                )
            )
            if actor is None:
                _fail("No admin to issue the code: crmbot user add NAME --name ... --role admin")
                return
            code = create_link_code(session, actor, target, now=utcnow())
            name, handle = target.name, target.external_id
    except CrmError as exc:
        _fail(Translator("en")(exc.key, **exc.params))
        return
    minutes = int(CODE_TTL.total_seconds() // 60)
    click.echo(code)
    click.echo(
        terminal_safe(
            f"{name} (@{handle}) sends `/link {code}` to the bot in a private Telegram chat. "
            f"The code works once, within {minutes} minutes."
        )
    )


@main.command("import")
@click.argument(
    "path", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=False
)
@click.option(
    "--mapping",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Import CSV files through this TOML column mapping instead of a JSON Lines file.",
)
@click.option(
    "--data",
    "data_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="The folder holding the mapping's CSV files (default: the mapping's folder).",
)
@click.pass_obj
def import_(
    settings: Settings, path: Path | None, mapping: Path | None, data_dir: Path | None
) -> None:
    """Import a JSON Lines file, or CSV files with --mapping (idempotent; all or nothing)."""
    from crm_core import db
    from crm_core.exchange import ImportFailed, import_jsonl

    if mapping is not None:
        if path is not None:
            _fail("Give either a JSON Lines file or --mapping, not both.")
        _import_csv(settings, mapping, data_dir or mapping.parent)
        return
    if path is None:
        _fail(
            "Say what to import: crmbot import FILE.jsonl, "
            "or crmbot import --mapping FILE.toml --data DIR"
        )
        return
    app = _app(settings)
    try:
        with db.unit_of_work(app.session_factory) as session, path.open(encoding="utf-8") as f:
            report = import_jsonl(session, f, stages=app.pipeline.stages)
    except ImportFailed as exc:
        for line, reason in exc.errors:
            click.echo(terminal_safe(f"{path}:{line}: {reason}"), err=True)
        _fail(f"Nothing was imported: {len(exc.errors)} bad line(s).")
    click.echo(str(report))


def _import_csv(settings: Settings, mapping: Path, data_dir: Path) -> None:
    from crm_core import db
    from crm_core.csv_import import MappingFailed, import_csv

    app = _app(settings)
    try:
        with db.unit_of_work(app.session_factory) as session:
            report = import_csv(session, mapping, data_dir, stages=app.pipeline.stages)
    except MappingFailed as exc:
        for problem in exc.problems:
            click.echo(problem, err=True)
        _fail(f"Nothing was imported: {len(exc.problems)} problem(s).")
        return
    for line in report.lines():
        click.echo(line)


@main.command()
@click.argument("path", type=click.Path(dir_okay=False, allow_dash=True))
@click.pass_obj
def export(settings: Settings, path: str) -> None:
    """Export everything as JSON Lines (`-` for standard output)."""
    from crm_core import db
    from crm_core.exchange import export_jsonl

    app = _app(settings)
    with db.unit_of_work(app.session_factory) as session:
        if path == "-":
            counts = export_jsonl(session, sys.stdout)
        else:
            with open(path, "w", encoding="utf-8") as out:
                counts = export_jsonl(session, out)
    click.echo(", ".join(f"{k}: {v}" for k, v in counts.items()), err=True)


def _backup_key(settings: Settings) -> str | None:
    # A blank key is the backup's to refuse, not "no key" (an unencrypted archive in silence).
    return settings.backup_key.get_secret_value() if settings.backup_key is not None else None


@main.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def backup(settings: Settings, path: Path) -> None:
    """Write the whole database to one archive (encrypted when CRMBOT_BACKUP_KEY is set)."""
    from crm_core import db
    from crm_core.backup import BackupError, write_backup

    if path.exists():
        _fail(f"{path} exists already: name a new file (a backup never overwrites one).")
    url = settings.resolved_database_url()
    if (missing := _missing_sqlite(url)) is not None:
        _fail(f"No database at {missing}: nothing to back up.")
    engine = db.make_engine(url)
    try:
        summary = write_backup(engine, path, key=_backup_key(settings))
    except BackupError as exc:
        _fail(str(exc))
        return
    finally:
        engine.dispose()
    sealed = "encrypted" if summary.encrypted else "not encrypted: set CRMBOT_BACKUP_KEY to seal it"
    click.echo(
        f"Backed up {summary.total} rows ({summary.counts(*_SHOWN)}) to {path} "
        f"({path.stat().st_size} bytes, {sealed})."
    )


_SHOWN = ("users", "customers", "deals", "interactions", "audit_entries")


@main.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def restore(settings: Settings, path: Path) -> None:
    """Restore an archive into an empty database (verified first; refused ones write nothing)."""
    from crm_core import db
    from crm_core.backup import BackupError, restore_backup, shown_url

    if not path.is_file():
        _fail(f"No backup at {path}.")
    from crm_core.services.webhooks import pause_all

    engine = db.make_engine(settings.resolved_database_url())
    try:
        summary = restore_backup(engine, path, key=_backup_key(settings))
        where = shown_url(engine)
        # A restored copy is often a drill on another machine: its webhooks would post owed
        # and new events, validly signed, to the production receivers. Paused until resumed.
        with db.unit_of_work(db.make_session_factory(engine)) as session:
            paused = pause_all(session, actor_label="restore")
    except BackupError as exc:
        _fail(str(exc))
        return
    finally:
        engine.dispose()
    click.echo(
        f"Restored {summary.total} rows ({summary.counts(*_SHOWN)}) into {where}, "
        f"from a {summary.source} backup of {summary.created:%Y-%m-%d %H:%M} UTC."
    )
    click.echo(
        "The note index is not in the archive: run `crmbot reindex` to rebuild it from the "
        "restored notes (`ask` answers from it)."
    )
    if paused:
        refs = ", ".join(f"#{n}" for n in paused)
        click.echo(
            f"Webhooks {refs} are paused on this copy, so it posts nothing to their receivers; "
            f"if this is the production book now, an admin turns each back on with "
            f"`webhook resume #{paused[0]}` (its owed events go first, in order)."
        )


@main.group()
def user() -> None:
    """Manage staff accounts."""


@user.command("add")
@click.argument("handle")
@click.option("--name", required=True)
@click.option("--role", type=click.Choice(["rep", "manager", "admin"]), default="rep")
@click.option("--team", default=None)
@click.option("--email", default=None)
@click.option("--timezone", default=None, help="IANA zone, e.g. Europe/Berlin.")
@click.option("--locale", type=click.Choice(["en", "zh", "zh-Hant"]), default=None)
@click.pass_obj
def user_add(
    settings: Settings,
    handle: str,
    name: str,
    role: str,
    team: str | None,
    email: str | None,
    timezone: str | None,
    locale: str | None,
) -> None:
    """Create a user."""
    from crm_core import db
    from crm_core.services.users import add_user

    app = _app(settings)
    try:
        with db.unit_of_work(app.session_factory) as session:
            created = add_user(
                session,
                handle,
                name,
                role=role,
                team=team,
                email=email,
                timezone=timezone or settings.default_timezone,
                locale=locale or settings.default_locale,
            )
            click.echo(terminal_safe(f"Created @{created.external_id} ({created.role.value})."))
    except CrmError as exc:
        _fail(Translator("en")(exc.key, **exc.params))


@user.command("list")
@click.pass_obj
def user_list(settings: Settings) -> None:
    """List users."""
    from sqlalchemy import select

    from crm_core import db
    from crm_core.models import User

    app = _app(settings)
    with db.unit_of_work(app.session_factory) as session:
        for u in session.scalars(select(User).order_by(User.external_id)):
            team = u.team.name if u.team else "-"
            row = f"@{u.external_id}\t{u.name}\t{u.role.value}\t{team}\t{u.timezone}"
            click.echo(terminal_safe(row))


@main.command("demo-data")
@click.option("--customers", type=click.IntRange(1, 1_000_000), default=DEMO_CUSTOMERS)
@click.option("--seed", type=int, default=DEMO_SEED)
@click.option("--out", type=click.Path(dir_okay=False, allow_dash=True), default="-")
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Date the book as of this day (default: today); same seed and day, same file.",
)
@click.option(
    "--tickets/--no-tickets",
    default=True,
    help="Add service tickets from the TweetSumm summaries in ../shared/data/tweetsumm.",
)
def demo_data(customers: int, seed: int, out: str, today: datetime | None, tickets: bool) -> None:
    """Write realistic, deterministic demo data as JSON Lines, dated from today."""
    from crm_core.demo_data import day_start, generate, tweetsumm_issues
    from crm_core.models import utcnow

    now = day_start((today or utcnow()).date())
    care = tweetsumm_issues() if tickets else []

    stream = sys.stdout if out == "-" else open(out, "w", encoding="utf-8")  # noqa: SIM115
    try:
        for record in generate(customers, seed, now=now, care=care):
            stream.write(json.dumps(record, ensure_ascii=False) + "\n")
    finally:
        if stream is not sys.stdout:
            stream.close()


@main.group("docs")
def docs_group() -> None:
    """Documentation generated from the verb declarations."""


def _emit(text: str, write: Path | None) -> None:
    if write is None:
        click.echo(text, nl=False)
        return
    write.write_text(text, encoding="utf-8")
    click.echo(f"Wrote {write}.", err=True)


@docs_group.command("manifest")
@click.option("--write", type=click.Path(dir_okay=False, path_type=Path), default=None)
def docs_manifest(write: Path | None) -> None:
    """The Slack app manifest (bot/slack/manifest.yml), with the /crm hint from the verbs."""
    from bot.slack.manifest import manifest
    from handlers.verbs import all_verbs

    _emit(manifest(all_verbs()), write)


@docs_group.command("commands")
@click.option(
    "--write",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Replace the table between the markers in this README.",
)
def docs_commands(write: Path | None) -> None:
    """The README command table: every verb's usage, Chinese forms and description."""
    from bot.docs import commands_table, with_table
    from handlers.verbs import all_verbs

    table = commands_table(all_verbs())
    if write is None:
        click.echo(table)
        return
    try:
        _emit(with_table(write.read_text(encoding="utf-8"), table), write)
    except ValueError as exc:
        _fail(str(exc))


@main.group("db")
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
@click.pass_obj
def db_upgrade(settings: Settings) -> None:
    """Bring the database schema up to date."""
    from crm_core import db

    engine = db.make_engine(settings.resolved_database_url())
    db.upgrade(engine)
    click.echo(f"Database at revision {db.current_revision(engine)}.")


@db_group.command("current")
@click.pass_obj
def db_current(settings: Settings) -> None:
    """Show the schema revision of the database and of the code."""
    from crm_core import db

    engine = db.make_engine(settings.resolved_database_url())
    click.echo(f"database: {db.current_revision(engine) or 'empty'}; code: {db.head_revision()}")


__all__ = ["main"]


@main.command()
@click.option("--as", "who", default=None, help="Ask as this user (external id, handle or name).")
@click.option("--customer", default=None, help="The customer (external id, #id or name).")
@click.option("--batch", "batch", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--json", "as_json", is_flag=True, help="Print JSON (one line per question in --batch)."
)
@click.option("--demo", is_flag=True, help=DEMO_HELP)
@click.argument("question", required=False)
@click.pass_obj
def ask(
    settings: Settings,
    who: str | None,
    customer: str | None,
    batch: Path | None,
    as_json: bool,
    demo: bool,
    question: str | None,
) -> None:
    """Answer a question from the notes: crmbot ask --as alice --customer Acme "pricing?"."""
    from bot.asking import AskInputError, answer_json, ask_error, ask_one, batch_lines

    app = _demo_app(settings) if demo else _app(settings)
    if batch is not None:
        if question or who or customer:
            _fail("With --batch, questions come from the file: drop --as, --customer and QUESTION.")
        with batch.open(encoding="utf-8") as f:
            try:
                items = list(batch_lines(f))
            except AskInputError as exc:
                _fail(f"{batch}: {exc}")
        for n, item in items:
            try:
                answer, t = ask_one(
                    app, str(item["asker"]), item.get("customer"), str(item["question"])
                )
                out = {"id": item["id"], **answer_json(answer, t)}
            except (CrmError, AskInputError) as exc:
                msg = ask_error(exc) if isinstance(exc, CrmError) else str(exc)
                out = {"id": item["id"], "error": f"line {n}: {msg}"}
            click.echo(json.dumps(out, ensure_ascii=False))
        return
    if not who or not question:
        _fail(
            "Say who asks and what: "
            'crmbot ask --as alice [--customer Acme] "what discount did they want?"'
        )
    try:
        answer, t = ask_one(app, who or "", customer, question or "")
    except CrmError as exc:
        _fail(ask_error(exc))
        raise
    except AskInputError as exc:
        _fail(f"{exc}: type the question in quotes after the options.")
        raise
    if as_json:
        click.echo(json.dumps(answer_json(answer, t), ensure_ascii=False, indent=2))
        return
    _print_answer(answer, t)


def _print_answer(answer: object, t: Translator) -> None:
    from zoneinfo import ZoneInfo

    from handlers.verbs.ask import answer_text, source_line
    from retrieval.ask import Answer

    assert isinstance(answer, Answer)
    # Quotes are note text and source lines carry names: both go to a terminal.
    click.echo(terminal_safe(answer_text(t, answer)))
    # Dates in UTC, as in --json: a script's output must not depend on the asker's zone.
    for s in answer.sources if answer.answered else answer.closest:
        click.echo(terminal_safe(f"{source_line(t, s, ZoneInfo('UTC'))}  (note #{s.note.id})"))


@main.command("eval-retrieval")
@click.option(
    "--data", "data", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--questions", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--now",
    "now",
    default=None,
    help="Read time words as of this ISO time (default: the day after the newest note).",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print every figure and each question's result as JSON."
)
@click.pass_obj
def eval_retrieval(
    settings: Settings, data: Path, questions: Path, now: str | None, as_json: bool
) -> None:
    """Score retrieval on a labelled question set (imports DATA into a temporary database)."""
    from datetime import UTC, datetime

    from bot.asking import AskInputError, evaluate

    moment = None
    if now:
        try:
            moment = datetime.fromisoformat(now.replace("Z", "+00:00"))
        except ValueError:
            _fail(f"--now {now!r} is not an ISO time like 2026-11-21T00:00:00Z")
        if moment is not None and moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
    try:
        report = evaluate(data, questions, now=moment, settings=settings)
    except AskInputError as exc:
        _fail(f"{questions}: {exc}")
        raise
    except CrmError as exc:
        from bot.asking import ask_error

        _fail(ask_error(exc))
        raise
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
        return
    o = report["overall"]
    click.echo(
        f"{report['notes']} notes ({report['passages']} passages) indexed in "
        f"{report['index_seconds']} s; now = {report['now']}"
    )
    header = (
        f"{'kind':<14}{'n':>4}{'R@1':>7}{'R@5':>7}{'R@10':>7}{'MRR':>7}{'ans%':>7}{'right':>7}"
        f"{'noans':>7}"
    )
    click.echo(header)

    def row(name: str, f: dict[str, object]) -> str:
        def v(key: str) -> str:
            x = f.get(key)
            return "—" if x is None else f"{x:.3f}"

        return (
            f"{name:<14}{f['questions']:>4}{v('recall@1'):>7}{v('recall@5'):>7}{v('recall@10'):>7}"
            f"{v('mrr'):>7}{v('answered_when_answerable'):>7}{v('answered_and_right'):>7}"
            f"{v('no_answer_accuracy'):>7}"
        )

    for kind, figures in report["by_kind"].items():
        click.echo(row(kind, figures))
    click.echo(row("all", o))
    click.echo(f"permission leaks: {report['permission_leaks']}")


@main.command()
@click.option("--resume", is_flag=True, help="Keep the notes already indexed (after a stop).")
@click.pass_obj
def reindex(settings: Settings, resume: bool) -> None:
    """Rebuild the note index from the database (after changing CRMBOT_EMBEDDINGS, say)."""
    app = _app(settings)
    index = app.notes()

    def progress(done: int, total: int) -> None:
        if done % 2048 < 256 or done == total:
            click.echo(f"\r{done}/{total} notes", nl=False, err=True)

    try:
        notes, passages, seconds = index.indexer.reindex(progress, resume=resume)
    except RuntimeError as exc:
        _fail(str(exc))
        raise
    click.echo("", err=True)
    rate = notes / seconds if seconds else 0.0
    click.echo(
        f"Indexed {notes} notes ({passages} passages) in {seconds:.1f} s "
        f"({rate:.0f} notes/s) into {index.location}."
    )


@main.group("index")
def index_group() -> None:
    """The note index behind `ask`."""


@index_group.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@click.option("--demo", is_flag=True, help=DEMO_HELP)
@click.pass_obj
def index_status(settings: Settings, as_json: bool, demo: bool) -> None:
    """How far the note index is behind the database."""
    from datetime import UTC, datetime

    app = _demo_app(settings) if demo else _app(settings)
    index = app.notes()
    st = index.indexer.status()
    progress = index.indexer.progress()
    eta = progress.eta_seconds()
    now = datetime.now(UTC)
    data = {
        "location": index.location,
        "model": index.search.embedder.name if index.search.embedder else None,
        "reachable": st.reachable,
        "live_notes": st.live_notes,
        "passages_indexed": st.passages,
        "pending": st.pending,
        "notes_indexed": progress.indexed if progress.pending else st.live_notes,
        "notes_per_second": round(progress.rate, 1) if progress.rate else None,
        "eta_seconds": None if eta is None else round(eta),
        "lag_seconds": round(st.lag_seconds(now), 1),
        "last_indexed": st.last_indexed.isoformat() if st.last_indexed else None,
        "last_error": st.last_error,
    }
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    reach = "reachable" if st.reachable else "NOT reachable"
    click.echo(f"Index: {data['location']} ({data['model']}), {reach}")
    stored = st.passages if st.passages is not None else "?"
    click.echo(f"Notes in the database: {st.live_notes}; passages in the index: {stored}")
    if st.pending:
        click.echo(f"Behind by {st.pending} changes; the oldest waits {data['lag_seconds']} s.")
        share = progress.indexed / progress.live if progress.live else 0.0
        click.echo(
            f"Indexed {progress.indexed:,} of {progress.live:,} notes ({share:.0%}); "
            + (
                f"about {_duration(eta)} to go at {progress.rate:.1f} notes/s."
                if eta is not None and progress.rate
                else "an estimate follows once the worker has indexed a batch or two."
            )
        )
    else:
        click.echo("Up to date.")
    if st.last_indexed:
        click.echo(f"Last indexed: {data['last_indexed']}")
    if st.last_error:
        click.echo(f"Last error: {st.last_error} (changes are kept and retried)")


def _duration(seconds: float) -> str:
    """`45 s`, `12 min`, `2 h 5 min`: how long something will take, roughly."""
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    minutes = round(seconds / 60)
    if minutes < 90:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min"


def _ticket_report(
    settings: Settings,
    who: str,
    dim: str | None,
    start: datetime | None,
    end: datetime | None,
    as_json: bool,
) -> None:
    """`crmbot report tickets`: the service desk report as the user sees it."""
    from crm_core import db
    from crm_core.analytics.periods import ALL_TIME, between
    from crm_core.analytics.tickets import DIMS, ticket_report
    from crm_core.analytics.tickets import as_json as tickets_json
    from crm_core.models import User

    if dim is not None and dim not in DIMS:
        _fail(f"--by {dim} does not group tickets: use assignee, team or priority.")
    app = _app(settings)
    user_id = _user_id(app, who)
    try:
        with db.unit_of_work(app.session_factory) as session:
            actor = session.get(User, user_id)
            assert actor is not None
            ctx = app.dispatcher.context(session, actor)
            given = start is not None or end is not None
            period = between(start.date() if start else None, end.date() if end else None)
            data = tickets_json(ticket_report(ctx, dim=dim, period=period if given else ALL_TIME))
    except CrmError as exc:
        _fail(Translator("en")(exc.key, **exc.params))
        return
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    for row in data["rows"]:
        measures = ", ".join(f"{k} {v}" for k, v in row.items() if k != "group")
        click.echo(f"  {row['group']}: {measures}")
    click.echo("  total: " + ", ".join(f"{k} {v}" for k, v in data["total"].items()))


REPORTS = ("win-rate", "funnel", "cycle", "forecast", "activity", "tickets")


@main.command()
@click.argument("name", type=click.Choice(REPORTS))
@click.option(
    "--by",
    "dim",
    type=click.Choice(
        [
            "rep",
            "team",
            "manager",
            "region",
            "product",
            "industry",
            "month",
            "quarter",
            "assignee",
            "priority",
        ]
    ),
    default=None,
    help="Group rows by this (win-rate and cycle; tickets: assignee, team or priority).",
)
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), default=None)
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), default=None)
@click.option(
    "--currency", default=None, help="Report in this currency (default: the configured one)."
)
@click.option("--as", "who", required=True, help="Report as this user (handle, email or name).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_obj
def report(
    settings: Settings,
    name: str,
    dim: str | None,
    start: datetime | None,
    end: datetime | None,
    currency: str | None,
    who: str,
    as_json: bool,
) -> None:
    """A report as the user sees it: --from/--to filter close dates (forecast: expected close)."""
    from datetime import timedelta

    from crm_core import db
    from crm_core.analytics.activity import activity
    from crm_core.analytics.as_json import Report, report_json
    from crm_core.analytics.cycle import cycle
    from crm_core.analytics.forecast import forecast
    from crm_core.analytics.funnel import funnel
    from crm_core.analytics.periods import ALL_TIME, between, parse_period
    from crm_core.analytics.scope import Dim
    from crm_core.analytics.win_rate import win_rate
    from crm_core.models import User

    if name == "tickets":
        _ticket_report(settings, who, dim, start, end, as_json)
        return
    if dim and name not in ("win-rate", "cycle"):
        _fail(f"`{name}` is not grouped: --by works with win-rate and cycle.")
    if dim in ("assignee", "priority"):
        _fail(f"--by {dim} works with the tickets report only.")
    app = _app(settings)
    user_id = _user_id(app, who)
    dispatcher = app.dispatcher
    try:
        with db.unit_of_work(app.session_factory) as session:
            actor = session.get(User, user_id)
            assert actor is not None
            ctx = dispatcher.context(session, actor)
            today = ctx.now().astimezone(ctx.tz).date()
            given = start is not None or end is not None
            period = between(start.date() if start else None, end.date() if end else None)
            group = Dim(dim) if dim else None
            result: Report
            if name == "win-rate":
                result = win_rate(
                    ctx, dim=group, period=period if given else ALL_TIME, currency=currency
                )
            elif name == "funnel":
                result = funnel(ctx, period=period if given else ALL_TIME, currency=currency)
            elif name == "cycle":
                result = cycle(
                    ctx, dim=group, period=period if given else ALL_TIME, currency=currency
                )
            elif name == "forecast":
                default = parse_period("this quarter", today) or ALL_TIME
                result = forecast(ctx, period if given else default, currency=currency)
            else:
                week = between(today - timedelta(days=6), today)
                result = activity(ctx, period if given else week)
            data = report_json(name, result)
    except CrmError as exc:
        _fail(Translator("en")(exc.key, **exc.params))
        return
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    click.echo(
        f"{name} · {data['currency'] or ''} · {data['period']['from']} – {data['period']['to']}"
    )
    for row in data["rows"]:
        measures = ", ".join(f"{k} {v}" for k, v in row.items() if k != "group")
        click.echo(f"  {row['group']}: {measures}")
    click.echo("  total: " + ", ".join(f"{k} {v}" for k, v in data["total"].items()))


def _operator() -> str:
    """Who runs this command, for the audit log: `cli:` and the operating-system account."""
    import getpass

    try:
        name = getpass.getuser()
    except (KeyError, OSError):  # no account name (a container's bare uid)
        name = str(os.getuid()) if hasattr(os, "getuid") else "unknown"
    return f"cli:{name}"[:64]


@main.group("token")
def token_group() -> None:
    """Personal tokens for the REST API (/api/v1): each acts as one user."""


@token_group.command("create")
@click.option("--as", "who", required=True, help="The user the token acts as (handle or email).")
@click.option("--scope", type=click.Choice(["read", "write"]), default="read", show_default=True)
@click.pass_obj
def token_create(settings: Settings, who: str, scope: str) -> None:
    """Print a new token (first line: the token alone; it is shown only this once)."""
    from crm_core import db
    from crm_core.models import utcnow
    from crm_core.resolve import find_user
    from crm_core.services.api_tokens import create_token

    app = _app(settings)
    try:
        with db.unit_of_work(app.session_factory) as session:
            user = find_user(session, who)
            token = create_token(session, user, scope=scope, now=utcnow(), actor_label=_operator())
            handle = user.external_id
    except CrmError as exc:
        _fail(Translator("en")(exc.key, **exc.params))
        return
    click.echo(token)
    click.echo(
        terminal_safe(
            f"A {scope} token acting as @{handle}. Send it as `Authorization: Bearer <token>`; "
            "it is stored hashed and cannot be shown again (`crmbot token revoke ID` ends it)."
        )
    )


@token_group.command("list")
@click.option("--as", "who", default=None, help="Only this user's tokens.")
@click.pass_obj
def token_list(settings: Settings, who: str | None) -> None:
    """List tokens: id, user, first characters, scope, created, last used, revoked."""
    from crm_core import db
    from crm_core.resolve import find_user
    from crm_core.services.api_tokens import list_tokens

    def when(moment: datetime | None) -> str:
        return moment.strftime("%Y-%m-%d %H:%M") if moment else "-"

    app = _app(settings)
    try:
        with db.unit_of_work(app.session_factory) as session:
            rows = list_tokens(session, find_user(session, who) if who else None)
    except CrmError as exc:
        _fail(Translator("en")(exc.key, **exc.params))
        return
    if not rows:
        click.echo("No tokens. Create one: crmbot token create --as HANDLE [--scope write]")
    for r in rows:
        state = f"revoked {when(r.revoked_at)}" if r.revoked_at else "active"
        line = (
            f"#{r.id}\t@{r.user}\t{r.prefix}…\t{r.scope}\tcreated {when(r.created_at)}\t"
            f"used {when(r.last_used_at)}\t{state}"
        )
        click.echo(terminal_safe(line))


@token_group.command("revoke")
@click.argument("token_id", metavar="ID", type=int)
@click.pass_obj
def token_revoke(settings: Settings, token_id: int) -> None:
    """Revoke token ID for good (see `crmbot token list`)."""
    from crm_core import db
    from crm_core.models import utcnow
    from crm_core.services.api_tokens import revoke_token

    app = _app(settings)
    try:
        with db.unit_of_work(app.session_factory) as session:
            info = revoke_token(session, token_id, now=utcnow(), actor_label=_operator())
    except CrmError as exc:
        _fail(Translator("en")(exc.key, **exc.params))
        return
    click.echo(terminal_safe(f"Revoked token #{info.id} ({info.prefix}…) of @{info.user}."))
