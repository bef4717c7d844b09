"""Backups: backup -> restore -> export gives the same export, across SQLite and PostgreSQL,
with and without a key; damaged, truncated and wrongly keyed archives write nothing."""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, inspect, select, text

from crm_core.backup import (
    MAGIC,
    BackupError,
    prune_backups,
    restore_backup,
    tables,
    verify_backup,
    write_backup,
)
from crm_core.db import make_engine, make_session_factory, unit_of_work, upgrade
from crm_core.exchange import export_jsonl
from crm_core.models import (
    Base,
    Customer,
    DealCloseTotal,
    DealMonthTotal,
    FunnelTotal,
    MoveDayTotal,
    NoteDayTotal,
    PipelineTotal,
)
from tests.conftest import PG_URL, TestBot
from tests.handlers.test_merge import two_acmes

TARGETS = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]
KEY = "correct horse battery staple"


def export(engine: Engine) -> str:
    """`crmbot export`'s output for a database."""
    out = io.StringIO()
    with unit_of_work(make_session_factory(engine)) as session:
        export_jsonl(session, out)
    return out.getvalue()


def every_row(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows in key order, as Python values (the audit log included)."""
    with engine.connect() as conn:
        return {
            t.name: [tuple(r) for r in conn.execute(select(t).order_by(*t.primary_key.columns))]
            for t in tables()
        }


def _pg_schema(name: str) -> Engine:
    """An engine whose tables live in a schema of their own in the test database."""
    assert PG_URL
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {name} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {name}"))
    admin.dispose()
    sep = "&" if "?" in PG_URL else "?"
    return make_engine(f"{PG_URL}{sep}options=-csearch_path%3D{name}")


@pytest.fixture(params=TARGETS)
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database with no tables to restore into."""
    if request.param == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path / 'restored' / 'crmbot.sqlite'}")
        yield eng
        eng.dispose()
        return
    eng = _pg_schema("restore_target")
    yield eng
    eng.dispose()
    drop = make_engine(PG_URL or "")
    with drop.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS restore_target CASCADE"))
    drop.dispose()


@pytest.fixture
def book(testbot: TestBot, engine: Engine) -> Engine:
    """A book with every kind of row: notes, deals, stage moves, reminders, edits, a merge."""
    keep, drop = two_acmes(testbot)
    assert testbot("alice", f"contact add #{keep}: Lee Wu, birthday 1984-05-03").status == "ok"
    assert testbot("alice", f"new deal #{keep}: Renewal 48.5k close 2027-01-15").status == "ok"
    assert testbot("alice", "move Renewal to negotiation").status == "ok"
    assert testbot("alice", f"log call #{keep}: 中文 note, 12% off").status == "ok"
    assert testbot("dave", "new customer Westwind city Denver tags a, b").status == "ok"
    # The older customer becomes the tombstone of the newer one: a reference forward in its
    # own table, which a restore must load after the row it names.
    merged = testbot("bob", f"merge #{keep} into #{drop} confirm")
    assert merged.status == "ok", merged.text
    return engine


def test_a_migrated_database_holds_only_the_tables_a_backup_copies(engine: Engine) -> None:
    """Every table the migrations create is in the archive (a new one cannot be forgotten),
    but for those declared derived (the name index's tokens and change log, rewritten as rows
    arrive; the deal-score model, trained again from the deals when none is stored; the
    pipeline totals, rebuilt by triggers as the deals arrive; the stored deal scores, computed
    again by the first `score` filter; the funnel, forecast, win rate, activity and cycle
    totals and the cycle's deals per whole day, also kept by triggers)."""
    derived = {t.name for t in Base.metadata.sorted_tables if t.info.get("derived")}
    assert derived == {
        "name_index_version",
        "customer_index_changes",
        "score_models",
        "pipeline_totals",
        "deal_scores",
        "deal_reach",
        "funnel_totals",
        "deal_month_totals",
        "funnel_month_totals",
        "deal_close_totals",
        "note_day_totals",
        "move_day_totals",
        "cycle_totals",
        "cycle_day_totals",
    }
    names = set(inspect(engine).get_table_names()) - {"alembic_version"} - derived
    assert names == {t.name for t in tables()}


@pytest.mark.parametrize("key", [None, KEY], ids=["plain", "encrypted"])
def test_backup_restore_export_equals_the_export_before(
    book: Engine, target: Engine, tmp_path: Path, key: str | None
) -> None:
    """Backup -> restore into an empty database -> export: the same export, the same rows."""
    before = export(book)
    rows = every_row(book)
    archive = tmp_path / "book.crmbak"
    written = write_backup(book, archive, key=key)
    assert written.encrypted is bool(key)
    assert written.rows["customers"] == 3 and written.rows["audit_entries"] > 10
    body = archive.read_bytes()[len(MAGIC) + 2 :]
    if key is None:
        assert b"Westwind" in gzip.decompress(body)
    else:
        with pytest.raises(gzip.BadGzipFile):
            gzip.decompress(body)

    restored = restore_backup(target, archive, key=key)
    assert restored.rows == written.rows
    assert every_row(target) == rows
    assert export(target) == before
    # The derived pipeline totals were rebuilt by the restore's own inserts.
    totals = select(PipelineTotal.owner_id, PipelineTotal.stage, PipelineTotal.cents)
    with book.connect() as a, target.connect() as b:
        kept = {tuple(r) for r in a.execute(totals) if r.cents}
        assert kept and kept == {tuple(r) for r in b.execute(totals) if r.cents}
        # So were the funnel's, the forecast's, the win rate's and the activity's.
        for table, count in (
            (FunnelTotal.__table__, "deals"),
            (DealMonthTotal.__table__, "deals"),
            (DealCloseTotal.__table__, "deals"),
            (NoteDayTotal.__table__, "notes"),
            (MoveDayTotal.__table__, "moves"),
        ):
            here = {tuple(r) for r in a.execute(select(table)) if r._mapping[count]}
            there = {tuple(r) for r in b.execute(select(table)) if r._mapping[count]}
            assert here and here == there, table.name
    # Ids go on after the restored ones (PostgreSQL's sequences were moved past them).
    with unit_of_work(make_session_factory(target)) as session:
        owner = session.scalars(select(Customer.owner_id)).first()
        session.add(Customer(name="After Restore", name_key="after restore", owner_id=owner))
        session.flush()
        assert session.scalar(select(Customer.id).where(Customer.name == "After Restore")) == 4


def _no_tables(engine: Engine) -> bool:
    return not inspect(engine).get_table_names()


@pytest.fixture
def archive(book: Engine, tmp_path: Path) -> Path:
    """An encrypted backup of the book."""
    path = tmp_path / "sealed.crmbak"
    write_backup(book, path, key=KEY)
    return path


@pytest.fixture
def plain(book: Engine, tmp_path: Path) -> Path:
    """An unencrypted backup of the book."""
    path = tmp_path / "plain.crmbak"
    write_backup(book, path)
    return path


def test_a_wrong_key_is_refused_and_nothing_is_written(archive: Path, target: Engine) -> None:
    """A wrong key, or none, is told apart from damage and writes nothing."""
    with pytest.raises(BackupError, match=r"^Wrong key for .*CRMBOT_BACKUP_KEY"):
        restore_backup(target, archive, key="not the key")
    with pytest.raises(BackupError, match="is encrypted: set CRMBOT_BACKUP_KEY"):
        restore_backup(target, archive)
    assert _no_tables(target)


def test_a_truncated_archive_is_refused_and_nothing_is_written(
    archive: Path, plain: Path, target: Engine, tmp_path: Path
) -> None:
    """Cut anywhere (even just before the end), plain or encrypted, the archive is refused as
    truncated. (One book for every cut: each refusal writes nothing, checked after each.)"""
    cut = tmp_path / "cut.crmbak"
    for name, whole in (("plain", plain.read_bytes()), ("encrypted", archive.read_bytes())):
        for keep in (0.3, 0.9, 0.999):
            cut.write_bytes(whole[: int(len(whole) * keep)])
            try:
                restore_backup(target, cut, key=KEY)
            except BackupError as exc:
                assert "truncated" in str(exc), (name, keep, str(exc))
            else:
                raise AssertionError(f"the {name} archive cut at {keep} was restored")
            assert _no_tables(target), (name, keep)


def test_a_damaged_archive_is_refused_and_nothing_is_written(
    archive: Path, plain: Path, target: Engine, tmp_path: Path
) -> None:
    """One byte changed in the middle, plain or encrypted: refused as damaged (or altered),
    nothing written."""
    bad = tmp_path / "bad.crmbak"
    for name, whole in (("plain", plain.read_bytes()), ("encrypted", archive.read_bytes())):
        data = bytearray(whole)
        data[len(data) // 2] ^= 0x01
        bad.write_bytes(bytes(data))
        with pytest.raises(BackupError, match="damaged"):
            restore_backup(target, bad, key=KEY)
        with pytest.raises(BackupError, match="damaged"):
            verify_backup(bad, key=KEY)
        assert _no_tables(target), name


def test_other_files_are_not_taken_for_backups(tmp_path: Path, target: Engine) -> None:
    """Not an archive, an empty file, a header alone: each refused in one line."""
    cases = {b"hello, world\n": "not a crmbot backup", b"": "not a crmbot backup"}
    cases[MAGIC + b"\x01"] = "truncated"
    for data, reason in cases.items():
        path = tmp_path / "x.crmbak"
        path.write_bytes(data)
        with pytest.raises(BackupError, match=reason):
            restore_backup(target, path)
    assert _no_tables(target)


def test_a_database_with_data_is_refused(plain: Path, book: Engine, tmp_path: Path) -> None:
    """Restoring over a book would mix two books: refused, and the book is left as it was."""
    rows = every_row(book)
    with pytest.raises(BackupError, match=r"is not empty \(customers: 3"):
        restore_backup(book, plain)
    assert every_row(book) == rows


def test_a_migrated_empty_database_is_accepted(plain: Path, book: Engine, tmp_path: Path) -> None:
    """`crmbot db upgrade` then restore works: migrated but empty counts as empty."""
    target = make_engine(f"sqlite:///{tmp_path / 'migrated.sqlite'}")
    upgrade(target)
    restore_backup(target, plain)
    assert every_row(target) == every_row(book)
    target.dispose()


def test_retention_removes_only_the_oldest_scheduled_backups(tmp_path: Path) -> None:
    """Files named by day beyond the newest KEEP go; anything else in the folder stays."""
    for day in ("2026-11-28", "2026-11-30", "2026-11-29", "2026-12-01"):
        (tmp_path / f"crmbot-{day}.crmbak").write_bytes(b"x")
    (tmp_path / "crmbot-manual.crmbak").write_bytes(b"x")
    (tmp_path / "notes.txt").write_bytes(b"x")
    removed = prune_backups(tmp_path, 2)
    assert sorted(p.name for p in removed) == [
        "crmbot-2026-11-28.crmbak",
        "crmbot-2026-11-29.crmbak",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "crmbot-2026-11-30.crmbak",
        "crmbot-2026-12-01.crmbak",
        "crmbot-manual.crmbak",
        "notes.txt",
    ]


def _breaking(plain: Path, out: Path) -> Path:
    """The archive with one deal pointing at a customer that is not there, its checksum right."""
    import gzip
    import hashlib
    import json

    data = plain.read_bytes()
    head, lines = data[:10], gzip.decompress(data[10:]).split(b"\n")
    digest, kept, done = hashlib.sha256(), [], False
    for raw in lines[:-2]:
        obj = json.loads(raw)
        if not done and isinstance(obj, list) and obj[0] == "deals":
            obj[1][[c.name for c in Base.metadata.tables["deals"].columns].index("customer_id")] = (
                999999
            )
            raw = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()
            done = True
        kept.append(raw)
        digest.update(raw + b"\n")
    assert done
    trailer = json.loads(lines[-2])
    trailer["sha256"] = digest.hexdigest()
    kept.append(json.dumps(trailer, separators=(",", ":")).encode())
    out.write_bytes(head + gzip.compress(b"\n".join(kept) + b"\n"))
    return out


def test_an_archive_whose_rows_break_a_constraint_leaves_nothing(
    plain: Path, target: Engine, tmp_path: Path
) -> None:
    """Intact but inconsistent (a deal of a missing customer): one line naming the table, and
    the empty target is left as empty as it was (no tables, functions or types)."""
    bad = _breaking(plain, tmp_path / "fk.crmbak")
    with pytest.raises(BackupError) as refused:
        restore_backup(target, bad)
    message = str(refused.value)
    assert "\n" not in message and "deals" in message and "nothing was restored" in message
    assert _no_tables(target)
    if target.dialect.name == "postgresql":
        with target.connect() as conn:
            left = conn.scalar(
                text(
                    "SELECT (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON "
                    "n.oid = p.pronamespace WHERE n.nspname = current_schema()) + "
                    "(SELECT count(*) FROM pg_type t JOIN pg_namespace n ON "
                    "n.oid = t.typnamespace WHERE n.nspname = current_schema())"
                )
            )
        assert left == 0
    # And the good archive still restores into it.
    assert restore_backup(target, plain).total > 0
