"""SSRF through the real CLI: `probe check` of an inward address is a `refused` finding.

The unit tests of the guard (tests/net/test_guard.py) prove the validator; these prove the
promise an operator relies on: whatever URL a person types, without `--allow-private` no
TCP connection reaches a loopback service, the portal is reported `refused` with a reason,
and the command exits 0 with the finding (interface.md: refusal is a result, not an error).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.safety.safety_helpers import counting_server, run_probe

DISGUISES = [
    "http://127.0.0.1:{port}/",
    "http://2130706433:{port}/",  # decimal
    "http://0x7f.1:{port}/",  # hex, short form
    "http://0177.0.0.1:{port}/",  # octal
    "http://[::ffff:127.0.0.1]:{port}/",  # IPv4-mapped IPv6
    "http://127.0.0.1.:{port}/",  # trailing dot
    "http://gov.vn@127.0.0.1:{port}/",  # userinfo trick
    "http://localhost:{port}/",  # a name: only resolution reveals loopback
]


def _portal(result_out: str) -> dict[str, object]:
    doc = json.loads(result_out)
    assert len(doc["portals"]) == 1
    return doc["portals"][0]


@pytest.mark.parametrize("template", DISGUISES)
def test_inward_address_refused_and_never_contacted(tmp_path: Path, template: str) -> None:
    db = tmp_path / "probe.sqlite"
    with counting_server() as server:
        url = template.format(port=server.server_address[1])
        result = run_probe("check", url, "--format", "json", "--db", f"sqlite:///{db}",
                           home=tmp_path)  # fmt: skip
        connections = server.connections
    assert result.code == 0, result.err
    assert "Traceback" not in result.err
    portal = _portal(result.out)
    assert portal["outcome"] == "refused"
    assert portal["reason"]["code"] == "address_refused"  # type: ignore[index]
    assert "--allow-private" in portal["reason"]["message"]  # type: ignore[index]
    assert connections == 0
    with sqlite3.connect(db) as conn:
        stored = conn.execute("select outcome, reason_code from portal_result").fetchall()
    assert stored == [("refused", "address_refused")]


def test_connect_to_cannot_smuggle_a_loopback_target(tmp_path: Path) -> None:
    """A public-looking name sent to loopback by --connect-to is judged by where it goes."""
    with counting_server() as server:
        result = run_probe(
            "check", "http://portal.quangbinh.gov.vn/", "--format", "json",
            "--connect-to", f"::127.0.0.1:{server.server_address[1]}",
            "--db", f"sqlite:///{tmp_path / 'p.sqlite'}", home=tmp_path,
        )  # fmt: skip
        connections = server.connections
    assert result.code == 0, result.err
    assert _portal(result.out)["outcome"] == "refused"
    assert connections == 0


def test_allow_private_reaches_the_same_server(tmp_path: Path) -> None:
    """Control: the server above is reachable, so `connections == 0` means refused."""
    with counting_server() as server:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        result = run_probe("check", url, "--allow-private", "--format", "json",
                           "--max-pages", "1", "--db", f"sqlite:///{tmp_path / 'p.sqlite'}",
                           home=tmp_path)  # fmt: skip
        connections = server.connections
    assert result.code == 0, result.err
    assert _portal(result.out)["outcome"] == "checked"
    assert connections >= 1


@pytest.mark.parametrize("url", ["http://[fe80::1]/", "http://224.0.0.1/", "http://[ff02::1]/"])
def test_link_local_and_multicast_refused_even_with_allow_private(tmp_path: Path, url: str) -> None:
    result = run_probe("check", url, "--allow-private", "--format", "json",
                       "--db", f"sqlite:///{tmp_path / 'p.sqlite'}", home=tmp_path)  # fmt: skip
    assert result.code == 0, result.err
    portal = _portal(result.out)
    assert (portal["outcome"], portal["reason"]["code"]) == ("refused", "address_refused")  # type: ignore[index]


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "ftp://lethuy.gov.vn/", "gopher://127.0.0.1:25/", "data:text/html,x"],
)
def test_non_http_schemes_are_bad_input(tmp_path: Path, url: str) -> None:
    db = tmp_path / "p.sqlite"
    result = run_probe("check", url, "--allow-private", "--db", f"sqlite:///{db}", home=tmp_path)
    assert result.code == 2
    assert len(result.err_lines) == 1 and "TARGET" in result.err_lines[0], result.err
    assert not db.exists()
