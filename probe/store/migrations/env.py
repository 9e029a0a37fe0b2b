"""Alembic environment for probe, driven from code (`probe.store.db.migrate`).

`open_store` passes its own connection in `config.attributes["connection"]`, already inside
a write transaction holding the migration lock; the command line (`alembic -c …`) may pass
`sqlalchemy.url` instead. APScheduler's `apscheduler_jobs`, and any other table this
metadata does not describe, is invisible to autogenerate, so no revision ever drops it.
"""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import Connection, create_engine

from probe.store.models import Base

IGNORED_TABLES = frozenset({"apscheduler_jobs"})


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Leave out tables that belong to someone else (APScheduler, a shared schema)."""
    foreign = name in IGNORED_TABLES or (reflected and compare_to is None)
    return not (type_ == "table" and foreign)


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        include_object=include_object,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run() -> None:
    """Offline (SQL script), with the caller's connection, or with a URL of our own."""
    config = context.config
    if context.is_offline_mode():
        context.configure(
            url=config.get_main_option("sqlalchemy.url"),
            target_metadata=Base.metadata,
            include_object=include_object,
            literal_binds=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    try:
        with engine.begin() as own:
            _configure(own)
    finally:
        engine.dispose()


run()
