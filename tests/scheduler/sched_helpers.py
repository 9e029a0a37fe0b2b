"""Helpers of the scheduler tests: a loopback portal server, registries, settings, seeding."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from probe.scheduler import PlannedJob, build_scheduler, sync_jobs
from probe.settings import ConnectTo, Settings

PAGE = """<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>UBND xã {n}</title></head>
<body><nav><ul><li><a href="/gioi-thieu">Giới thiệu</a></li><li><a href="/tin-tuc">Tin tức</a></li></ul></nav>
<main><h1>Cổng thông tin điện tử UBND xã {n}</h1><p>Ngày 20/11/2026: họp giao ban.</p></main>
<footer>Cơ quan chủ quản: UBND xã {n}. Điện thoại: (0232) 3822 111</footer></body></html>"""


@dataclass
class PortalServer:
    """One loopback server answering for every host; `delay` slows each page down."""

    port: int
    delay: float

    @property
    def connect_to(self) -> str:
        return f"::127.0.0.1:{self.port}"


def _handler(delay: float) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/robots.txt":
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            time.sleep(delay)
            body = PAGE.format(n=self.headers.get("Host", "?").split(".")[0]).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            """Quiet."""

    return Handler


def serve_portals(delay: float) -> Iterator[PortalServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(delay))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield PortalServer(server.server_address[1], delay)
    finally:
        server.shutdown()
        server.server_close()


def write_registry(path: Path, count: int, *, schedules: dict[int, str] | None = None) -> Path:
    """A registry of `count` communes `xa-0..`, some with their own cron schedule."""
    schedules = schedules or {}
    entries = []
    for i in range(count):
        extra = f'schedule = "{schedules[i]}"\n' if i in schedules else ""
        entries.append(
            f'[[agency]]\nid = "xa-{i}"\nname = "UBND xã {i}"\nlevel = "commune"\n'
            f'portals = ["http://xa{i}.sched.quangbinh.gov.vn/"]\n{extra}\n'
        )
    path.write_text("".join(entries), encoding="utf-8")
    return path


def make_settings(registry: Path, db_url: str, server: PortalServer) -> Settings:
    """Small bounds so a run takes about a second."""
    return Settings().with_(
        registry_path=registry,
        db_url=db_url,
        connect_to=(ConnectTo.parse(server.connect_to),),
        allow_private=True,
        max_pages=3,
        max_depth=1,
        min_delay=0.0,
        retries=0,
        shutdown_grace=5.0,
    )


def seed_missed(store: Any, plan: list[PlannedJob], settings: Settings, when: datetime) -> None:
    """Store the plan's jobs as a scheduler would, with fire times as if it was down since `when`."""
    from probe.scheduler import JobRunner, parse_timezone

    async def seed() -> None:
        tz = parse_timezone(settings.schedule_timezone)
        runner = JobRunner(
            settings, store, ruleset_id=None, own_schedule=frozenset(),
            stop=asyncio.Event(), holder="seed",
        )  # fmt: skip
        scheduler = build_scheduler(store.engine, runner, tz, timedelta(hours=23))
        scheduler.start(paused=True)
        sync_jobs(scheduler, plan)
        for job in plan:
            scheduler.modify_job(job.id, next_run_time=when)
        scheduler.shutdown(wait=False)
        await asyncio.sleep(0)

    asyncio.run(seed())


def fire_at(when: datetime) -> CronTrigger:
    """A daily cron trigger at `when` to the second: a schedule seconds ahead, then tomorrow."""
    return CronTrigger(hour=when.hour, minute=when.minute, second=when.second, timezone=when.tzinfo)


def soon(seconds: float = 2.0) -> datetime:
    """A whole second at least `seconds` ahead, in the scheduler's zone."""
    now = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh"))
    return (now + timedelta(seconds=seconds + 1)).replace(microsecond=0)


async def wait_until(predicate: Callable[[], bool], timeout: float = 60.0) -> None:
    """Poll (in a thread, the database is blocking) until `predicate` holds; fail on timeout."""
    deadline = time.monotonic() + timeout
    while not await asyncio.to_thread(predicate):
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(0.1)
