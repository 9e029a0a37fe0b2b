"""UI chrome of the report in Vietnamese and English.

Law labels (sections, checks, manual fields) come from the rulesets, the check registry
and the field catalogue; only words that belong to the report itself live here, so a
translator has one place to look.
"""

from __future__ import annotations

from collections.abc import Mapping

STATUS_SYMBOL = {"pass": "✓", "warn": "⚠", "fail": "✗", "na": "–", "unknown": "?"}
STATUS_RANK = {"fail": 0, "warn": 1, "unknown": 2, "pass": 3, "na": 4}

UI: Mapping[str, Mapping[str, str]] = {
    "title": {"vi": "Báo cáo tuân thủ cổng/trang thông tin điện tử",
              "en": "Portal compliance report"},
    "agency": {"vi": "Cơ quan", "en": "Agency"},
    "portal": {"vi": "Cổng/Trang TTĐT", "en": "Portal"},
    "score": {"vi": "Điểm", "en": "Score"},
    "run": {"vi": "Lượt kiểm tra", "en": "Run"},
    "ruleset": {"vi": "Bộ quy định", "en": "Ruleset"},
    "no_run": {"vi": "Chưa có lượt kiểm tra tự động", "en": "No automated run stored"},
    "status": {"vi": "Trạng thái", "en": "Status"},
    "section": {"vi": "Mục", "en": "Section"},
    "all": {"vi": "Tất cả", "en": "All"},
    "filter_agency": {"vi": "Lọc theo cơ quan…", "en": "Filter by agency…"},
    "evidence": {"vi": "Bằng chứng", "en": "Evidence"},
    "legal_basis": {"vi": "Căn cứ pháp lý", "en": "Legal basis"},
    "message": {"vi": "Nhận định", "en": "Finding"},
    "check": {"vi": "Tiêu chí", "en": "Check"},
    "page": {"vi": "Trang", "en": "Page"},
    "excerpt": {"vi": "Trích dẫn", "en": "Excerpt"},
    "history": {"vi": "Lịch sử điểm", "en": "Score history"},
    "details": {"vi": "Chi tiết", "en": "Details"},
    "manual": {"vi": "Số liệu kiểm tra thủ công", "en": "Manual inspection data"},
    "automated": {"vi": "Kiểm tra tự động", "en": "Automated checks"},
    "conflict": {"vi": "Nguồn mâu thuẫn", "en": "Conflicting sources"},
    "contradiction": {"vi": "Mâu thuẫn giữa kiểm tra thủ công và tự động",
                      "en": "Manual and automated results disagree"},
    "changes": {"vi": "Thay đổi so với lượt", "en": "Changes since run"},
    "improved": {"vi": "Tiến bộ", "en": "Improved"},
    "regressed": {"vi": "Thụt lùi", "en": "Regressed"},
    "before": {"vi": "Trước", "en": "Before"},
    "after": {"vi": "Sau", "en": "After"},
    "outcome": {"vi": "Kết quả thu thập", "en": "Crawl outcome"},
    "not_checked": {"vi": "Không kiểm tra được", "en": "Could not be checked"},
    "no_finding": {"vi": "Không có kết quả", "en": "No finding"},
    "no_value": {"vi": "Chưa có số liệu", "en": "No value recorded"},
    "source": {"vi": "Nguồn", "en": "Source"},
    "inspector": {"vi": "Người kiểm tra", "en": "Inspector"},
    "date": {"vi": "Ngày", "en": "Date"},
    "note": {"vi": "Ghi chú", "en": "Note"},
    "file": {"vi": "Tệp", "en": "File"},
    "row": {"vi": "Dòng", "en": "Row"},
    "yes": {"vi": "có", "en": "yes"},
    "no": {"vi": "không", "en": "no"},
    "sheet_table": {"vi": "Bảng tuân thủ", "en": "Compliance"},
    "sheet_evidence": {"vi": "Bằng chứng", "en": "Evidence"},
    "legend": {"vi": "✓ đạt · ⚠ cảnh báo · ✗ không đạt · – không áp dụng · ? chưa xác định",
               "en": "✓ pass · ⚠ warning · ✗ fail · – not applicable · ? unknown"},
    "print": {"vi": "In", "en": "Print"},
    "needs_script": {"vi": "Cần bật JavaScript để xem chi tiết từng cổng.",
                     "en": "Turn JavaScript on to see each portal's details."},
    "close": {"vi": "Đóng", "en": "Close"},
    # fallback column titles when the check registry has no entry for a family
    "col.footer": {"vi": "Chân trang (TT 32/2017)", "en": "Footer (Circular 32/2017)"},
    "col.licence": {"vi": "Giấy phép", "en": "Licence"},
    "col.services": {"vi": "Mức độ dịch vụ công", "en": "Online service level"},
    "col.freshness": {"vi": "Cập nhật tin", "en": "Freshness"},
    "col.email": {"vi": "Thư điện tử công khai", "en": "Public e-mail"},
    "col.transport": {"vi": "Truy cập, HTTPS/TLS", "en": "Availability, HTTPS/TLS"},
    "col.parallel": {"vi": "Trang song song", "en": "Parallel portals"},
}  # fmt: skip


def ui(key: str, lang: str) -> str:
    """A chrome label in `lang` (English when missing, the key when unknown)."""
    entry = UI.get(key, {})
    return entry.get(lang) or entry.get("en") or key


def pick(label: Mapping[str, str] | None, lang: str, default: str = "") -> str:
    """Choose a language from a {vi, en} label."""
    if not label:
        return default
    return label.get(lang) or label.get("en") or label.get("vi") or default
