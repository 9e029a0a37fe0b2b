"""Property tests: no input a person or a portal can produce makes these parts crash.

Existing ones (tests/net/test_guard.py, test_canon.py, tests/checks/test_text.py,
tests/test_textparse.py) cover the address validator, URL canonicalisation, text
normalisation and date/e-mail parsing. These add the other doors: registry files, portal
URLs typed on the command line, `--connect-to`, `PROBE_*` values, body decoding, page
parsing and the two output paths that carry crawled text to an operator.
"""

from __future__ import annotations

import json
import os
import tempfile
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from probe.errors import InputError
from probe.extract import parse_page
from probe.net.decode import decode_body
from probe.net.guard import AddressPolicy, RefusedAddress
from probe.output import inert_json, safe_text
from probe.registry import Registry, load_registry, validate_portal_url
from probe.settings import ConnectTo, Settings

INVISIBLE = ("Cc", "Cf", "Zl", "Zp")
URLISH = st.one_of(
    st.text(max_size=60),
    st.builds(lambda s, h, rest: f"{s}://{h}{rest}",
              st.sampled_from(["http", "https", "HTTP", "ftp", "file", "javascript", ""]),
              st.text(max_size=25), st.text(max_size=25)),
)  # fmt: skip


@given(URLISH)
def test_portal_url_validator_never_crashes(url: str) -> None:
    try:
        clean = validate_portal_url(url, "TARGET")
    except InputError as exc:
        assert str(exc).startswith("TARGET: ") and "\n" not in str(exc)
        return
    assert clean.lower().startswith(("http://", "https://"))
    assert not any(unicodedata.category(c) in (*INVISIBLE, "Zs") for c in clean)
    try:  # what the registry accepts, the SSRF guard can judge
        AddressPolicy(allow_private=False).check_url(clean)
    except RefusedAddress as exc:
        assert exc.code in ("address_refused", "scheme_refused", "invalid_url")


TOML_VALUES = st.one_of(
    st.text(max_size=20).map(json.dumps),  # a TOML basic string is JSON-compatible
    st.integers().map(str), st.booleans().map(lambda b: str(b).lower()),
    st.lists(st.text(max_size=30).map(json.dumps), max_size=3).map(lambda v: f"[{', '.join(v)}]"),
    st.just("{ url = \"http://a.gov.vn/\", inferred = 1 }"),
)  # fmt: skip
KEYS = st.sampled_from(["id", "name", "level", "portals", "active", "domains", "licence_required",
                        "province_domain", "schedule", "colour"])  # fmt: skip


@contextmanager
def _file(text: str) -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "portals.toml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        yield path


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(st.tuples(KEYS, TOML_VALUES), max_size=7), min_size=0, max_size=3))
def test_registry_loader_never_crashes_on_near_valid_files(
    entries: list[list[tuple[str, str]]],
) -> None:
    text = "".join(
        "[[agency]]\n" + "".join(f"{k} = {v}\n" for k, v in dict(entry).items()) + "\n"
        for entry in entries
    )
    with _file(text) as path:
        try:
            registry = load_registry(path)
        except InputError as exc:
            assert str(path) in str(exc) and "\n" not in str(exc)
            return
    assert isinstance(registry, Registry) and registry.agencies


@given(st.text(max_size=200))
def test_registry_loader_never_crashes_on_any_text(text: str) -> None:
    encoded = text.encode("utf-8", "surrogatepass")  # lone surrogates: bytes no editor writes
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "portals.toml"
        path.write_bytes(encoded)
        try:
            load_registry(path)
        except InputError as exc:
            assert "\n" not in str(exc)


@given(st.text(max_size=40))
def test_connect_to_parser_never_crashes(spec: str) -> None:
    try:
        rule = ConnectTo.parse(spec)
    except InputError as exc:
        assert "--connect-to" in str(exc)
        return
    assert rule.port is None or isinstance(rule.port, int)


NUMERIC_ENV = ["PROBE_MAX_PAGES", "PROBE_MAX_DEPTH", "PROBE_PER_HOST", "PROBE_PORTAL_CONCURRENCY",
               "PROBE_MIN_DELAY", "PROBE_READ_TIMEOUT", "PROBE_PORTAL_DEADLINE",
               "PROBE_MAX_BODY_BYTES", "PROBE_BODY_RETENTION_DAYS"]  # fmt: skip


@given(
    st.sampled_from(NUMERIC_ENV),
    st.one_of(st.text(max_size=12), st.integers().map(str), st.floats().map(str)),
)
def test_settings_from_env_accept_only_sane_values(name: str, value: str) -> None:
    if "\x00" in value:
        return  # the OS cannot carry it in an environment variable
    saved = os.environ.get(name)
    os.environ[name] = value
    try:
        got = Settings.from_env()
    except InputError as exc:
        assert name in str(exc) and "\n" not in str(exc)
        return
    finally:
        if saved is None:
            del os.environ[name]
        else:
            os.environ[name] = saved
    assert got.max_pages >= 1 and got.max_depth >= 0 and got.per_host_concurrency >= 1
    assert 0 < got.read_timeout < float("inf") and 0 < got.portal_deadline < float("inf")
    assert 0 <= got.min_delay < float("inf") and got.max_body_bytes >= 1024


@given(st.binary(max_size=400), st.text(max_size=40))
def test_decode_body_never_raises(body: bytes, content_type: str) -> None:
    text, charset = decode_body(body, content_type)
    assert isinstance(text, str) and isinstance(charset, str)


@settings(max_examples=80, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=400), st.sampled_from(["<a href='", "<footer>", "<title>", "</", "<!--"]))
def test_parse_page_never_raises(text: str, tag: str) -> None:
    html = f"<html><body>{tag}{text}</body></html>"
    page = parse_page(html, url="http://a.gov.vn/", final_url="http://a.gov.vn/", status=200)
    assert page.url == "http://a.gov.vn/"


@given(
    st.recursive(
        st.text(),
        lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c, max_size=3),
        max_leaves=8,
    )
)
def test_inert_json_round_trips_without_invisible_characters(data: object) -> None:
    text = inert_json(data)
    assert json.loads(text) == data
    assert not any(c != "\n" and unicodedata.category(c) in INVISIBLE for c in text)


@given(st.text())
def test_terminal_text_has_no_controls(value: str) -> None:
    shown = safe_text(value).plain
    assert not any(unicodedata.category(c) in ("Cc", "Cf") and c != "\t" for c in shown)
    assert len(shown) <= 160
