"""Backups: one consistent, portable, optionally encrypted archive of every table, and restore.

The archive is the same on both engines, so a SQLite backup restores into PostgreSQL and back:

    header   b"CRMBOTBK", version, mode (0 plain, 1 sealed); sealed adds the scrypt salt, the
             nonce prefix and a key check (HMAC of the derived key), so a wrong key is told
             apart from a damaged file
    body     gzip of JSON Lines: a manifest (format, schema revision, source engine, time, each
             table's columns in dependency order), one `[table, [values...]]` line per row, and
             a trailer (rows per table, SHA-256 of every line before it); a missing trailer is
             a truncated file, a wrong digest a damaged one
    sealed   the gzip stream cut into 1 MiB frames, each AES-256-GCM with a nonce of prefix,
             frame counter and a last-frame flag, and the header as associated data: a frame
             dropped, reordered, cut off or altered fails authentication

Why not a raw copy or pg_dump: neither restores across engines, pg_dump refuses a server newer
than itself, and each would need its own verification and encryption. The snapshot is SQLite's
online backup API (a consistent copy, taken in one step, that is then read at leisure) or, on
PostgreSQL, one REPEATABLE READ read-only transaction over every table.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import hmac
import io
import json
import os
import re
import secrets
import sqlite3
import struct
import tempfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from sqlalchemy import (
    JSON,
    Connection,
    Date,
    DateTime,
    Engine,
    Float,
    LargeBinary,
    Numeric,
    Table,
    func,
    inspect,
    select,
    text,
)
from sqlalchemy import Time as SqlTime
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.schema import Column
from sqlalchemy.types import TypeDecorator, TypeEngine

from crm_core.db import current_revision, head_revision, make_engine, upgrade
from crm_core.models import Base, utcnow

MAGIC = b"CRMBOTBK"
VERSION = 1
PLAIN, SEALED = 0, 1
FORMAT = "crmbot-backup"
CHUNK = 1 << 20
SALT, PREFIX, CHECK = 16, 7, 16
BATCH = 1000
# Scrypt cost: about 0.1 s and 32 MiB per backup or restore, enough to slow key guessing.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
KEY_CHECK = b"crmbot backup key check"
# The shortest key a backup is sealed with (restores take any: older archives).
MIN_KEY = 12
# Scheduled backups are named by day; retention only ever removes files of this shape.
SCHEDULED = re.compile(r"^crmbot-(\d{4}-\d{2}-\d{2})\.crmbak$")


class BackupError(Exception):
    """A backup or restore refused; the message is one line saying why and what to do."""


@dataclass(frozen=True)
class Summary:
    """What an archive holds (read from its manifest and trailer)."""

    schema: str
    source: str
    created: datetime
    encrypted: bool
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Rows in every table."""
        return sum(self.rows.values())

    def counts(self, *tables: str) -> str:
        """`60 customers, 1200 interactions` for the named tables."""
        return ", ".join(f"{self.rows.get(t, 0)} {t.replace('_', ' ')}" for t in tables)


def tables() -> list[Table]:
    """Every table of the schema, parents before children; derived ones (the name index's
    tokens, rewritten by triggers as rows arrive) are left out."""
    return [t for t in Base.metadata.sorted_tables if not t.info.get("derived")]


# --- values ------------------------------------------------------------------------------

Codec = tuple[Callable[[Any], Any], Callable[[Any], Any]]


def _same(value: Any) -> Any:
    return value


def _maybe(f: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda v: None if v is None else f(v)


def _codec(column: Column[Any]) -> Codec:
    """How a column's Python value is written as JSON and read back."""
    kind: TypeEngine[Any] = column.type
    if isinstance(kind, TypeDecorator):
        kind = kind.impl_instance
    if isinstance(kind, JSON | Float):
        return _same, _same
    if isinstance(kind, DateTime):
        return _maybe(lambda v: v.isoformat()), _maybe(datetime.fromisoformat)
    if isinstance(kind, Date):
        return _maybe(lambda v: v.isoformat()), _maybe(date.fromisoformat)
    if isinstance(kind, SqlTime):
        return _maybe(lambda v: v.isoformat()), _maybe(time.fromisoformat)
    if isinstance(kind, Numeric):
        return _maybe(str), _maybe(Decimal)
    if isinstance(kind, LargeBinary):
        return _maybe(lambda v: base64.b64encode(v).decode()), _maybe(base64.b64decode)
    # Integers, strings, booleans and enums (str subclasses) are JSON already.
    return _same, _same


def _line(obj: object) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


# --- the container: plain gzip, or gzip sealed in AES-GCM frames --------------------------


def _derive(key: str, salt: bytes) -> bytes:
    kdf = Scrypt(salt=salt, length=32, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P)
    return kdf.derive(key.encode())


def _check(derived: bytes) -> bytes:
    return hmac.new(derived, KEY_CHECK, hashlib.sha256).digest()[:CHECK]


def _nonce(prefix: bytes, counter: int, last: bool) -> bytes:
    return prefix + struct.pack(">IB", counter, 1 if last else 0)


class _SealedWriter(io.RawIOBase):
    """Encrypts what is written, frame by frame; close() writes the last frame."""

    def __init__(self, out: IO[bytes], aead: AESGCM, prefix: bytes, header: bytes) -> None:
        self.out, self.aead, self.prefix, self.header = out, aead, prefix, header
        self.buffer = bytearray()
        self.counter = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.buffer += bytes(data)
        while len(self.buffer) > CHUNK:
            self._frame(bytes(self.buffer[:CHUNK]), last=False)
            del self.buffer[:CHUNK]
        return len(data)

    def _frame(self, plain: bytes, *, last: bool) -> None:
        sealed = self.aead.encrypt(_nonce(self.prefix, self.counter, last), plain, self.header)
        self.out.write(struct.pack(">BI", 1 if last else 0, len(sealed)) + sealed)
        self.counter += 1

    def close(self) -> None:
        if not self.closed:
            self._frame(bytes(self.buffer), last=True)
            self.buffer.clear()
        super().close()


class _SealedReader(io.RawIOBase):
    """Decrypts frame by frame; a missing last frame, a bad tag or trailing bytes refuse."""

    def __init__(self, src: IO[bytes], aead: AESGCM, prefix: bytes, header: bytes) -> None:
        self.src, self.aead, self.prefix, self.header = src, aead, prefix, header
        self.plain = b""
        self.counter = 0
        self.done = False

    def readable(self) -> bool:
        return True

    def _next(self) -> bool:
        if self.done:
            return False
        head = self.src.read(5)
        if len(head) < 5:
            raise BackupError("truncated")
        last, size = struct.unpack(">BI", head)
        if last not in (0, 1) or size > CHUNK + 16:
            raise BackupError("damaged")
        sealed = self.src.read(size)
        if len(sealed) < size:
            raise BackupError("truncated")
        try:
            nonce = _nonce(self.prefix, self.counter, bool(last))
            self.plain = self.aead.decrypt(nonce, sealed, self.header)
        except InvalidTag:
            raise BackupError("damaged") from None
        self.counter += 1
        if last:
            self.done = True
            if self.src.read(1):
                raise BackupError("damaged")
        return True

    def readinto(self, buf: Any) -> int:
        while not self.plain:
            if not self._next():
                return 0
        n = min(len(buf), len(self.plain))
        buf[:n] = self.plain[:n]
        self.plain = self.plain[n:]
        return n


def _seal_header(key: str) -> tuple[bytes, AESGCM, bytes]:
    salt, prefix = secrets.token_bytes(SALT), secrets.token_bytes(PREFIX)
    derived = _derive(key, salt)
    header = MAGIC + bytes([VERSION, SEALED]) + salt + prefix + _check(derived)
    return header, AESGCM(derived), prefix


def _open_body(src: IO[bytes], key: str | None, where: str) -> tuple[gzip.GzipFile, bool]:
    """The decompressed body of an archive, and whether it was encrypted."""
    start = src.read(len(MAGIC) + 2)
    if start[: len(MAGIC)] != MAGIC[: len(start)] or not start:
        raise BackupError(f"{where} is not a crmbot backup.")
    if len(start) < len(MAGIC) + 2:
        raise BackupError(f"{where} is truncated: nothing was restored.")
    version, mode = start[-2], start[-1]
    if version != VERSION or mode not in (PLAIN, SEALED):
        raise BackupError(f"{where} is a backup format this crmbot does not know (v{version}).")
    if mode == PLAIN:
        return gzip.GzipFile(fileobj=src, mode="rb"), False
    rest = src.read(SALT + PREFIX + CHECK)
    if len(rest) < SALT + PREFIX + CHECK:
        raise BackupError(f"{where} is truncated: nothing was restored.")
    if not key:
        raise BackupError(
            f"{where} is encrypted: set CRMBOT_BACKUP_KEY to the key it was made with."
        )
    salt, prefix, check = rest[:SALT], rest[SALT : SALT + PREFIX], rest[SALT + PREFIX :]
    derived = _derive(key, salt)
    if not hmac.compare_digest(_check(derived), check):
        raise BackupError(
            f"Wrong key for {where}: CRMBOT_BACKUP_KEY is not the key it was made with."
        )
    reader = _SealedReader(src, AESGCM(derived), prefix, start + rest)
    return gzip.GzipFile(fileobj=io.BufferedReader(reader, CHUNK), mode="rb"), True


# --- writing -----------------------------------------------------------------------------


def _rows(conn: Connection, table: Table) -> Iterator[list[Any]]:
    encoders = [_codec(c)[0] for c in table.columns]
    stmt = select(table).order_by(*table.primary_key.columns)
    for row in conn.execution_options(yield_per=BATCH).execute(stmt):
        yield [enc(v) for enc, v in zip(encoders, row, strict=True)]


def _dump(
    conn: Connection, body: gzip.GzipFile, schema: str, source: str, now: datetime
) -> Summary:
    digest = hashlib.sha256()

    def put(obj: object) -> None:
        data = _line(obj)
        digest.update(data)
        body.write(data)

    put(
        {
            "format": FORMAT,
            "version": VERSION,
            "schema": schema,
            "source": source,
            "created": now.isoformat(),
            "tables": {t.name: [c.name for c in t.columns] for t in tables()},
        }
    )
    counts: dict[str, int] = {}
    for table in tables():
        n = 0
        for values in _rows(conn, table):
            put([table.name, values])
            n += 1
        counts[table.name] = n
    body.write(_line({"end": True, "rows": counts, "sha256": digest.hexdigest()}))
    return Summary(schema, source, now, False, counts)


def _snapshot(engine: Engine, read: Callable[[Connection], Summary]) -> Summary:
    """Run `read` over one consistent view of the whole database."""
    if engine.dialect.name == "sqlite":
        with tempfile.TemporaryDirectory(prefix="crmbot-backup-") as tmp:
            copy_path = Path(tmp) / "snapshot.sqlite"
            raw = engine.raw_connection()
            try:
                copy = sqlite3.connect(copy_path)
                try:
                    # One step (pages=-1): the copy is the database as of one moment.
                    raw.driver_connection.backup(copy)  # type: ignore[union-attr]
                finally:
                    copy.close()
            finally:
                raw.close()
            snap = make_engine(f"sqlite:///{copy_path}")
            try:
                with snap.connect() as conn, conn.begin():
                    return read(conn)
            finally:
                snap.dispose()
    options = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
    with engine.connect() as conn:
        conn = conn.execution_options(**options)
        with conn.begin():
            return read(conn)


def check_key(key: str | None) -> None:
    """Refuse a backup key that is set but blank or too short to resist guessing."""
    if key is None:
        return
    if not key.strip():
        raise BackupError(
            "CRMBOT_BACKUP_KEY is set but blank: set a key of at least "
            f"{MIN_KEY} characters (e.g. `openssl rand -base64 24`), or unset it."
        )
    if len(key) < MIN_KEY:
        raise BackupError(
            f"CRMBOT_BACKUP_KEY is too short ({len(key)} characters): use at least {MIN_KEY} "
            "(e.g. `openssl rand -base64 24`)."
        )


def write_backup(
    engine: Engine,
    path: Path,
    *,
    key: str | None = None,
    now: datetime | None = None,
    make_folder: bool = False,
) -> Summary:
    """Write the whole database to `path` (atomically: a failed backup leaves no file), 0600;
    its folder must exist unless `make_folder` (the scheduled backups' configured folder)."""
    schema = current_revision(engine)
    if schema != head_revision():
        raise BackupError(
            f"The database is at schema {schema or 'empty'}, this crmbot at {head_revision()}: "
            "run `crmbot db upgrade` first."
        )
    check_key(key)
    if not path.parent.is_dir():
        if not make_folder:
            raise BackupError(
                f"No folder {path.parent}: create it first (a backup does not create folders)."
            )
        path.parent.mkdir(parents=True, mode=0o700, exist_ok=True)
    moment = now or utcnow()
    partial = path.with_name(path.name + ".part")
    try:
        # Owner only: even sealed, the archive is every note, token hash and webhook secret.
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)  # a .part left by a crash keeps its old mode otherwise
        with open(fd, "wb") as out:
            sink: IO[bytes] = out
            sealed: _SealedWriter | None = None
            if key:
                header, aead, prefix = _seal_header(key)
                out.write(header)
                sealed = _SealedWriter(out, aead, prefix, header)
                sink = sealed  # type: ignore[assignment]
            else:
                out.write(MAGIC + bytes([VERSION, PLAIN]))
            with gzip.GzipFile(filename="", fileobj=sink, mode="wb", mtime=0) as body:
                summary = _snapshot(
                    engine, lambda conn: _dump(conn, body, schema, engine.dialect.name, moment)
                )
            if sealed is not None:
                sealed.close()
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return Summary(summary.schema, summary.source, moment, bool(key), summary.rows)


# --- reading and restoring ---------------------------------------------------------------


@dataclass
class _Reading:
    """One pass over an archive: the manifest, then each table's rows, then the trailer."""

    manifest: dict[str, Any]
    encrypted: bool
    lines: Iterator[tuple[str, list[Any]]]
    trailer: dict[str, Any] = field(default_factory=dict)


def _passes(path: Path, key: str | None) -> Iterator[_Reading]:
    where = str(path)
    try:
        src = open(path, "rb")  # noqa: SIM115 (closed below, after the generator ends)
    except OSError as exc:
        raise BackupError(f"Cannot read {where}: {exc.strerror or exc}.") from None
    with src:
        body, encrypted = _open_body(src, key, where)
        digest = hashlib.sha256()
        raw = _raw_lines(body, where)
        first = next(raw, None)
        if first is None:
            raise BackupError(f"{where} is truncated: nothing was restored.")
        digest.update(first)
        manifest = _json(first, where)
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise BackupError(f"{where} is not a crmbot backup.")
        reading = _Reading(manifest, encrypted, iter(()))

        def rows() -> Iterator[tuple[str, list[Any]]]:
            for data in raw:
                obj = _json(data, where)
                if isinstance(obj, dict):
                    if obj.get("end") is not True or obj.get("sha256") != digest.hexdigest():
                        raise BackupError(f"{where} is damaged (its checksum does not match).")
                    if next(raw, None) is not None:
                        raise BackupError(f"{where} is damaged (data after its end).")
                    reading.trailer = obj
                    return
                digest.update(data)
                if not (isinstance(obj, list) and len(obj) == 2 and isinstance(obj[1], list)):
                    raise BackupError(f"{where} is damaged (a row is malformed).")
                yield str(obj[0]), obj[1]
            raise BackupError(f"{where} is truncated: its end is missing.")

        reading.lines = rows()
        yield reading


def _raw_lines(body: gzip.GzipFile, where: str) -> Iterator[bytes]:
    try:
        yield from body
    except BackupError as exc:
        raise BackupError(f"{where} is {exc} (or was altered): nothing was restored.") from None
    except EOFError:
        raise BackupError(f"{where} is truncated: nothing was restored.") from None
    except (OSError, zlib.error) as exc:
        raise BackupError(f"{where} is damaged ({exc}): nothing was restored.") from None


def _json(data: bytes, where: str) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        raise BackupError(f"{where} is damaged (unreadable line).") from None


def _plan(manifest: dict[str, Any], where: str) -> dict[str, tuple[Table, list[Codec]]]:
    """Each table the archive holds, checked against this crmbot's schema."""
    head = head_revision()
    if manifest.get("schema") != head:
        raise BackupError(
            f"{where} holds schema {manifest.get('schema')}, this crmbot {head}: restore it "
            "with the crmbot version that wrote it, then upgrade."
        )
    ours = {t.name: t for t in tables()}
    theirs = manifest.get("tables")
    expected = {name: [c.name for c in t.columns] for name, t in ours.items()}
    if theirs != expected:
        raise BackupError(f"{where} does not match this crmbot's tables at schema {head}.")
    return {name: (t, [_codec(c) for c in t.columns]) for name, t in ours.items()}


def _decoded(
    plan: dict[str, tuple[Table, list[Codec]]], name: str, values: list[Any], where: str
) -> dict[str, Any]:
    if name not in plan or len(values) != len(plan[name][1]):
        raise BackupError(f"{where} is damaged (a row does not fit table {name}).")
    table, codecs = plan[name]
    try:
        return {
            c.name: dec(v) for c, (_, dec), v in zip(table.columns, codecs, values, strict=True)
        }
    except (TypeError, ValueError, ArithmeticError):
        raise BackupError(f"{where} is damaged (a value in {name} is unreadable).") from None


def verify_backup(path: Path, *, key: str | None = None) -> Summary:
    """Read the whole archive; raise BackupError unless it is complete, intact and fits."""
    for reading in _passes(path, key):
        plan = _plan(reading.manifest, str(path))
        seen: dict[str, int] = dict.fromkeys(plan, 0)
        for name, values in reading.lines:
            _decoded(plan, name, values, str(path))
            seen[name] += 1
        if reading.trailer.get("rows") != seen:
            raise BackupError(f"{path} is damaged (its row counts do not match).")
        return _summary(reading, seen)
    raise AssertionError("unreachable")


def _summary(reading: _Reading, rows: dict[str, int]) -> Summary:
    m = reading.manifest
    return Summary(
        str(m["schema"]),
        str(m.get("source")),
        datetime.fromisoformat(str(m["created"])),
        reading.encrypted,
        rows,
    )


def shown_url(engine: Engine) -> str:
    """The database URL without its password, for messages."""
    return make_url(str(engine.url)).render_as_string(hide_password=True)


def _target_state(engine: Engine) -> bool:
    """True when the database has no tables; False when migrated and empty; else refuse."""
    names = set(inspect(engine).get_table_names())
    if not names:
        return True
    where = shown_url(engine)
    if current_revision(engine) != head_revision():
        raise BackupError(
            f"Refused: the database at {where} is not empty (schema "
            f"{current_revision(engine) or 'unversioned'}); restore only into an empty database."
        )
    with engine.connect() as conn:
        held = {
            t.name: n
            for t in tables()
            if (n := int(conn.scalar(select(func.count()).select_from(t)) or 0))
        }
    # What a person recognises first: their customers, people and notes.
    first = ("customers", "users", "interactions")
    full = [f"{t}: {held[t]}" for t in (*first, *held) if t in held]
    full = list(dict.fromkeys(full))
    if full:
        raise BackupError(
            f"Refused: the database at {where} is not empty ({', '.join(full[:3])}); "
            "restore only into an empty database."
        )
    return False


def _late_columns(table: Table) -> list[str]:
    """Foreign keys to this table itself (or a later one): set after every row is in."""
    order = {t.name: i for i, t in enumerate(tables())}
    return [
        c.name
        for c in table.columns
        if any(order[fk.column.table.name] >= order[table.name] for fk in c.foreign_keys)
    ]


def _load(conn: Connection, reading: _Reading, plan: dict[str, tuple[Table, list[Codec]]]) -> None:
    where = "the archive"
    lates = {name: _late_columns(t) for name, (t, _) in plan.items()}
    late: list[tuple[Table, dict[str, Any]]] = []
    batch: list[dict[str, Any]] = []
    current: Table | None = None

    def flush() -> None:
        if batch and current is not None:
            conn.execute(current.insert(), batch)
            batch.clear()

    for name, values in reading.lines:
        row = _decoded(plan, name, values, where)
        table = plan[name][0]
        if table is not current:
            flush()
            current = table
        if any(row[col] is not None for col in lates[name]):
            # The whole row again: an update with only the late column would let `onupdate`
            # columns (updated_at) take the time of the restore.
            late.append((table, dict(row)))
            row = {**row, **dict.fromkeys(lates[name])}
        batch.append(row)
        if len(batch) >= BATCH:
            flush()
    flush()
    for table, change in late:
        keys = [c.name for c in table.primary_key.columns]
        stmt = table.update().where(*(table.c[k] == change[k] for k in keys))
        conn.execute(stmt.values({k: v for k, v in change.items() if k not in keys}))
    if conn.dialect.name == "postgresql":
        _restart_sequences(conn)


def _restart_sequences(conn: Connection) -> None:
    """Ids were inserted as they were: each sequence continues after the highest."""
    for table in tables():
        pks = list(table.primary_key.columns)
        if len(pks) != 1 or not pks[0].autoincrement:
            continue
        col = pks[0].name
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence(:t, :c), COALESCE(MAX({col}), 1), "
                f"MAX({col}) IS NOT NULL) FROM {table.name}"
            ),
            {"t": table.name, "c": col},
        )


def restore_backup(engine: Engine, path: Path, *, key: str | None = None) -> Summary:
    """Restore an archive into an empty database: verified first, then loaded in one transaction.

    A refused archive (wrong key, damaged, truncated, another schema) or a non-empty database
    writes nothing.
    """
    summary = verify_backup(path, key=key)
    fresh = _target_state(engine)
    before = _schema_objects(engine) if fresh else {}
    try:
        if fresh:
            upgrade(engine)
        for reading in _passes(path, key):
            plan = _plan(reading.manifest, str(path))
            with engine.begin() as conn:
                _load(conn, reading, plan)
    except BaseException as exc:
        # The load rolled back; the schema the migrations made (in their own transactions)
        # goes too, so the target is as empty as it was and the same restore can run again.
        if fresh:
            _drop_new(engine, before)
        if isinstance(exc, DBAPIError):
            raise BackupError(_load_refusal(path, exc)) from None
        raise
    return summary


def _load_refusal(path: Path, exc: DBAPIError) -> str:
    """One line on a row the schema refused: the table and the rule, never the values."""
    diag = getattr(exc.orig, "diag", None)
    table = getattr(diag, "table_name", None)
    rule = getattr(diag, "constraint_name", None)
    if table is None:
        # SQLite names the rule and columns only ("FOREIGN KEY constraint failed").
        words = str(exc.orig).splitlines()[0] if exc.orig is not None else type(exc).__name__
        found = re.search(r"INSERT INTO (\w+)|UPDATE (\w+)", exc.statement or "")
        table = next((g for g in found.groups() if g), None) if found else None
        rule = words
    return (
        f"{path} does not fit the schema: a row of {table or 'a table'} breaks "
        f"{rule or 'a rule'}; nothing was restored."
    )


def _schema_objects(engine: Engine) -> dict[str, set[str]]:
    """What the target's schema holds, by kind (to drop only what a failed restore made)."""
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            rows = conn.exec_driver_sql(
                "SELECT type, name FROM sqlite_master WHERE type IN ('table', 'view') "
                "AND name NOT LIKE 'sqlite_%'"
            ).all()
        else:
            rows = conn.execute(text(_PG_OBJECTS)).all()
    found: dict[str, set[str]] = {}
    for kind, name in rows:
        found.setdefault(str(kind), set()).add(str(name))
    return found


_PG_OBJECTS = """
SELECT 'table', quote_ident(tablename) FROM pg_tables WHERE schemaname = current_schema()
UNION ALL
SELECT 'view', quote_ident(viewname) FROM pg_views WHERE schemaname = current_schema()
UNION ALL
SELECT 'function', p.oid::regprocedure::text FROM pg_proc p
  JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = current_schema()
UNION ALL
SELECT 'type', quote_ident(t.typname) FROM pg_type t
  JOIN pg_namespace n ON n.oid = t.typnamespace
  WHERE n.nspname = current_schema() AND t.typtype IN ('e', 'd')
UNION ALL
SELECT 'sequence', quote_ident(sequencename) FROM pg_sequences
  WHERE schemaname = current_schema()
"""
# Dropped in this order; CASCADE takes triggers, indexes and owned sequences with their table.
_DROP = (("view", "VIEW"), ("table", "TABLE"), ("function", "FUNCTION"), ("type", "TYPE"),
         ("sequence", "SEQUENCE"))  # fmt: skip


def _drop_new(engine: Engine, before: dict[str, set[str]]) -> None:
    """Drop every view, table, function, type and sequence made since `before`."""
    made = {
        kind: sorted(names - before.get(kind, set()))
        for kind, names in _schema_objects(engine).items()
    }
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as conn:
        if sqlite:
            # Parents go before their children otherwise; the tables are empty anyway.
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.commit()
        with conn.begin():
            for kind, word in _DROP:
                for name in made.get(kind, []):
                    if sqlite:
                        conn.exec_driver_sql(f'DROP {word} IF EXISTS "{name}"')
                    else:
                        conn.exec_driver_sql(f"DROP {word} IF EXISTS {name} CASCADE")
        if sqlite:
            conn.exec_driver_sql("PRAGMA foreign_keys=ON")
            conn.commit()


def prune_backups(directory: Path, keep: int) -> list[Path]:
    """Remove scheduled backups beyond the newest `keep`; returns what was removed."""
    found = sorted(
        (p for p in directory.iterdir() if p.is_file() and SCHEDULED.match(p.name)),
        key=lambda p: p.name,
        reverse=True,
    )
    removed = found[max(keep, 1) :]
    for p in removed:
        p.unlink(missing_ok=True)
    return removed
