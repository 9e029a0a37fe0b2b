"""The fetch path's shortcuts give what the long way gives, on the inputs that take them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from probe.net.fetch import _PASSED, _check_url
from probe.net.guard import AddressPolicy, RefusedAddress

STRICT = AddressPolicy(allow_private=False)
LAX = AddressPolicy(allow_private=True)


def _verdict(fast: bool, policy: AddressPolicy, url: str) -> tuple[str, str] | None:
    """None if `url` passes, else the refusal; through `_check_url` or `check_url` itself."""
    try:
        _check_url(policy, url) if fast else policy.check_url(url)
    except RefusedAddress as exc:
        return exc.code, exc.message
    return None


URLS = [
    "http://127.0.0.1:8080/a",
    "http://127.0.0.1:8080/b?x=1",
    "https://portal.hanoi.gov.vn/tin-tuc/",
    "http://169.254.169.254/latest/meta-data/",
    "http://0x7f.1/",
    "http://2130706433/x",
    "http://[::1]:8080/",
    "http://10.0.0.1:99999/",
    "ftp://example.vn/file",
    "http://example.vn?q=/x",
    "http:///x/y",
    "HTTP://127.0.0.1/",
]


@pytest.mark.parametrize("policy", [STRICT, LAX])
def test_check_url_remembered_per_origin_answers_as_check_url(policy: AddressPolicy) -> None:
    _PASSED.clear()
    for _ in range(2):  # the second round asks the remembered origins
        for url in URLS:
            assert _verdict(True, policy, url) == _verdict(False, policy, url)


def test_a_refusal_is_never_remembered() -> None:
    _PASSED.clear()
    for _ in range(3):
        with pytest.raises(RefusedAddress):
            _check_url(STRICT, "http://127.0.0.1:8080/a")
    assert not _PASSED
    _check_url(LAX, "http://127.0.0.1:8080/a")  # passed under the lax policy only
    with pytest.raises(RefusedAddress):
        _check_url(STRICT, "http://127.0.0.1:8080/b")


@given(st.text(alphabet="abc019.:-/?#[]@%x", max_size=30), st.sampled_from(["http://", "https://"]))
def test_any_spelling_answers_as_check_url(rest: str, scheme: str) -> None:
    url = scheme + rest
    for policy in (STRICT, LAX):
        first = _verdict(True, policy, url)
        assert first == _verdict(False, policy, url)
        assert _verdict(True, policy, url) == first  # once remembered, too
