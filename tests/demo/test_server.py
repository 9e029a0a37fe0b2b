"""The sample portals over a real socket: what the crawler and the benchmark rely on."""

from __future__ import annotations

import tomllib
import unicodedata
from collections.abc import Iterator
from datetime import date, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
from protego import Protego
from selectolax.lexbor import LexborHTMLParser

from probe.demo.server import PORTALS_DIR, DemoServer, encode_cp1258

TODAY = date(2026, 3, 16)
EXPECTED = Path(PORTALS_DIR).parent / "expected.toml"
REGISTRY_HOSTS = {
    "sct.quangbinh.gov.vn",
    "stnmt.quangbinh.gov.vn",
    "stp.quangbinh.gov.vn",
    "bqlkkt.quangbinh.gov.vn",
    "tuyenhoa.quangbinh.gov.vn",
    "botrach.quangbinh.gov.vn",
    "quangninh.quangbinh.gov.vn",
    "lethuy.quangbinh.gov.vn",
    "lethuy.gov.vn",
    "donghoi.quangbinh.gov.vn",
    "badon.quangbinh.gov.vn",
    "bacly.donghoi.quangbinh.gov.vn",
}


@pytest.fixture(scope="module")
def server() -> Iterator[DemoServer]:
    with DemoServer(today=TODAY) as srv:
        yield srv


@pytest.fixture(scope="module")
def client(server: DemoServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=10) as c:
        yield c


def get(client: httpx.Client, host: str, path: str, **headers: str) -> httpx.Response:
    return client.get(path, headers={"Host": host, **headers})


def test_serves_exactly_the_registry_hosts(server: DemoServer) -> None:
    assert set(server.hosts) == REGISTRY_HOSTS
    assert server.connect_to == [f"::127.0.0.1:{server.port}"]


@pytest.mark.parametrize("host", sorted(REGISTRY_HOSTS))
def test_each_host_serves_its_own_home_page(client: httpx.Client, host: str) -> None:
    resp = get(client, host, "/")
    if resp.status_code == 302:  # Đồng Hới's portal redirects its root
        resp = get(client, host, urlsplit(resp.headers["Location"]).path)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "text/html; charset=utf-8"
    assert resp.headers["ETag"] and resp.headers["Last-Modified"]
    assert "{{" not in resp.text  # every placeholder rendered


def test_host_dispatch_serves_different_portals_for_one_path(client: httpx.Client) -> None:
    a = get(client, "sct.quangbinh.gov.vn", "/3cms/gioi-thieu.htm")
    b = get(client, "tuyenhoa.quangbinh.gov.vn", "/3cms/gioi-thieu.htm")
    assert a.status_code == 200 and "Sở Công Thương" in a.text
    assert b.status_code == 404  # Tuyên Hóa's 3cms has no such page
    port_in_host = get(client, "SCT.quangbinh.gov.vn:80", "/3cms/gioi-thieu.htm")
    assert port_in_host.status_code == 200


def test_unknown_host_and_unknown_path_are_404(client: httpx.Client) -> None:
    assert get(client, "example.gov.vn", "/").status_code == 404
    resp = get(client, "stp.quangbinh.gov.vn", "/Pages/khong-co.aspx")
    assert resp.status_code == 404 and "Không tìm thấy" in resp.text
    assert get(client, "stp.quangbinh.gov.vn", "/_layout.html").status_code == 404
    assert get(client, "stp.quangbinh.gov.vn", "/../stnmt.quangbinh.gov.vn/").status_code == 404


def test_conditional_requests_answer_304(client: httpx.Client) -> None:
    first = get(client, "stnmt.quangbinh.gov.vn", "/web/guest/tin-tuc")
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    again = get(client, "stnmt.quangbinh.gov.vn", "/web/guest/tin-tuc", **{"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["ETag"] == etag
    since = get(
        client, "stnmt.quangbinh.gov.vn", "/web/guest/tin-tuc", **{"If-Modified-Since": modified}
    )
    assert since.status_code == 304
    older = format_datetime(parsedate_to_datetime(modified) - timedelta(days=1), usegmt=True)
    stale = get(
        client, "stnmt.quangbinh.gov.vn", "/web/guest/tin-tuc", **{"If-Modified-Since": older}
    )
    assert stale.status_code == 200
    other = get(client, "stnmt.quangbinh.gov.vn", "/web/guest/tin-tuc", **{"If-None-Match": '"x"'})
    assert other.status_code == 200 and other.content == first.content


def test_news_dates_follow_the_serving_day(client: httpx.Client) -> None:
    two_days = (TODAY - timedelta(days=2)).strftime("%d/%m/%Y")
    assert two_days in get(client, "sct.quangbinh.gov.vn", "/3cms/tin-tuc-su-kien.htm").text
    stale = TODAY - timedelta(days=201)
    long_form = f"ngày {stale.day} tháng {stale.month} năm {stale.year}"
    assert long_form in get(client, "tuyenhoa.quangbinh.gov.vn", "/3cms/tin-tuc.htm").text
    iso = (TODAY - timedelta(days=3)).isoformat()
    assert f'datetime="{iso}"' in get(client, "bqlkkt.quangbinh.gov.vn", "/").text


def test_robots_rules(client: httpx.Client) -> None:
    stnmt = Protego.parse(get(client, "stnmt.quangbinh.gov.vn", "/robots.txt").text)
    assert not stnmt.can_fetch("http://stnmt.quangbinh.gov.vn/web/guest/thu-vien-anh", "probe")
    assert stnmt.can_fetch("http://stnmt.quangbinh.gov.vn/web/guest/tin-tuc", "probe")
    bacly = get(client, "bacly.donghoi.quangbinh.gov.vn", "/robots.txt")
    assert bacly.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert Protego.parse(bacly.text).crawl_delay("probe") == 1


def test_windows_1258_page_bytes(client: httpx.Client) -> None:
    resp = get(client, "badon.quangbinh.gov.vn", "/gioi-thieu.html")
    assert resp.headers["Content-Type"] == "text/html; charset=windows-1258"
    with pytest.raises(UnicodeDecodeError):
        resp.content.decode("utf-8")
    text = resp.content.decode("cp1258")
    assert "Giới thiệu thị xã Ba Đồn" in unicodedata.normalize("NFC", text)
    assert "&#" not in text  # every letter encoded, none as a character reference
    source = (PORTALS_DIR / "badon.quangbinh.gov.vn" / "gioi-thieu.html").read_text("utf-8")
    assert resp.content == encode_cp1258(source)
    # tones the code page lacks precomposed travel as combining marks: "ệ" = "ê" + dot below
    assert encode_cp1258("ệ") == "ê".encode("cp1258") + b"\xf2"


def test_redirect_and_broken_targets(client: httpx.Client) -> None:
    resp = get(client, "donghoi.quangbinh.gov.vn", "/")
    assert resp.status_code == 302
    assert resp.headers["Location"] == "http://donghoi.quangbinh.gov.vn/portal/home"
    assert get(client, "sct.quangbinh.gov.vn", "/3cms/lich-cong-tac.htm").status_code == 500
    empty = get(client, "bqlkkt.quangbinh.gov.vn", "/dinh-huong-phat-trien")
    assert empty.status_code == 200 and empty.content == b""
    wall = LexborHTMLParser(get(client, "stnmt.quangbinh.gov.vn", "/web/guest/gop-y-du-thao").text)
    main = wall.css_first("#column-2")
    assert main is not None and main.css("input[type=password]")
    assert not main.css("p, table, h2")  # nothing but the sign-in form


def _crawl(client: httpx.Client, host: str) -> tuple[set[str], list[str], list[str]]:
    """Every page reachable from `/`, the links that did not resolve, foreign references."""
    seen: set[str] = set()
    queue, broken, foreign = [f"http://{host}/"], [], []
    intended = {f"http://{host}{p}" for p in DemoServer().sites[host].errors}
    while queue:
        url = queue.pop()
        if url in seen:
            continue
        seen.add(url)
        parts = urlsplit(url)
        resp = get(client, parts.netloc, parts.path or "/")
        if resp.status_code in (301, 302):
            queue.append(resp.headers["Location"])
            continue
        if resp.status_code != 200 and url not in intended:
            broken.append(f"{url} -> {resp.status_code}")
        if not resp.headers.get("Content-Type", "").startswith("text/html") or not resp.content:
            continue
        tree = LexborHTMLParser(resp.content.decode(resp.encoding or "utf-8"))
        for node in tree.css("[href], [src], form[action]"):
            attrs = node.attributes
            ref = attrs.get("href") or attrs.get("src") or attrs.get("action") or ""
            target = urljoin(url, ref).split("#")[0]
            target_host = urlsplit(target).hostname or ""
            if target_host == host:
                if node.tag == "a" or node.tag == "img":
                    queue.append(target)
            elif target_host in REGISTRY_HOSTS:
                if node.tag == "a":
                    queue.append(target)  # links between the demo portals must resolve too
            elif not (node.tag == "a" and target_host.endswith(".gov.vn")):
                foreign.append(f"{url}: {node.tag} {target}")
    return seen, broken, foreign


@pytest.mark.parametrize("host", sorted(REGISTRY_HOSTS))
def test_every_link_resolves_and_nothing_is_foreign(client: httpx.Client, host: str) -> None:
    seen, broken, foreign = _crawl(client, host)
    pages = [u for u in seen if urlsplit(u).hostname == host]
    assert 6 <= len([u for u in pages if not u.endswith((".png", ".gif", ".jpg"))]) <= 25
    assert broken == []
    assert foreign == []


def test_expected_results_cover_every_portal_and_check() -> None:
    data = tomllib.loads(EXPECTED.read_text(encoding="utf-8"))
    urls = {p["url"] for p in data["portal"]}
    assert urls == {f"http://{h}/" for h in REGISTRY_HOSTS}
    statuses = {"pass", "fail", "warn", "na"}
    first = set(data["portal"][0]["expect"])
    for portal in data["portal"]:
        assert set(portal["expect"]) == first, portal["url"]
        assert set(portal["expect"].values()) <= statuses
        for check_id, status in portal["expect"].items():
            if status in {"warn"}:
                why = portal["why"].get(check_id) or data.get("why", {}).get(check_id)
                assert why, f"{portal['url']} {check_id} needs a why"
        assert set(portal["why"]) <= first | {"services.level", "domain"}
    assert len([c for c in first if c.startswith("section.")]) == 19
    parallel = {a["id"]: a["expect"]["portal.parallel"] for a in data["agency"]}
    assert parallel.pop("huyen-le-thuy") == "fail"
    assert parallel.pop("phuong-bac-ly") == "na"  # its basis (ND 43 Đ6, Đ16) binds district+
    assert set(parallel.values()) == {"pass"} and len(parallel) == 9
