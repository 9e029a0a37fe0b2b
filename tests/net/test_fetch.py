"""One fetch against each fault: a code and a message, within budget, memory bounded."""

from __future__ import annotations

import time
import tracemalloc

import pytest

from probe.net.client import ENGINES
from probe.settings import Settings
from tests.net.net_faults import FaultServer, run_fetch

MiB = 1024 * 1024


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("host", "code"),
    [
        ("endless", "too_large"),
        ("huge", "too_large"),
        ("huge-nolength", "too_large"),
        ("gzip-bomb", "decompression_bomb"),
        ("deflate-bomb", "decompression_bomb"),
        ("br-bomb", "decompression_bomb"),
    ],
)
def test_oversized_bodies_abort_with_bounded_memory(
    settings: Settings, host: str, code: str, engine: str
) -> None:
    tracemalloc.start()
    try:
        result = run_fetch(settings, f"http://{host}.test/", engine=engine)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.error == code, result.message
    assert result.body == b""
    assert peak < 4 * settings.max_body_bytes  # the bombs expand to 64 MiB, bodies to 50 MiB


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("host", "code", "status"),
    [
        ("reset", "connection_reset", 200),
        ("garbage", "invalid_response", 0),
        ("badlength", "incomplete_body", 200),
        ("loop", "redirect_loop", 302),
        ("chain", "too_many_redirects", 0),
        ("e500", "http_500", 500),
        ("e503", "http_503", 503),
    ],
)
def test_faults_become_codes(
    settings: Settings, host: str, code: str, status: int, engine: str
) -> None:
    result = run_fetch(settings, f"http://{host}.test/", engine=engine)
    assert (result.error, result.status) == (code, status), result.message
    assert result.message


def test_hanging_server_read_timeout_retried(server: FaultServer, settings: Settings) -> None:
    result = run_fetch(settings, "http://hang.test/")
    assert result.error == "read_timeout"
    assert result.attempts == settings.retries == server.hits[("hang.test", "/")]


def test_slowloris_bounded_by_attempt_budget(server: FaultServer, settings: Settings) -> None:
    """One byte every 0.1 s never trips the 0.5 s read timeout; the attempt budget does."""
    result = run_fetch(settings, "http://trickle.test/")
    assert result.error == "slow_response"
    assert result.attempts == 1  # a trickle is not retried


def test_deadline_cuts_a_fetch_short(settings: Settings) -> None:
    result = run_fetch(settings, "http://trickle.test/", deadline=time.monotonic() + 0.3)
    assert result.error == "deadline"


def test_redirect_loop_records_each_hop(settings: Settings) -> None:
    result = run_fetch(settings, "http://loop.test/")
    assert [u for u, _ in result.redirects] == [
        "http://loop.test/", "http://loop.test/a", "http://loop.test/b"
    ]  # fmt: skip


def test_thirty_hop_chain_stops_at_max_redirects(server: FaultServer, settings: Settings) -> None:
    result = run_fetch(settings.with_(max_redirects=5), "http://chain.test/")
    assert result.error == "too_many_redirects"
    assert len(result.redirects) == 6
    assert sum(n for (h, _), n in server.hits.items() if h == "chain.test") == 6


def test_redirect_chain_followed(settings: Settings) -> None:
    result = run_fetch(settings, "http://chain3.test/")
    assert result.ok and result.final_url == "http://chain3.test/3"
    assert result.redirects == (
        ("http://chain3.test/", 301), ("http://chain3.test/1", 302), ("http://chain3.test/2", 301)
    )  # fmt: skip


def test_retry_then_success(server: FaultServer, settings: Settings) -> None:
    result = run_fetch(settings, "http://retry503.test/")
    assert result.ok and result.attempts == 3
    assert server.hits[("retry503.test", "/")] == 3


def test_retry_after_honoured_and_clamped(server: FaultServer, settings: Settings) -> None:
    """429 with Retry-After: 1 is retried after the clamped delay (max_crawl_delay)."""
    result = run_fetch(settings, "http://e429.test/")
    assert result.ok and result.attempts == 2
    clamped = run_fetch(settings, "http://e503.test/")  # Retry-After 1 s, clamped to 0.05 s
    assert clamped.error == "http_503" and clamped.attempts == settings.retries
    assert clamped.retry_after == 1.0
    # Unclamped, the 1 s wait would pass the deadline, so no second attempt is made.
    slow = settings.with_(max_crawl_delay=5.0)
    unclamped = run_fetch(slow, "http://e503.test/", deadline=time.monotonic() + 0.5)
    assert unclamped.error == "http_503" and unclamped.attempts == 1


def test_non_retryable_faults_are_not_retried(server: FaultServer, settings: Settings) -> None:
    run_fetch(settings, "http://garbage.test/")
    run_fetch(settings, "http://botwall.test/")
    assert server.hits[("garbage.test", "/")] == 1
    assert server.hits[("botwall.test", "/")] == 1


def test_gzip_body_decoded(settings: Settings) -> None:
    result = run_fetch(settings, "http://gzip-ok.test/")
    assert result.ok and "Cổng thông tin".encode() in result.body


def test_conditional_request_not_modified(server: FaultServer, settings: Settings) -> None:
    first = run_fetch(settings, "http://notmod.test/")
    assert first.ok and first.headers["etag"] == '"v1"' and not first.not_modified
    again = run_fetch(settings, "http://notmod.test/", etag='"v1"')
    assert again.ok and again.not_modified and again.body == b""
    assert server.seen_headers[("notmod.test", "/")]["if-none-match"] == '"v1"'


def test_honest_user_agent(server: FaultServer, settings: Settings) -> None:
    run_fetch(settings, "http://site.test/")
    agent = server.seen_headers[("site.test", "/")]["user-agent"]
    assert agent == settings.user_agent and settings.contact_url in agent
