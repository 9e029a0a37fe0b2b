"""Extraction: regions, forms, texts and fields from one parse of realistic Vietnamese HTML."""

from __future__ import annotations

import unicodedata

from probe.extract import MAX_LINKS, parse_page

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
