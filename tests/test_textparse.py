"""Dates and e-mail addresses as Vietnamese portals print them."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from probe.textparse import dates as dates_module
from probe.textparse import emails as emails_module
from probe.textparse import find_dates, find_emails

DATE_CASES = [
    ("Cập nhật lúc 12/10/2015", [date(2015, 10, 12)]),
    ("Đăng ngày 12-10-2015 bởi BBT", [date(2015, 10, 12)]),
    ("Thứ hai, 12/10/2015 08:30", [date(2015, 10, 12)]),
    ("Lệ Thủy, ngày 12 tháng 10 năm 2015", [date(2015, 10, 12)]),
    ("Le Thuy, ngay 2 thang 9 nam 2015", [date(2015, 9, 2)]),
    ("NGÀY 01 THÁNG 02 NĂM 2020", [date(2020, 2, 1)]),
    ("Bắc Ninh, ngày 02 tháng 12, năm 2019", [date(2019, 12, 2)]),
    ("12.10.2015.", [date(2015, 10, 12)]),
    ("<time> 2015-10-12T08:30:00+07:00", [date(2015, 10, 12)]),
    ("(27/08/2022) tin mới; (26/08/2022) tin cũ", [date(2022, 8, 27), date(2022, 8, 26)]),
    # invalid or implausible: rejected, not guessed
    ("hạn chót 31/02/2015", []),
    ("00/10/2015 và 12/13/2015", []),
    ("bản 12/10/0001 và 12/10/9999", []),
    # pieces of longer numbers are not dates
    ("Nghị định 43/2011/NĐ-CP", []),
    ("Quyết định số 12/10/2015/QĐ-UBND", []),
    ("ĐT: 0232.3822.123 - Fax 0232.382.2124", []),
    ("Giấy phép số 15/GP-STTTT", []),
    ("phiên bản 1.12.10.2015", []),
    ("123 tháng 10 năm 2015; 5 tháng 6 năm 20155", []),
    # a month word that starts no long-form date does not hide the one after it
    ("đến hết ngày 31 tháng 12. Ngày 5 tháng 6 năm 2020", [date(2020, 6, 5)]),
    ("Tháng 5, 1 THÁNG 2 , NĂM 2021", [date(2021, 2, 1)]),
]


@pytest.mark.parametrize(("text", "expected"), DATE_CASES)
def test_find_dates(text: str, expected: list[date]) -> None:
    assert [m.value for m in find_dates(text)] == expected


# Pinned while `_candidates` changed how it finds long-form dates (from the year word,
# walking back): each way a long-form date can be written or broken, and its neighbours.
LONG_FORM_CASES = [
    ("ngày 5 tháng 3 năm 2024", [date(2024, 3, 5)]),
    ("5 tháng 3 năm 2024 (hết hạn)", [date(2024, 3, 5)]),
    ("số 12 tháng 3 năm 2024", [date(2024, 3, 12)]),
    ("NGÀY 5 THÁNG 3 NĂM 2024; ngay 6 THANG 3 Nam 2024", [date(2024, 3, 5), date(2024, 3, 6)]),
    ("ngày 5\xa0tháng\u30003\nnăm\t2024", [date(2024, 3, 5)]),  # any whitespace
    ("ngày 5 tháng 3 ,  năm 2024", [date(2024, 3, 5)]),  # spaces around the comma
    ("ngày 5 tháng 3năm 2024", [date(2024, 3, 5)]),  # no space is needed before "năm"
    ("ngày ５ tháng ３ năm ２０２４", [date(2024, 3, 5)]),  # full-width digits are \d
    ("ngày 5 tháng 3 năm 2099", [date(2099, 3, 5)]),
    # impossible, out of range, or glued: not a date
    ("ngày 31 tháng 2 năm 2024", []),
    ("ngày 15 tháng 13 năm 2024", []),
    ("ngày 5 tháng 3 năm 1944 và ngày 5 tháng 3 năm 2100", []),
    ("ngày 5tháng 3 năm 2024", []),
    ("ngày 5 tháng 3 năm2024", []),
    ("ngày 105 tháng 3 năm 2024", []),
    ("ngày 5 tháng 103 năm 2024", []),
    ("ngày 5 tháng 3 năm 20245", []),
    ("trong năm 2024, đến tháng 3 năm 2024", []),  # year words with no day and month
    # next to the other forms, in reading order
    (
        "ngày 5 tháng 3 năm 2024 và 06/03/2024 và 2024-03-07",
        [date(2024, 3, 5), date(2024, 3, 6), date(2024, 3, 7)],
    ),
]
DAY_FIRST_CASES = [
    ("Ngày đăng: 05/03/2024", [date(2024, 3, 5)]),
    ("cập nhật 5-3-24 và 5-3-2024", [date(2024, 3, 5)]),  # a 2-digit year is no date
    ("０５/０３/２０２４", [date(2024, 3, 5)]),
    ("(05/03/2024) và 05.03.2024.", [date(2024, 3, 5), date(2024, 3, 5)]),
    ("31/02/2024 29/02/2024 29/02/2023", [date(2024, 2, 29)]),
    ("05-03.2024", []),  # mixed separators
    ("1205/03/2024 05/03/20245 05/03/2024/QĐ-UBND", []),  # glued to more digits
    ("2024-3-5T08:00 và 12024-03-05", [date(2024, 3, 5)]),
]


@pytest.mark.parametrize(("text", "expected"), LONG_FORM_CASES + DAY_FIRST_CASES)
def test_find_dates_edge_cases(text: str, expected: list[date]) -> None:
    assert [m.value for m in find_dates(text)] == expected
    assert find_dates(text, is_nfc=True) == find_dates(text)


def test_long_form_snippet_keeps_ngay_and_flattens_whitespace() -> None:
    (mention,) = find_dates("Hà Nội,\nngày 5\xa0tháng 3\n năm 2024 - UBND")
    assert mention.text == "Hà Nội, ngày 5 tháng 3 năm 2024 - UBND"


def test_nfd_input_is_read_like_nfc() -> None:
    text = unicodedata.normalize("NFD", "Quảng Bình, ngày 12 tháng 10 năm 2015")
    (mention,) = find_dates(text)
    assert mention.value == date(2015, 10, 12)
    assert unicodedata.is_normalized("NFC", mention.text)


def test_snippet_shows_the_words_around_the_date() -> None:
    text = "x " * 100 + "Hội nghị tổng kết công tác năm 12/10/2015 tại UBND huyện" + " y" * 100
    (mention,) = find_dates(text)
    assert "Hội nghị tổng kết" in mention.text and "12/10/2015 tại UBND huyện" in mention.text
    assert len(mention.text) < 160
    assert mention.source == "text"


def test_long_form_is_one_mention() -> None:
    assert len(find_dates("ngày 12 tháng 10 năm 2015")) == 1


EMAIL_CASES = [
    ("Email: vanthu@quangbinh.gov.vn", [], ["vanthu@quangbinh.gov.vn"]),
    ("Email: VanThu@QuangBinh.Gov.VN.", [], ["vanthu@quangbinh.gov.vn"]),
    ("Thư điện tử: vanthu[at]quangbinh.gov.vn", [], ["vanthu@quangbinh.gov.vn"]),
    ("vanthu (at) quangbinh.gov.vn", [], ["vanthu@quangbinh.gov.vn"]),
    ("vanthu (a) quangbinh.gov.vn", [], ["vanthu@quangbinh.gov.vn"]),
    ("vanthu @ quangbinh.gov.vn", [], ["vanthu@quangbinh.gov.vn"]),
    ("vanthu@quangbinh[.]gov[.]vn", [], ["vanthu@quangbinh.gov.vn"]),
    ("vanthu[at]quangbinh(dot)gov(dot)vn", [], ["vanthu@quangbinh.gov.vn"]),
    # footer text glued to the next line by extraction
    ("Email: portal@hatinh.gov.vnĐiện thoại: 0239", [], ["portal@hatinh.gov.vn"]),
    ("Email: ubnd.lethuy@gmail.comDien thoai", [], ["ubnd.lethuy@gmail.com"]),
    ("", ["mailto:BBT@Quangbinh.gov.vn?subject=G%C3%B3p%20%C3%BD"], ["bbt@quangbinh.gov.vn"]),
    (
        "",
        ["mailto:a@x.gov.vn,b@y.gov.vn", "https://x.gov.vn/", "tel:0232"],
        ["a@x.gov.vn", "b@y.gov.vn"],
    ),
    ("a@x.gov.vn và A@X.GOV.VN", ["mailto:a@x.gov.vn"], ["a@x.gov.vn"]),
    # not addresses
    ("contact us at portal.gov.vn", [], []),
    ("@quangbinh.gov.vn và vanthu@", [], []),
    ("Hotline: 1900 1234 @ 18h", [], []),
    ("", ["mailto:"], []),
]


@pytest.mark.parametrize(("text", "hrefs", "expected"), EMAIL_CASES)
def test_find_emails(text: str, hrefs: list[str], expected: list[str]) -> None:
    assert find_emails(text, hrefs) == expected


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_find_dates_never_crashes(text: str) -> None:
    for mention in find_dates(text):
        assert 1945 <= mention.value.year <= 2099


@settings(max_examples=300, deadline=None)
@given(st.text(), st.lists(st.text(max_size=40), max_size=5))
def test_find_emails_never_crashes(text: str, hrefs: list[str]) -> None:
    found = find_emails(text, hrefs)
    assert len(found) == len(set(found))
    assert all(a == a.lower() and a.count("@") == 1 for a in found)


@settings(max_examples=200, deadline=None)
@given(
    st.dates(min_value=date(1945, 1, 1), max_value=date(2099, 12, 31)),
    st.sampled_from(["{d:02d}/{m:02d}/{y}", "{d}-{m}-{y}", "ngày {d} tháng {m} năm {y}"]),
    st.text(alphabet="abc ĐđỦủ,:()", max_size=20),
)
def test_any_valid_date_is_found(value: date, fmt: str, noise: str) -> None:
    text = f"{noise} {fmt.format(d=value.day, m=value.month, y=value.year)} {noise}"
    assert value in [m.value for m in find_dates(text)]


_label = st.from_regex(r"[a-z0-9]{1,12}", fullmatch=True)


@settings(max_examples=200, deadline=None)
@given(_label, _label, st.sampled_from(["@", "[at]", " (a) ", " @ "]))
def test_any_simple_address_is_found(local: str, host: str, at: str) -> None:
    text = f"Liên hệ: {local}{at}{host}.gov.vn; xin cảm ơn"
    assert find_emails(text) == [f"{local}@{host}.gov.vn"]


# -- the fast paths give exactly what the plain whole-text scans give --------------------
# `find_dates` and `find_emails` search only near digits and "@"-tokens for speed; these
# reference scans are the straightforward versions (every pattern over the whole text),
# and the generated texts are made of the pieces the patterns care about.

_REF_BEFORE = r"(?<![\d/.\-])"
_REF_AFTER = r"(?!\d|/\w|[.\-]\d)"
_REF_PATTERNS = (
    re.compile(
        r"(?:ng[àa]y\s+)?(?<!\d)(?P<d>\d{1,2})\s+th[áa]ng\s+(?P<m>\d{1,2})\s*"
        r"(?:,\s*)?n[ăa]m\s+(?P<y>\d{4})(?!\d)",
        re.IGNORECASE,
    ),
    re.compile(_REF_BEFORE + r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?![\d]|-\d)"),
    re.compile(
        _REF_BEFORE
        + r"(?P<d>\d{1,2})(?P<sep>[/.\-])(?P<m>\d{1,2})(?P=sep)(?P<y>\d{4})"
        + _REF_AFTER
    ),
)


def _reference_dates(text: str) -> list[tuple[date, str]]:
    text = unicodedata.normalize("NFC", text)
    taken: list[tuple[int, int]] = []
    found = []
    for pattern in _REF_PATTERNS:
        for match in pattern.finditer(text):
            start, end = match.span()
            if any(start < b and a < end for a, b in taken):
                continue
            value = dates_module._to_date(match["y"], match["m"], match["d"])
            if value is None:
                continue
            taken.append((start, end))
            found.append((start, value, dates_module._snippet(text, start, end)))
    found.sort(key=lambda item: item[0])
    return [(value, snippet) for _, value, snippet in found]


def _reference_emails(text: str) -> list[str]:
    seen: dict[str, None] = {}
    for match in emails_module._TEXT_EMAIL.finditer(unicodedata.normalize("NFC", text)):
        valid = emails_module._valid(
            f"{match['local']}@{emails_module._clean_domain(match['domain'])}"
        )
        if valid is not None:
            seen.setdefault(valid, None)
    return list(seen)


_DATE_PIECES = st.sampled_from(
    ["1", "12", "2015", "05", "0", "/", "-", ".", " ", "  ", "\n", "ngày", "Ngay", "NGÀY",
     "tháng", "THANG", "năm", "nam", ",", "T", "Đ", "QĐ", "a", "ngày 1 tháng 2 năm 2020",
     # what the anchors of `_candidates` must not miss: any case of the month word, any
     # whitespace before it, digits of other scripts (\d), a separator at either end
     "Tháng", "tHáNg", "ThÁnG", "thAng", "th", "Th", "t", "\xa0", "\u3000", "\t", "٣", "١٢",
     "2015-10-12", "3.4.2019", "123", "/2020/",
     # the long form's tail, whole and broken, which the month-word anchors include
     " tháng 10, năm 2015", "ngày 31 tháng 12.", "THÁNG 1 NĂM", " Nam ", "12 thang",
     # what the year-word anchors must not miss: the word in any case, alone, before a year
     "năm 2024", "nAM 2020", "NĂM\t2019", "m", "M", "ăm", "１２", "２０２４", " , "]
)  # fmt: skip
_EMAIL_PIECES = st.sampled_from(
    ["a", "vanthu", "x.y", "Ab", "9", "-", "_", ".", " ", "  ", "@", " @ ", "[at]", "( a )",
     "{at}", "[@]", "(", "[", "gov", "vn", ".vn", "[.]", "(dot)", "(chấm)", "Đ", "ı", "K",
     "Điện", "ex@ample.com", "Tel", ":", ",", "\n"]
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(_DATE_PIECES, max_size=40).map("".join))
def test_find_dates_equals_whole_text_scan(text: str) -> None:
    got = [(m.value, m.text) for m in find_dates(text)]
    assert got == _reference_dates(text)


@settings(max_examples=400, deadline=None)
@given(st.lists(_EMAIL_PIECES, max_size=40).map("".join))
def test_find_emails_equals_whole_text_scan(text: str) -> None:
    assert find_emails(text) == _reference_emails(text)


def test_find_emails_long_page_with_many_at_signs() -> None:
    """A page full of "@" in prose (code samples, handles) still finds the one address."""
    text = "xin chào @user " * 3000 + "liên hệ: vanthu[at]quangbinh[.]gov[.]vn" + " @x" * 500
    assert find_emails(text) == _reference_emails(text) == ["vanthu@quangbinh.gov.vn"]


def test_nfc_text_may_skip_normalisation() -> None:
    """`is_nfc=True` (extraction's page text) finds what the normalising call finds."""
    text = "Ngày 12 tháng 10 năm 2015, liên hệ vanthu[at]lethuy[.]gov[.]vn hoặc 03/11/2026"
    assert find_dates(text, is_nfc=True) == find_dates(text)
    assert find_emails(text, is_nfc=True) == find_emails(text) == ["vanthu@lethuy.gov.vn"]
