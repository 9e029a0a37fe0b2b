"""SSRF guard: every disguise of an inward address is seen through, at parse and connect."""

from __future__ import annotations

import asyncio
import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from probe.net.guard import AddressPolicy, RefusedAddress, classify, parse_ip, resolve_checked
from probe.settings import ConnectTo, Settings
from tests.net.net_faults import FaultServer, run_crawl, run_fetch

STRICT = AddressPolicy(allow_private=False)
LAX = AddressPolicy(allow_private=True)

DISGUISED_LOOPBACK = [
    "http://127.0.0.1/",
    "http://2130706433/",  # decimal
    "http://0177.0.0.1/",  # octal octet
    "http://0x7f.1/",  # hex, short form
    "http://0x7f000001/",
    "http://127.1/",
    "http://127.0.0.1./",  # trailing dot
    "http://[::ffff:127.0.0.1]/",  # IPv4-mapped IPv6
    "http://[::ffff:7f00:1]/",
    "http://[::1]/",
    "http://gov.vn@127.0.0.1/",  # userinfo trick: the host is 127.0.0.1
    "http://0.0.0.0/",
    "http://0/",
]


@pytest.mark.parametrize("url", DISGUISED_LOOPBACK)
def test_disguised_private_addresses_refused(url: str) -> None:
    with pytest.raises(RefusedAddress) as info:
        STRICT.check_url(url)
    assert info.value.code == "address_refused"
    LAX.check_url(url)  # allowed with --allow-private


@pytest.mark.parametrize(
    "url",
    ["http://10.1.2.3/", "http://172.16.0.1/", "http://192.168.1.1/", "http://100.64.0.1/",
     "http://[fc00::1]/", "http://[fd12:3456::1]/"],
)  # fmt: skip
def test_private_ranges_refused_unless_allowed(url: str) -> None:
    with pytest.raises(RefusedAddress):
        STRICT.check_url(url)
    LAX.check_url(url)


@pytest.mark.parametrize(
    "url",
    ["http://169.254.169.254/latest/meta-data/", "http://0xa9fea9fe/", "http://[fe80::1]/",
     "http://224.0.0.1/", "http://[ff02::1]/", "http://255.255.255.255/", "http://240.0.0.1/",
     "http://[::]/", "http://[::ffff:169.254.169.254]/", "http://192.0.2.1/"],
)  # fmt: skip
def test_never_allowed_even_with_allow_private(url: str) -> None:
    with pytest.raises(RefusedAddress):
        LAX.check_url(url)


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "ftp://example.vn/", "gopher://127.0.0.1:25/", "data:text/html,x",
     "javascript:alert(1)", "http:///nohost"],
)  # fmt: skip
def test_bad_schemes_and_hosts_refused(url: str) -> None:
    with pytest.raises(RefusedAddress) as info:
        LAX.check_url(url)
    assert info.value.code in ("scheme_refused", "invalid_url")


def test_public_addresses_and_names_pass() -> None:
    STRICT.check_url("http://8.8.8.8/")
    STRICT.check_url("https://quangbinh.gov.vn/")  # names are resolved at connect time
    assert parse_ip("quangbinh.gov.vn") is None
    assert parse_ip("1.2.3.4.5") is None


@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_every_ipv4_spelling_classifies_alike(n: int) -> None:
    ip = ipaddress.IPv4Address(n)
    octets = str(ip).split(".")
    spellings = [str(n), hex(n), str(ip), ".".join(f"0{int(o):o}" for o in octets),
                 f"[::ffff:{ip}]", f"{octets[0]}.{(n & 0xFFFFFF)}"]  # fmt: skip
    for spelling in spellings:
        assert parse_ip(spelling) == ip or parse_ip(spelling).ipv4_mapped == ip  # type: ignore[union-attr]
        assert classify(parse_ip(spelling)) == classify(ip)  # type: ignore[arg-type]


@given(st.text(max_size=80))
def test_check_url_never_crashes(text: str) -> None:
    for url in (text, "http://" + text, "https://" + text + "/"):
        try:
            STRICT.check_url(url)
        except RefusedAddress as exc:
            assert exc.code in ("address_refused", "scheme_refused", "invalid_url")
        else:
            assert url.lower().startswith(("http://", "https://"))


@given(st.text(max_size=40))
def test_parse_ip_never_crashes(text: str) -> None:
    ip = parse_ip(text)
    if ip is not None:
        assert parse_ip(str(ip)) == ip


def test_connect_time_guard_checks_resolved_name() -> None:
    """`localhost` is a name, not a literal: only resolution reveals it is loopback."""
    with pytest.raises(RefusedAddress):
        asyncio.run(resolve_checked(STRICT, "localhost", 80))
    assert str(asyncio.run(resolve_checked(LAX, "localhost", 80))).startswith(("127.", "::1"))


def test_connect_to_target_is_guarded(server: FaultServer, settings: Settings) -> None:
    """--connect-to cannot smuggle a request to loopback without --allow-private."""
    strict = settings.with_(allow_private=False)
    result = run_fetch(strict, "http://site.test/")
    assert result.error == "address_refused"
    assert server.hits[("site.test", "/")] == 0
    disguised = strict.with_(connect_to=(ConnectTo("", None, "2130706433", server.port),))
    assert run_fetch(disguised, "http://site.test/").error == "address_refused"
    assert server.hits[("site.test", "/")] == 0


def test_redirect_to_private_address_is_refused(server: FaultServer, settings: Settings) -> None:
    """A redirect to the metadata service is refused at the hop, before any request."""
    result = run_fetch(settings, "http://redirect-metadata.test/")
    assert result.error == "address_refused"
    assert result.redirects == (("http://redirect-metadata.test/", 302),)


def test_crawl_of_refused_portal(settings: Settings) -> None:
    site = run_crawl(settings.with_(allow_private=False), "http://0x7f.1/")
    assert site.outcome == "refused" and site.reason is not None
    assert site.reason.code == "address_refused"
    site = run_crawl(settings.with_(allow_private=False), "http://site.test/")
    assert site.outcome == "refused"
