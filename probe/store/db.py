"""Opening the store: engine set-up per backend, Alembic upgrade, schema-version guard.

The nightly job and an operator's on-demand `probe check` may hit the same SQLite file at
the same moment, so SQLite gets WAL (readers never block the writer), a long busy timeout
(a writer waits instead of failing with "database is locked") and BEGIN IMMEDIATE for write
transactions (the write lock is taken up front, so two writers queue instead of dead-locking
on a read-to-write upgrade, which SQLite answers with an immediate error). PostgreSQL needs
none of that. Migrations run in code, with no alembic.ini, because an installed probe has
no project directory to find one in.

Alembic is imported only when the schema is not at `SCHEMA_HEAD`: importing it and
reading its script directory cost 9.4 MB of peak RSS and 0.085 s on every `probe run`
(import + open of an up-to-date SQLite file: 61.6 -> 52.2 MB, 0.40 -> 0.31 s), while a
database that is already up to date needs one look at, and one SELECT of, `alembic_version`.
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy.exc
from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import URL, make_url

from probe.errors import DatabaseError
from probe.store.calls import lock_wait_ms
from probe.store.repo import WRITE_OPTION, Store
from probe.store.rows import json_text, json_value

if TYPE_CHECKING:
    from alembic.config import Config

SUPPORTED_BACKENDS = frozenset({"sqlite", "postgresql"})
# The newest revision in migrations/versions. Opening a database at this revision needs no
# Alembic; a test checks it against Alembic's own idea of head, so a new migration that
# forgets to bump it fails the suite instead of being silently skipped.
SCHEMA_HEAD = "0004_result_inputs_digest"
VERSION_TABLE = "alembic_version"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 30_000
PG_CONNECT_TIMEOUT_S = 10
# Any constant works: it only has to be the same in every probe process.
PG_MIGRATION_LOCK = 0x70726F6265  # "probe"


def open_store(url: str, *, upgrade: bool = True) -> Store:
    """Open (and by default migrate) the database at `url`.

    `url` is a SQLAlchemy URL; `postgresql://` and `postgres://` mean psycopg 3, and a
    bare filesystem path means a SQLite file there. Raises `DatabaseError` with one line
    naming the URL (password masked) when the database cannot be opened, when its schema
    is newer than this probe, or (with `upgrade=False`) when it is older.
    """
    parsed = normalize_url(url)
    shown = mask_url(parsed)
    if parsed.get_backend_name() not in SUPPORTED_BACKENDS:
        raise DatabaseError(f"database {shown}: probe supports SQLite and PostgreSQL only")
    try:
        engine = build_engine(parsed)
    except (OSError, sqlalchemy.exc.ArgumentError, ImportError) as exc:
        raise DatabaseError(f"cannot open database {shown}: {_one_line(exc)}") from None
    try:
        _migrate_retrying(engine, upgrade=upgrade, shown=shown)
    except DatabaseError:
        engine.dispose()
        raise
    except (sqlalchemy.exc.SQLAlchemyError, OSError) as exc:
        engine.dispose()
        cause = exc.orig if isinstance(exc, sqlalchemy.exc.DBAPIError) else exc
        raise DatabaseError(f"cannot open database {shown}: {_one_line(cause)}") from None
    return Store(engine)


def normalize_url(url: str) -> URL:
    """A SQLAlchemy URL with the psycopg 3 driver for PostgreSQL and paths as SQLite."""
    raw = url.strip()
    if not raw:
        raise DatabaseError("empty database URL")
    if "://" not in raw:
        return URL.create("sqlite", database=str(Path(raw).expanduser()))
    for prefix in ("postgres://", "postgresql://"):
        if raw.startswith(prefix):
            raw = "postgresql+psycopg://" + raw[len(prefix) :]
    try:
        return make_url(raw)
    except sqlalchemy.exc.ArgumentError:
        raise DatabaseError(f"malformed database URL {_mask_raw(raw)!r}") from None


def mask_url(url: URL) -> str:
    """The URL as an operator may see it in a log: password replaced by ***."""
    return url.render_as_string(hide_password=True)


def build_engine(url: URL) -> Engine:
    """An engine tuned for the backend; SQLite parent directories are created here."""
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    connect_args: dict[str, Any] = {}
    if url.get_backend_name() == "postgresql" and "connect_timeout" not in url.query:
        connect_args["connect_timeout"] = PG_CONNECT_TIMEOUT_S
    return create_engine(
        url,
        connect_args=connect_args,
        pool_pre_ping=True,
        json_serializer=json_text,
        json_deserializer=json_value,
    )


def _sqlite_engine(url: URL) -> Engine:
    database = url.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        json_serializer=json_text,
        json_deserializer=json_value,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # SQLAlchemy's documented recipe: take BEGIN away from the sqlite3 module so the
        # "begin" hook below decides between deferred and IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # A call the run makes in its event loop waits for a lock only briefly
        # (`probe.store.calls`); the pool's connections serve both kinds of call.
        wait = lock_wait_ms.get()
        wait = SQLITE_BUSY_TIMEOUT_MS if wait is None else wait
        info = conn.connection.info
        if info.get("busy_timeout_ms", SQLITE_BUSY_TIMEOUT_MS) != wait:
            conn.exec_driver_sql(f"PRAGMA busy_timeout = {int(wait)}")
            info["busy_timeout_ms"] = wait
        if conn.get_execution_options().get(WRITE_OPTION):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")

    return engine


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic Config built in code; `connection` is handed to env.py when given.

    `stdout` is passed explicitly: Config's default is the `sys.stdout` of the moment
    Alembic was first imported, which (now that the import is lazy) may be a stream a
    caller swapped in and has closed since (click's runner, pytest's capture).
    """
    from alembic.config import Config

    config = Config(stdout=sys.stdout)
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _migrate_retrying(engine: Engine, *, upgrade: bool, shown: str) -> None:
    """`migrate`, retried while a fresh SQLite file is being set up by another process.

    Two processes opening a new SQLite file at once race to switch it to WAL and create
    the schema; SQLite may answer "database is locked" at once (without its busy handler)
    when the lock cannot be waited for safely. That race lasts milliseconds, so a few
    short retries settle it; any other error, or one that persists, is reported.
    """
    delay = 0.05
    for attempt in range(8):  # about 6 s in all
        try:
            migrate(engine, upgrade=upgrade, shown=shown)
            return
        except sqlalchemy.exc.OperationalError as exc:
            locked = "database is locked" in str(exc.orig)
            if not locked or engine.dialect.name != "sqlite" or attempt == 7:
                raise
            engine.dispose()
            time.sleep(delay)
            delay *= 2


def migrate(engine: Engine, *, upgrade: bool, shown: str) -> None:
    """Bring the schema to head, refusing a schema this probe does not know.

    The common case, a database already at `SCHEMA_HEAD`, is one plain read of the version
    table; anything else (empty, older, unknown or several heads) goes to Alembic.
    """
    with engine.connect() as conn:
        current = schema_revisions(conn)
    if current == {SCHEMA_HEAD}:
        return
    _migrate_with_alembic(engine, upgrade=upgrade, shown=shown)


def schema_revisions(conn: Connection) -> set[str]:
    """The revisions stamped in the version table (empty when there is none), read the way
    Alembic's `MigrationContext.get_current_heads` reads them, without importing Alembic."""
    if not inspect(conn).has_table(VERSION_TABLE):
        return set()
    rows = conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars()
    return {str(rev) for rev in rows}


def _migrate_with_alembic(engine: Engine, *, upgrade: bool, shown: str) -> None:
    """Upgrade to head with Alembic, or refuse with the schema's and this probe's revisions.

    The upgrade runs inside one write transaction (BEGIN IMMEDIATE on SQLite, an advisory
    transaction lock on PostgreSQL), so two processes opening a fresh database at once do
    not both try to create the tables; the loser waits and then finds the schema at head.
    """
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    heads = set(script.get_heads())
    known = {rev.revision for rev in script.walk_revisions()}
    with engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    _refuse_unknown(current, known, heads, shown)
    if current == heads:
        return
    if not upgrade:
        raise DatabaseError(
            f"database {shown}: schema {_revs(current) or 'empty'} is older than this probe "
            f"(head {_revs(heads)}); open it with upgrade enabled"
        )
    writer = engine.execution_options(**{WRITE_OPTION: True})
    with writer.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_MIGRATION_LOCK})
        current = set(MigrationContext.configure(conn).get_current_heads())
        _refuse_unknown(current, known, heads, shown)
        if current != heads:
            command.upgrade(alembic_config(conn), "head")


def _refuse_unknown(current: set[str], known: set[str], heads: set[str], shown: str) -> None:
    unknown = current - known
    if unknown:
        raise DatabaseError(
            f"database {shown}: schema {_revs(unknown)} is newer than this probe "
            f"(head {_revs(heads)}); upgrade probe"
        )


def _revs(revs: set[str]) -> str:
    return ",".join(sorted(revs))


def _one_line(exc: BaseException | None) -> str:
    message = " ".join(str(exc).split()) if exc is not None else ""
    return message or type(exc).__name__


def _mask_raw(raw: str) -> str:
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", raw)
