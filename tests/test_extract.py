"""Extraction: regions, forms, texts and fields from one parse of realistic Vietnamese HTML."""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st
from selectolax.lexbor import LexborHTMLParser

from probe.artifacts import TextRuns, main_text_as_held
from probe.extract import (
    _CLOSE,
    _FOOTER_OPEN,
    _INVISIBLE_CHARS,
    _OPEN,
    _REGIONS,
    MAX_LINKS,
    _fold,
    _has_invisible,
    _has_other_space,
    _split_marked,
    parse_page,
)

URL = "http://lethuy.quangbinh.gov.vn/"

HTML = """<html><head><title>UBND huyện Lệ Thủy</title>
<meta name="DC.title" content="Trang chủ"><meta name="DC.creator" content="UBND huyện">
</head><body>
<header><a href="/"><img src="logo.png" alt="Quốc huy"></a></header>
<div id="mainmenu"><ul><li><a href="/gioi-thieu-chung">Giới thiệu</a></li>
<li><a href="/Pages/ThuTucHanhChinh.aspx" title="Thủ tục hành chính"><img src="t.png" alt="TTHC"></a></li></ul></div>
<aside><a href="https://dichvucong.quangbinh.gov.vn/">DVC</a></aside>
<div class="content"><h2>Tin mới</h2><a href="tin-tuc/1.html">Khai mạc hội nghị</a>
<p>Đăng ngày 12/10/2015. Liên hệ: vanthu@lethuy.gov.vn</p><a href="/files/qd.pdf">Quyết định</a>
<a href="mailto:lethuy@quangbinh.gov.vn">Thư</a><a href="javascript:void(0)">x</a>
<form action="/tim-kiem"><input name="keyword" placeholder="Tìm kiếm"><button>Tìm</button></form>
<script>var secret = "Bản quyền script";</script></div>
<footer>Bản quyền © UBND huyện Lệ Thủy. Địa chỉ: 1 Hùng Vương. Điện thoại: 0232 3882 222</footer>
</body></html>"""


def page():
    return parse_page(HTML, url=URL, final_url=URL, status=200, size=len(HTML))


def test_links_regions_and_urls() -> None:
    p = page()
    by_url = {link.url: link for link in p.links}
    assert by_url[URL + "gioi-thieu-chung"].region == "nav"
    tthc = by_url[URL + "Pages/ThuTucHanhChinh.aspx"]
    assert (tthc.region, tthc.title, tthc.alt) == ("nav", "Thủ tục hành chính", "TTHC")
    assert by_url["https://dichvucong.quangbinh.gov.vn/"].region == "aside"
    assert by_url[URL + "tin-tuc/1.html"].region == "body"
    assert by_url[URL + "files/qd.pdf"].is_document
    assert not any(link.url.startswith(("mailto:", "javascript:")) for link in p.links)


def test_texts_split_by_region() -> None:
    p = page()
    assert "Khai mạc hội nghị" in p.main_text
    assert "Bản quyền" not in p.main_text and "Giới thiệu" not in p.main_text
    assert "Bản quyền © UBND huyện Lệ Thủy" in p.footer_text
    assert "Bản quyền" in p.text and "secret" not in p.text
    assert p.title == "UBND huyện Lệ Thủy"


def test_forms_meta_headings_emails_dates() -> None:
    p = page()
    (form,) = p.forms
    assert form.action == URL + "tim-kiem" and form.fields == ("keyword",)
    assert "Tìm kiếm" in form.text
    assert ("DC.title", "Trang chủ") in p.meta
    assert "Tin mới" in p.headings
    assert set(p.emails) >= {"vanthu@lethuy.gov.vn", "lethuy@quangbinh.gov.vn"}
    assert any(d.value.isoformat() == "2015-10-12" for d in p.dates)
    assert p.size == len(HTML)


def test_nfd_input_becomes_nfc() -> None:
    html = unicodedata.normalize("NFD", HTML)
    p = parse_page(html, url=URL, final_url=URL, status=200)
    assert unicodedata.is_normalized("NFC", p.text)
    assert any(link.text == "Giới thiệu" for link in p.links)


def test_utf8_bytes_give_the_page_of_the_text() -> None:
    """What `decode_html` hands over for a UTF-8 body: the same `Page` as its text."""
    for html in (HTML, unicodedata.normalize("NFD", HTML), "<p>Nội dung &#0; \x00 hết"):
        as_text = parse_page(html, url=URL, final_url=URL, status=200)
        assert parse_page(html.encode(), url=URL, final_url=URL, status=200) == as_text
    assert as_text.text == "Nội dung \ufffd hết"


def test_a_body_as_sent_that_is_not_nfc_gives_the_page_of_its_nfc_text() -> None:
    """`decode_html` hands over a UTF-8 body without testing it for NFC: texts and the
    attribute values read (hrefs, base, form and meta names) come out NFC all the same."""
    html = HTML.replace('href="/gioi-thieu-chung"', 'href="/giới-thiệu"').replace(
        "<head>", '<head><base href="/cổng/"><meta name="Tác giả" content="UBND">'
    )
    html = html.replace('name="keyword"', 'name="từ khóa"').replace("/tim-kiem", "/tìm-kiếm")
    nfc = parse_page(html, url=URL, final_url=URL, status=200)
    as_sent = unicodedata.normalize("NFD", html).encode()
    assert as_sent != html.encode()
    assert parse_page(as_sent, url=URL, final_url=URL, status=200) == nfc
    assert any(link.url.endswith("/giới-thiệu") for link in nfc.links)
    assert ("Tác giả", "UBND") in nfc.meta and nfc.forms[0].fields == ("từ khóa",)
    assert nfc.forms[0].action == URL + "tìm-kiếm"


def test_a_body_as_sent_is_read_as_a_browser_reads_it_where_nfc_rewrites_markup() -> None:
    """Where NFC of the whole body would rewrite markup, the body as sent is read as
    sent: a decomposed "menú" class still says menu, a mark after ">" is text."""
    html = (
        '<html><body><div class="menu\u0301"><a href="/a">A</a></div><p>Nội dung</p>'
        "<b>\u0338 x</b></body></html>"
    )
    p = parse_page(html.encode(), url=URL, final_url=URL, status=200)
    assert [(link.url, link.region) for link in p.links] == [(URL + "a", "nav")]
    assert (p.text, p.main_text) == ("A Nội dung \u0338 x", "Nội dung \u0338 x")
    nfc = parse_page(unicodedata.normalize("NFC", html), url=URL, final_url=URL, status=200)
    assert (nfc.links[0].region, nfc.text) == ("body", "A Nội dung")  # "<b≯ x</b>"


def test_attribute_values_are_read_nfc() -> None:
    """A character reference that decomposes a letter in an attribute value: the value
    is read NFC, as the text around it always was."""
    html = '<html><body><a href="/ve&#x300;" title="Ve&#x300;">Ve&#x300;</a></body></html>'
    (link,) = parse_page(html, url=URL, final_url=URL, status=200).links
    assert (link.url, link.title, link.text) == (URL + "vè", "Vè", "Vè")


def test_footer_fallback_without_footer_element() -> None:
    html = (
        "<html><body><div>Menu</div><div class='x'><p>Nội dung</p></div>"
        "<div class='y'>Bản quyền thuộc UBND xã. Điện thoại: 0232 123 456</div></body></html>"
    )
    p = parse_page(html, url=URL, final_url=URL, status=200)
    assert p.footer_text.startswith("Bản quyền thuộc UBND xã")


def test_links_are_capped() -> None:
    html = (
        "<html><body>"
        + "".join(f"<a href='/p{i}'>p{i}</a>" for i in range(3000))
        + "</body></html>"
    )
    p = parse_page(html, url=URL, final_url=URL, status=200)
    assert len(p.links) == MAX_LINKS


def test_each_link_takes_the_first_image_inside_it() -> None:
    html = """<html><body><img src="x.png" alt="ngoài liên kết">
<a href="/a"><span><img src="1.png" alt="Một"></span><img src="2.png" alt="Hai"></a>
<a href="/b">Không ảnh</a><a href="/c"><img src="3.png" title="Tiêu đề ảnh"></a>
<a href="/d"><b>chữ</b> <img src="4.png"></a></body></html>"""
    links = parse_page(html, url=URL, final_url=URL, status=200).links
    assert [(link.url.rsplit("/", 1)[1], link.alt) for link in links] == [
        ("a", "Một"),
        ("b", ""),
        ("c", "Tiêu đề ảnh"),
        ("d", ""),
    ]


def _texts(html: str) -> tuple[str, str, str]:
    p = parse_page(html, url=URL, final_url=URL, status=200)
    return p.text, p.main_text, p.footer_text


def test_nested_regions_are_left_out_of_main_text_once() -> None:
    html = """<html><body><div class="menu">Thực đơn <div id="nav2">A <aside>B</aside></div>
Hết</div>Nội dung chính<footer>Bản quyền <div class="menu">Liên kết</div></footer>
<p>Cuối</p></body></html>"""
    assert _texts(html) == (
        "Thực đơn A B Hết Nội dung chính Bản quyền Liên kết Cuối",
        "Nội dung chính Cuối",
        "Bản quyền Liên kết",
    )


def test_footer_text_is_each_footer_root_in_document_order() -> None:
    """A footer root inside another one adds its words again; a block that is menu and
    footer at once is both; footer roots without words leave the footer to the fallback;
    a footer root outside the body (the several-pass way) changes none of it."""
    nested = """<html><body><nav class="footer-nav">Liên kết <a href="/a">A</a></nav>
<p>Nội dung</p><footer>Bản quyền <div class="footer-inner">Địa chỉ: 1 Hùng Vương</div>
hết</footer></body></html>"""
    assert _texts(nested) == (
        "Liên kết A Nội dung Bản quyền Địa chỉ: 1 Hùng Vương hết",
        "Nội dung",
        "Liên kết A Bản quyền Địa chỉ: 1 Hùng Vương hết Địa chỉ: 1 Hùng Vương",
    )
    empty = """<html><body><p>Nội dung</p><div class="footer"> </div>
<div>Bản quyền © UBND xã</div></body></html>"""
    assert _texts(empty) == (
        "Nội dung Bản quyền © UBND xã",
        "Nội dung Bản quyền © UBND xã",
        "Bản quyền © UBND xã",
    )
    outside = '<html><head class="bottom"></head><body><footer>Bản quyền</footer><p>Nội dung'
    assert _texts(outside) == ("Bản quyền Nội dung", "Nội dung", "Bản quyền")


_BLOCKS = [
    ("<nav>", "</nav>"), ("<nav id='main-menu'>", "</nav>"), ("<div class='menu'>", "</div>"),
    ("<ul class='dropdown-menu'>", "</ul>"), ("<li class='menu-item'>", "</li>"),
    ("<footer id='footer'>", "</footer>"), ("<div class='footer-nav'>", "</div>"),
    ("<aside>", "</aside>"), ("<div id='sidebar' class='bottom'>", "</div>"),
    ("<header>", "</header>"), ("<div>", "</div>"), ("<p>", "</p>"),
    ("<a class='nav-link' href='/self{n}'>", "</a>"), ("<span role='navigation'>", "</span>"),
]  # fmt: skip


def _regions_from_every_root(html: str) -> dict[str, str]:
    """Each link's region the plain way: every root's links, in `_REGIONS` order."""
    tree = LexborHTMLParser(html)
    region_of: dict[str, str] = {}
    for region, selector in _REGIONS:
        for root in tree.css(selector):
            if root.tag != "html":
                for a in root.css("a[href]"):
                    region_of[a.attributes["href"]] = region
    return region_of


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(range(len(_BLOCKS))), st.integers(0, 3)), max_size=30))
def test_link_regions_as_from_every_root(steps: list[tuple[int, int]]) -> None:
    """Only the outermost roots of a region are searched for links; every link gets the
    region it gets from searching every root (nested roots, roots found twice, a link
    that is a root, regions inside other regions)."""
    parts: list[str] = []
    open_blocks: list[str] = []
    for n, (block, closes) in enumerate(steps):
        opening, closing = _BLOCKS[block]
        parts.append(opening.format(n=n) + f"<a href='/l{n}'>L{n}</a>")
        open_blocks.append(closing)
        for _ in range(min(closes, len(open_blocks))):
            parts.append(open_blocks.pop())
    html = "<html><body>" + "".join(parts) + "</body></html>"
    expected = _regions_from_every_root(html)
    p = parse_page(html, url=URL, final_url=URL, status=200)
    got = {link.url.removeprefix(URL[:-1]): link.region for link in p.links}
    assert got == {href: expected.get(href, "body") for href in got}
    assert len(got) == len(steps) + sum(b == len(_BLOCKS) - 2 for b, _ in steps)


def test_main_text_is_held_as_runs_of_the_text() -> None:
    """A page in memory holds its main words once, as offsets into `text`."""
    html = """<html><body><nav>Trang chủ</nav><p>Nội dung <b>chính</b></p>
<aside>Liên kết</aside><p>Tiếp</p><div class="menu">Menu</div> Cuối</body></html>"""
    p = parse_page(html, url=URL, final_url=URL, status=200)
    held = main_text_as_held(p)
    assert type(held) is TextRuns and len(held) == 6  # three runs between the regions
    assert p.main_text == held.join(p.text) == "Nội dung chính Tiếp Cuối"
    assert p.text == "Trang chủ Nội dung chính Liên kết Tiếp Menu Cuối"


def test_control_characters_in_the_page_text_are_kept_as_they_were() -> None:
    """The page's own U+0001/U+0002 (from character references) are text, not markers."""
    html = """<html><body><nav>Menu</nav><p>Nội dung &#1; chính &#2; tiếp</p>
<footer>Bản quyền</footer></body></html>"""
    assert _texts(html) == (
        "Menu Nội dung \x01 chính \x02 tiếp Bản quyền",
        "Nội dung \x01 chính \x02 tiếp",
        "Bản quyền",
    )


def test_a_region_class_on_html_or_body() -> None:
    """`<html class="nav-open">` is not a region; a region-named body leaves no main text."""
    on_html = '<html class="nav-open"><body><nav>Menu</nav><p>Nội dung</p></body></html>'
    on_body = '<html><body class="bottom"><nav>Menu</nav><p>Nội dung</p></body></html>'
    assert _texts(on_html) == ("Menu Nội dung", "Nội dung", "")
    assert _texts(on_body) == ("Menu Nội dung", "", "Menu Nội dung")


def test_region_named_body_with_the_pages_own_control_characters() -> None:
    """A page's U+0001/U+0002 could once pass for region markers when the body itself was
    a region (its markers fall outside the body text): they are text like any other."""
    html = '<html><body class="bottom"><nav>Menu</nav><p>Nội &#2; dung &#1;</p></body></html>'
    assert _texts(html) == ("Menu Nội \x02 dung \x01", "", "Menu Nội \x02 dung \x01")


def test_whitespace_of_every_kind_is_folded() -> None:
    """&nbsp;, em spaces, tabs and line breaks inside text nodes, runs of spaces, text
    nodes that end in a space: one space between words, in every text field."""
    html = (
        "<html><body><nav>Trang&nbsp;chủ &emsp; <b>Giới </b> thiệu</nav>\n"
        "<p>Nội\tdung\n   chính  <i>tiếp </i>theo&#x3000;hết</p>"
        "<footer> Bản  quyền\u00a0© </footer></body></html>"
    )
    assert _texts(html) == (
        "Trang chủ Giới thiệu Nội dung chính tiếp theo hết Bản quyền ©",
        "Nội dung chính tiếp theo hết",
        "Bản quyền ©",
    )


def test_noscript_and_template_content_is_no_page_content() -> None:
    html = """<html><head><noscript><style>p{}</style></noscript></head><body>
<noscript><a href="/ns">Bật JavaScript</a><h2>Không</h2><form action="/x"></form></noscript>
<template><a href="/tpl">Mẫu</a><h2>Mẫu</h2></template>
<h2>Tin tức</h2><a href="/tin">Tin</a><script>document.write("<a href=/js>x</a>")</script>
</body></html>"""
    p = parse_page(html, url=URL, final_url=URL, status=200)
    assert [link.url for link in p.links] == [URL + "tin"]
    assert p.headings == ("Tin tức",)
    assert p.forms == ()
    assert p.text == "Tin tức Tin"


def test_links_resolve_against_their_own_page() -> None:
    """Links are made once per distinct anchor (cached), but a relative href still
    resolves against each page's own URL, and a root-relative one against its origin."""
    html = (
        "<html><body><nav><a href='x.html'>X</a><a href='/y'>Y</a></nav>"
        "<a href='x.html'>X</a><a href='https://khac.gov.vn/z'>Z</a></body></html>"
    )
    one = parse_page(html, url=URL + "a/", final_url=URL + "a/", status=200).links
    two = parse_page(html, url=URL + "b/c", final_url=URL + "b/c", status=200).links
    other = "https://so.gov.vn:8443/d/"
    three = parse_page(html, url=other, final_url=other, status=200).links
    assert [(link.url, link.region) for link in one] == [
        (URL + "a/x.html", "nav"),
        (URL + "y", "nav"),
        (URL + "a/x.html", "body"),
        ("https://khac.gov.vn/z", "body"),
    ]
    assert [link.url for link in two] == [URL + "b/x.html", URL + "y", URL + "b/x.html", one[3].url]
    assert [link.url for link in three][:2] == [other + "x.html", "https://so.gov.vn:8443/y"]
    assert one[1] == two[1] and one[3] == two[3] == three[3]


# -- the fast text paths give what the plain ones give --------------------------------
# Every whitespace kind `str.split` knows, unprintable non-spaces, NFD and invisible
# characters, Vietnamese letters.
_TEXT_PIECES = st.sampled_from(
    ["a", "Ư", "ớ", "Giới thiệu", " ", "  ", "   ", "\n", "\t", "\r", "\x0b", "\x1f", "\x85",
     "\xa0", "\u2003", "\u2028", "\u3000", "\u200e", "\x01", "o\u0302\u0301", "\u200b", "\xad",
     "a\x00"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(_TEXT_PIECES, max_size=40).map("".join))
def test_fold_is_split_and_join(text: str) -> None:
    assert _fold(text) == " ".join(text.split())


def test_has_invisible_tests_every_invisible_character() -> None:
    assert all(_has_invisible(f"Giới{c}thiệu") for c in _INVISIBLE_CHARS)
    assert not _has_invisible("Giới thiệu\u200e\xa0\x01")


def _reference_split(raw: str) -> tuple[str, str, str] | None:
    """`text`, `main_text`, `footer_text` of a marked body text, word by word (None if
    the markers do not nest)."""
    raw = unicodedata.normalize("NFC", raw.replace("\u200b", "").replace("\xad", ""))
    for marker, token in ((_OPEN, "\x00open"), (_FOOTER_OPEN, "\x00foot"), (_CLOSE, "\x00close")):
        raw = raw.replace(marker, f" {token} ")
    words: list[str] = []
    main: list[str] = []
    open_roots: list[list[str] | None] = []  # per open root: its words if a footer root
    footers: list[list[str]] = []
    for token in raw.split():
        if token in ("\x00open", "\x00foot"):
            footer: list[str] | None = [] if token == "\x00foot" else None
            open_roots.append(footer)
            if footer is not None:
                footers.append(footer)
            continue
        if token == "\x00close":
            if not open_roots:
                return None
            open_roots.pop()
            continue
        words.append(token)
        if not open_roots:
            main.append(token)
        for footer in open_roots:
            if footer is not None:
                footer.append(token)
    if open_roots:
        return None
    footer_text = " ".join(" ".join(f) for f in footers if f)
    return " ".join(words), " ".join(main), footer_text


@settings(max_examples=600, deadline=None)
@given(
    st.lists(st.one_of(_TEXT_PIECES, st.sampled_from([_OPEN, _FOOTER_OPEN, _CLOSE])), max_size=40)
)
def test_marked_text_splits_like_word_by_word(tokens: list[str]) -> None:
    """As `body.text(separator=" ")` writes it: fragments joined by spaces."""
    _check_marked_split(tokens)


def _check_marked_split(tokens: list[str]) -> None:
    raw = " ".join(tokens)
    roots = tokens.count(_OPEN) + tokens.count(_FOOTER_OPEN)
    got = _split_marked(raw, roots)
    if roots != tokens.count(_CLOSE):
        assert got is None
    elif got is None:
        assert _reference_split(raw) is None
    else:
        text, main, footer = got
        assert (text, main.join(text), footer) == _reference_split(raw)


# Pieces with no whitespace but " ": `_split_marked` then skips looking at each piece.
# U+1E9E and U+0100 have the bytes of U+001E and U+3000 that a memchr scan would stumble
# on; U+0001 and U+200E are unprintable but no space, and so is a U+0000 that is no
# marker's (never, but a word's if it were).
_PLAIN_PIECES = st.sampled_from(
    ["a", "Ư", "ớ", "Giới thiệu", " ", "  ", "   ", "\u1e9e", "\u0100", "\u3001", "\u200e", "\x01",
     "o\u0302\u0301", "\u200b", "(", ")", "[", "a\x00", "ư\x00b"]
)  # fmt: skip


@settings(max_examples=600, deadline=None)
@given(
    st.lists(st.one_of(_PLAIN_PIECES, st.sampled_from([_OPEN, _FOOTER_OPEN, _CLOSE])), max_size=40)
)
def test_marked_text_with_only_spaces_splits_like_word_by_word(tokens: list[str]) -> None:
    _check_marked_split(tokens)


def test_has_other_space_finds_every_whitespace_character_but_the_space() -> None:
    """Every character `str.split` splits at, in NFC text, among Vietnamese letters."""
    spaces = [chr(c) for c in range(0x110000) if chr(c).isspace() and c != 0x20]
    for space in spaces:
        text = unicodedata.normalize("NFC", f"Tiếng Việt\u1e9e\u0100 {space}ở đây\u1ea0")
        assert _has_other_space(text), repr(space)
    assert not _has_other_space("Tiếng Việt \u1e9e\u0100\u1ea0\u3001\x01\x00( \u200e ở đây")
    assert not _has_other_space("")


def test_a_u0000_in_a_piece_of_the_text_is_a_words() -> None:
    """U+0000 never comes out of a parse; if one did, inside a piece of the marked text
    (not after a run of spaces, where markers are), it would be part of a word, as the
    several-pass way has it, whatever other whitespace the text holds."""
    for raw in (
        f"Giới\x00 thiệu {_OPEN} Menu {_CLOSE} hết",
        f"Giới thiệu {_FOOTER_OPEN} Me\x00nu {_CLOSE} hết",
        f"Giới thiệu\n {_OPEN} Me\x00nu {_CLOSE} hết",
        "Giới thiệu\x00",
    ):
        got = _split_marked(raw, raw.count(_OPEN) + raw.count(_FOOTER_OPEN))
        assert got is not None and "\x00" in got[0]
        text, main, footer = got
        assert (text, main.join(text), footer) == _reference_split(raw)


def test_pages_parsed_in_threads_at_once_are_the_page() -> None:
    """Each thread has its own CSS engine (`_css`): pages parsed at the same time in
    several threads come out as the page parsed alone."""
    from concurrent.futures import ThreadPoolExecutor

    alone = page()
    with ThreadPoolExecutor(max_workers=4) as pool:
        pages = list(pool.map(lambda _: page(), range(40)))
    assert all(p == alone for p in pages)
