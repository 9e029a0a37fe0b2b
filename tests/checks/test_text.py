"""Text matching: the variants real portals write must compare equal, false friends not."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checks.text import (
    compact,
    find_phrase,
    fold,
    fold_aligned,
    match_key,
    normalize,
    normalize_runs,
    phrase_in,
    slug_words,
    slugify,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Tin   tức\n\tsự kiện ", "Tin tức sự kiện"),
        (unicodedata.normalize("NFD", "Thủ tục hành chính"), "Thủ tục hành chính"),
        ("Giới\u200b thiệu\u00a0chung", "Giới thiệu chung"),
        ("", ""),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected
    assert unicodedata.is_normalized("NFC", normalize(raw))


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Thủy", "Thuỷ"),  # both tone placements
        ("hòa", "hoà"),
        ("Ủy ban", "Uỷ ban"),
        ("ĐẤU THẦU", "dau thau"),
        ("Đường", "duong"),
        (unicodedata.normalize("NFD", "Lệ Thủy"), "le thuy"),
    ],
)
def test_fold_equates_variants(a: str, b: str) -> None:
    assert fold(a) == fold(b)


@pytest.mark.parametrize(
    ("phrase", "text", "found"),
    [
        ("thủ tục hành chính", "Tra cứu THỦ TỤC HÀNH CHÍNH", True),
        ("thu tuc hanh chinh", "Bộ thủ tục hành chính tỉnh", True),
        ("TTHC", "Tra cứu TTHC", True),
        ("tin tức", "Tin tức - Sự kiện", True),
        ("tin tức", "Thông tin tuyên truyền", False),
        ("tin", "Thông tin", True),  # a whole word inside a longer label
        ("tin", "Tintuc", False),
        ("dvc", "Cổng DVC trực tuyến", True),
        ("dvc", "advcx", False),
        ("lịch công tác", "Lịch-công-tác tuần", True),
        ("", "anything", False),
    ],
)
def test_phrase_in(phrase: str, text: str, found: bool) -> None:
    assert phrase_in(phrase, text) is found


def test_find_phrase_span_indexes_normalized_text() -> None:
    text = unicodedata.normalize("NFD", "Xem   mục  Thủ tục hành chính, tại đây")
    norm = normalize(text)
    span = find_phrase("thu tuc hanh chinh", text)
    assert span is not None
    assert norm[span[0] : span[1]] == "Thủ tục hành chính"
    assert find_phrase("tin tuc", text) is None


def test_find_phrase_at_edges() -> None:
    span = find_phrase("liên hệ", "Liên hệ")
    assert span == (0, 7)


@pytest.mark.parametrize(
    ("segment", "phrase"),
    [
        ("thu-tuc-hanh-chinh", "thủ tục hành chính"),
        ("ThuTucHanhChinh.aspx", "thủ tục hành chính"),
        ("tin_tuc_su_kien.html", "tin tức"),
        ("TTHC", "tthc"),
    ],
)
def test_slug_words(segment: str, phrase: str) -> None:
    assert match_key(phrase) in slug_words(segment)


def test_slugify_and_compact() -> None:
    assert slugify("Giới thiệu chung") == "gioi-thieu-chung"
    assert slugify("Đấu thầu - Mua sắm công") == "dau-thau-mua-sam-cong"
    assert compact("thu-tuc-hanh-chinh") == compact("ThuTucHanhChinh") == "thutuchanhchinh"


@given(st.text(max_size=40))
def test_fold_is_idempotent_and_nfd_insensitive(s: str) -> None:
    assert fold(fold(s)) == fold(s)
    assert fold(unicodedata.normalize("NFD", s)) == fold(unicodedata.normalize("NFC", s))


@given(st.text(alphabet="aăâbcdđeêhiklmnoôơpqrstuưvxyàáảãạằắẳẵặ ", max_size=30))
def test_phrase_found_in_itself(s: str) -> None:
    if match_key(s) != " ":
        assert phrase_in(s, f"Trang {s.upper()} chủ")
        assert find_phrase(s, f"x {s} y") is not None


def _fold_aligned_reference(text: str) -> str:
    """The definition `fold_aligned` must keep: one `fold` per character."""
    out = []
    for ch in text:
        folded = fold(ch) if not ch.isspace() else " "
        out.append(folded if len(folded) == 1 else ch.lower())
    return "".join(out)


_VIETNAMESE = "ĐịA CHỈ: Số 10 đường Hùng Vương – “Thủy/Thuỷ” … Ưu tiên ỨNG DỤNG\u00a0©"


@pytest.mark.parametrize(
    "text",
    [
        "",
        _VIETNAMESE,
        unicodedata.normalize("NFD", _VIETNAMESE),  # combining marks: the exact slow path
        "Straße İstanbul ﬁ 😀 Ǆ \u200b\ufeff\u00ad x\x85y\u2028z \ufffe",
        "plain ascii\twith\ncontrols\x01\x1f",
    ],
)
def test_fold_aligned_known_texts(text: str) -> None:
    folded = fold_aligned(text)
    assert folded == _fold_aligned_reference(text)
    assert len(folded) == len(text)


@given(st.text(alphabet=st.sampled_from(_VIETNAMESE + "abcXYZ 019:-\t\n")))
def test_fold_aligned_fast_path_matches_definition(text: str) -> None:
    assert fold_aligned(text) == _fold_aligned_reference(text)


@given(st.text())
def test_fold_aligned_any_text_matches_definition(text: str) -> None:
    assert fold_aligned(text) == _fold_aligned_reference(text)


def _normalize_reference(s: str) -> str:
    """What `normalize` did before its long-text shortcut: the definition it must keep."""
    if not s.isascii():
        invisible = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
        s = unicodedata.normalize("NFC", s.translate(invisible))
    return " ".join(s.split())


def test_other_spaces_are_every_split_character() -> None:
    """The long-text shortcut asks for these: all `str.split()` separators but the space."""
    from checks.text import _OTHER_SPACES

    every = "".join(ch for ch in map(chr, range(0x110000)) if ch.isspace() and ch != " ")
    assert every == _OTHER_SPACES
    # `normalize` looks for them only in a text that is not `isprintable()`.
    assert not any(ch.isprintable() for ch in _OTHER_SPACES)


@pytest.mark.parametrize(
    "tail",
    [
        "",
        " ",
        "  x",
        "\u00a0x",
        "\u3000",
        "\u200bx",
        "\ufeff",
        "\n",
        unicodedata.normalize("NFD", "ệ"),
    ],
)
def test_normalize_long_texts(tail: str) -> None:
    """Long texts take the shortcut: leading, trailing, double and other spaces still fold."""
    body = "Cổng thông tin điện tử tỉnh Quảng Bình " * 10
    for text in (body + tail, tail + body, body[:150] + tail + body[150:], "plain " * 60 + tail):
        assert normalize(text) == _normalize_reference(text)


@given(st.text(alphabet=st.sampled_from(_VIETNAMESE + " \t\n\u00a0\u200b\u3000ab"), min_size=250))
def test_normalize_long_matches_definition(text: str) -> None:
    assert normalize(text) == _normalize_reference(text)


def _match_key_reference(s: str) -> str:
    """`match_key` as defined: the folded words, punctuation as spaces, padded."""
    import re

    from checks.text import _fold_definition

    words = " ".join(re.sub(r"[\W_]+", " ", _fold_definition(s)).split())
    return f" {words} " if words else " "


_ALPHABET_SAMPLE = _VIETNAMESE + "abcXYZ 019:-_/.\t\n\x00\x0b\x0c\r\u00a0–—“”‘’…•·©®«»°×~"


@given(st.text(alphabet=st.sampled_from(_ALPHABET_SAMPLE), max_size=60))
def test_fold_and_match_key_fast_paths_match_definition(text: str) -> None:
    """Text within the charmap alphabet takes the one-pass paths: same result as defined."""
    from checks.text import _fold_definition

    assert fold(text) == (_fold_definition(text) if text else "")
    assert match_key(text) == _match_key_reference(text)


def test_fold_and_match_key_every_alphabet_character() -> None:
    """Each character of the alphabet alone, and between letters, folds as defined."""
    from checks.text import _FAST_ALPHABET, _fold_definition

    for ch in _FAST_ALPHABET:
        for text in (ch, f"a{ch}b", f"{ch}{ch} Đ{ch}"):
            assert fold(text) == _fold_definition(text), repr(text)
            assert match_key(text) == _match_key_reference(text), repr(text)


@given(st.text(max_size=30))
def test_fold_and_match_key_any_text_match_definition(text: str) -> None:
    from checks.text import _fold_definition

    assert fold(text) == (_fold_definition(text) if text else "")
    assert match_key(text) == _match_key_reference(text)


@pytest.mark.parametrize("extra", ["", "–", "…", "“x”", "\u00a0©", "•"])
def test_fold_aligned_long_texts_decode_alike(extra: str) -> None:
    """Long folded texts decode as Latin-1 unless a wide image (–, …, “”) is present."""
    text = ("Mức độ 3 – Thủ tục HÀNH CHÍNH " * 20)[:-30] + extra + " Đà Nẵng " * 5
    assert len(text) > 256
    assert fold_aligned(text) == _fold_aligned_reference(text)
    assert fold(text) == " ".join(_fold_aligned_reference(text).split())


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [_VIETNAMESE, " ", "  ", "x\u0301", "e", "\u0301", "\u200b", "Tin tức " * 40]
        ),
        max_size=14,
    ).map("".join),
    st.lists(st.integers(min_value=0, max_value=2000), max_size=10),
)
def test_normalize_runs_is_normalize_of_the_joined_runs(raw: str, cuts: list[int]) -> None:
    """Runs of a normalised text (as a crawled page's main text is): doubled and edge
    spaces and NFC compositions where runs meet, short and long texts."""
    source = normalize(raw)
    bounds = sorted({min(c, len(source)) for c in cuts} | {0, len(source)})
    runs = [b for i in range(0, len(bounds) - 1, 2) for b in bounds[i : i + 2]]
    joined = "".join(source[runs[i] : runs[i + 1]] for i in range(0, len(runs), 2))
    assert normalize_runs(source, runs) == normalize(joined)
