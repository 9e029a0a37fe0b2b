"""Where a run's store calls execute (`probe.store.calls`), with real databases."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from probe.store import open_store
from probe.store.calls import INLINE_LOCK_WAIT_MS, StoreCalls
from probe.store.db import SQLITE_BUSY_TIMEOUT_MS


def _busy_timeout(store: object) -> int:
    """The busy timeout a write transaction of `store` runs under, as SQLite reports it."""
    with store._write_engine.begin() as conn:  # type: ignore[attr-defined]
        return int(conn.exec_driver_sql("PRAGMA busy_timeout").scalar_one())


def _runs(store: object) -> list[tuple[int, str]]:
    with store.engine.connect() as conn:  # type: ignore[attr-defined]
        return [tuple(r) for r in conn.execute(sa.text("SELECT id, trigger FROM run"))]


def test_sqlite_calls_run_in_the_event_loop_thread(sqlite_url: str) -> None:
    with open_store(sqlite_url) as store:
        calls = StoreCalls(store)

        async def go() -> tuple[threading.Thread, int, int]:
            run_id = await calls(store.start_run, "manual", "nd43-2011", 1, {}, 0)
            return await calls(threading.current_thread), run_id, await calls(_busy_timeout, store)

        try:
            thread, run_id, waited = asyncio.run(go())
        finally:
            calls.close()
        assert calls.inline and thread is threading.main_thread()
        assert waited == INLINE_LOCK_WAIT_MS  # in the loop, a lock is waited for briefly
        assert _busy_timeout(store) == SQLITE_BUSY_TIMEOUT_MS  # elsewhere, the full time
        assert _runs(store) == [(run_id, "manual")]


def test_each_backend_runs_calls_where_it_should(any_db_url: str) -> None:
    """SQLite in the loop's own thread; PostgreSQL (a server) in the store thread."""
    with open_store(any_db_url) as store:
        calls = StoreCalls(store)
        try:
            thread = asyncio.run(calls(threading.current_thread))
        finally:
            calls.close()
        if any_db_url.startswith("sqlite"):
            assert calls.inline and thread is threading.main_thread()
        else:
            assert not calls.inline and thread.name.startswith("probe-store")


def test_a_locked_sqlite_file_hands_the_call_to_the_thread(tmp_path: Path) -> None:
    """Another process holds the write lock: the call must not stop the loop while it
    waits. The lock is released by a callback of the loop itself, so a call that blocked
    the loop for the whole busy timeout would never see it released in time."""
    path = tmp_path / "probe.sqlite"
    with open_store(f"sqlite:///{path}") as store:
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # e.g. an operator's `probe check` saving
        calls = StoreCalls(store)
        seen: list[str] = []

        def start_run() -> int:
            seen.append(threading.current_thread().name)
            return store.start_run("nightly", "nd43-2011", 1, {}, 0)

        async def go() -> tuple[int, int]:
            asyncio.get_running_loop().call_later(0.3, other.execute, "ROLLBACK")
            run_id = await calls(start_run)
            return run_id, await calls(_busy_timeout, store)

        try:
            run_id, waited = asyncio.run(go())
        finally:
            calls.close()
            other.close()
        assert seen == ["MainThread", seen[1]] and seen[1].startswith("probe-store")
        assert calls.handed_over == 1
        assert waited == INLINE_LOCK_WAIT_MS  # the next call is back in the loop
        assert _runs(store) == [(run_id, "nightly")]


def test_other_database_errors_are_not_handed_over(sqlite_url: str) -> None:
    with open_store(sqlite_url) as store:
        calls = StoreCalls(store)

        def broken() -> None:
            with store.engine.connect() as conn:
                conn.execute(sa.text("SELECT * FROM no_such_table"))

        try:
            with pytest.raises(sa.exc.OperationalError, match="no_such_table"):
                asyncio.run(calls(broken))
        finally:
            calls.close()
        assert calls.handed_over == 0
