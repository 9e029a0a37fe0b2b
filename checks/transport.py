"""Reachability, HTTPS, certificate and domain name of a portal.

`availability` is the one check that reports a down portal as `fail`: a portal citizens
cannot open fails its first duty, whereas every content check of a down portal is
`unknown`. Outcomes that say nothing about the portal itself (our address guard refused
it, robots.txt or a bot wall kept us out, our own error) stay `unknown`.

The domain rule is NĐ 43/2011 Đ6: ".vn"; a province at `<tinh>.gov.vn`, its departments
and districts one label below (`lethuy.quangbinh.gov.vn`), so `lethuy.gov.vn` does not
conform. Templates come from the ruleset (`name_templates`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from checks.base import CheckContext, Evidence, Finding, Status, check
from probe.artifacts import PortalArtifacts

DEFAULT_TLS_WARN_DAYS = 30
# Outcomes that mean "the portal is down for citizens" (availability fails).
_DOWN = frozenset({"unreachable", "timeout", "tls_error", "http_status", "redirect_loop"})
_DEFAULT_TEMPLATES: Mapping[str, str] = {
    "province": "{province}.gov.vn",
    "department": "{name}.{province}.gov.vn",
    "district": "{name}.{province}.gov.vn",
    "commune": "{name}.{province}.gov.vn",
}


def _msg(vi: str, en: str) -> dict[str, str]:
    return {"vi": vi, "en": en}


def _host(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    return host[4:] if host.startswith("www.") else host


def _final_url(site: PortalArtifacts) -> str:
    home = site.home
    return site.final_url or (home.final_url if home else "") or site.url


@check(
    id="availability",
    title=_msg("Cổng truy cập được", "Portal is reachable"),
    failure_title=_msg("Cổng không truy cập được", "Portal is not reachable"),
    legal_basis="TT 32/2017/TT-BTTTT Điều 11 khoản 2 điểm e",
    volatile=True,  # reports this night's response time
)
def availability(site: PortalArtifacts, ctx: CheckContext) -> list[Finding]:
    """The home page answered 2xx with content; otherwise why not."""
    home = site.home
    reason = site.reason
    details: dict[str, Any] = {"outcome": site.outcome, "url": site.url}
    if home is not None:
        details.update(
            status=home.status, elapsed_ms=round(home.elapsed_ms), final_url=home.final_url
        )
    if site.outcome == "checked" and home is not None and home.ok:
        return [
            Finding(
                "availability",
                Status.PASS,
                _msg(
                    f"Trang chủ trả lời {home.status} sau {home.elapsed_ms / 1000:.1f} giây.",
                    f"Home page answered {home.status} in {home.elapsed_ms / 1000:.1f} s.",
                ),
                (Evidence(home.final_url or home.url, home.title or str(home.status)),),
                details,
            )
        ]
    code = reason.code if reason else site.outcome
    message = reason.message if reason else ""
    details.update(reason=code, message=message)
    if site.outcome == "checked" and home is not None:  # fetched, but an error page
        code = "http_status" if not 200 <= home.status < 300 else "empty_page"
        details["reason"] = code
    elif site.outcome not in _DOWN and code not in _DOWN:
        return [
            Finding(
                "availability",
                Status.UNKNOWN,
                _msg(
                    f"Không kiểm tra được ({code}). {message}".strip(),
                    f"Could not be checked ({code}). {message}".strip(),
                ),
                details=details,
            )
        ]
    shown = f"HTTP {home.status}" if home is not None and code == "http_status" else code
    return [
        Finding(
            "availability",
            Status.FAIL,
            _msg(f"Trang chủ không dùng được: {shown}.", f"Home page not usable: {shown}."),
            (Evidence(site.url, message or shown),),
            details,
        )
    ]


@check(
    id="https",
    title=_msg("Cổng dùng HTTPS", "Portal is served over HTTPS"),
    failure_title=_msg("Cổng không dùng HTTPS", "Portal is not served over HTTPS"),
    legal_basis="TT 32/2017/TT-BTTTT Điều 20",
)
def https(site: PortalArtifacts, ctx: CheckContext) -> list[Finding]:
    """Pass when the home page ends on https; say whether http redirected there.

    A plain-HTTP portal is `warn` unless the ruleset's `required` makes HTTPS mandatory
    (TT 32/2017 Đ20 requires it for level 3–4 services, not explicitly for the portal).
    """
    if site.home is None:
        # Whether a registered https:// address is HTTPS needs only the URL; whether it
        # works is availability's and tls's question. An http:// one that never answered
        # may still redirect, so that stays unknown.
        if not site.url.lower().startswith("https://"):
            return [_unknown("https", site)]
        return [
            Finding(
                "https",
                Status.PASS,
                _msg(
                    "Địa chỉ đăng ký là https (cổng không tải được: xem availability/tls).",
                    "The registered address is https (the portal did not load: see "
                    "availability/tls).",
                ),
                (Evidence(site.url, site.url),),
                {"url": site.url, "final_url": "", "home_loaded": False},
            )
        ]
    final = _final_url(site)
    chain = [u for u, _ in site.redirect_chain] + [final]
    details = {"url": site.url, "final_url": final, "redirect_chain": chain}
    started_http = site.url.lower().startswith("http://")
    if final.lower().startswith("https://"):
        details["http_redirects"] = started_http or None
        vi = "chuyển hướng từ http sang https" if started_http else "địa chỉ đăng ký là https"
        en = "http redirects to https" if started_http else "the registered address is https"
        return [
            Finding(
                "https",
                Status.PASS,
                _msg(f"Cổng dùng HTTPS ({vi}).", f"Served over HTTPS ({en})."),
                (Evidence(final, " → ".join(chain)),),
                details,
            )
        ]
    required = bool(ctx.options.get("required", False))
    offered = site.tls is not None and site.tls.valid
    status = Status.FAIL if required else Status.WARN
    vi = "Cổng chỉ dùng HTTP" + (" (có HTTPS nhưng không chuyển hướng)" if offered else "")
    en = "Served over plain HTTP" + (
        " (HTTPS exists but http does not redirect)" if offered else ""
    )
    details["https_offered"] = offered
    return [Finding("https", status, _msg(vi + ".", en + "."), (Evidence(final, final),), details)]


def _unknown(check_id: str, site: PortalArtifacts) -> Finding:
    reason = site.reason.code if site.reason else site.outcome
    return Finding(
        check_id,
        Status.UNKNOWN,
        _msg(
            "Không kiểm tra được: không tải được trang chủ.", "Could not be checked: no home page."
        ),
        details={"reason": reason},
    )


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


@check(
    id="tls",
    title=_msg("Chứng thư số hợp lệ", "Valid TLS certificate"),
    failure_title=_msg(
        "Chứng thư số không hợp lệ hoặc hết hạn", "Invalid or expired TLS certificate"
    ),
    legal_basis="TT 32/2017/TT-BTTTT Điều 20",
    volatile=True,  # counts days to the certificate's expiry from the run's clock
)
def tls(site: PortalArtifacts, ctx: CheckContext) -> list[Finding]:
    """Certificate validity and days to expiry; `na` for a portal served over plain HTTP."""
    final = _final_url(site)
    info = site.tls
    if info is None:
        if site.outcome == "tls_error":
            reason = site.reason.message if site.reason else "tls_error"
            return [
                Finding(
                    "tls",
                    Status.FAIL,
                    _msg(f"Lỗi TLS: {reason}", f"TLS error: {reason}"),
                    (Evidence(site.url, reason),),
                    {"valid": False, "error": reason},
                )
            ]
        if not final.lower().startswith("https://") and site.home is not None:
            return [
                Finding(
                    "tls",
                    Status.NA,
                    _msg("Cổng không dùng HTTPS.", "The portal is not served over HTTPS."),
                    details={"final_url": final},
                )
            ]
        if site.home is None:
            return [_unknown("tls", site)]
        return [
            Finding(
                "tls",
                Status.UNKNOWN,
                _msg(
                    "Không có thông tin chứng thư số.", "No certificate information was recorded."
                ),
                details={"reason": "tls_info_missing"},
            )
        ]
    details: dict[str, Any] = {"valid": info.valid, "issuer": info.issuer, "subject": info.subject}
    if info.not_after is not None:
        days = (_aware(info.not_after) - _aware(site.now)).days
        details.update(not_after=info.not_after.isoformat(), days_left=days)
    else:
        days = None
    ev = (Evidence(final, f"{info.subject} / {info.issuer}".strip(" /")),)
    if not info.valid or (days is not None and days < 0):
        why = info.error or ("hết hạn" if days is not None and days < 0 else "không hợp lệ")
        why_en = info.error or ("expired" if days is not None and days < 0 else "invalid")
        details["error"] = info.error
        return [
            Finding(
                "tls",
                Status.FAIL,
                _msg(f"Chứng thư số: {why}.", f"Certificate: {why_en}."),
                ev,
                details,
            )
        ]
    warn_days = int(ctx.options.get("expiry_warn_days", DEFAULT_TLS_WARN_DAYS))
    if days is not None and days < warn_days:
        return [
            Finding(
                "tls",
                Status.WARN,
                _msg(
                    f"Chứng thư số hết hạn sau {days} ngày.", f"Certificate expires in {days} days."
                ),
                ev,
                details,
            )
        ]
    left_vi = f", còn {days} ngày" if days is not None else ""
    left_en = f", {days} days left" if days is not None else ""
    return [
        Finding(
            "tls",
            Status.PASS,
            _msg(f"Chứng thư số hợp lệ{left_vi}.", f"Certificate valid{left_en}."),
            ev,
            details,
        )
    ]


def _conforms(host: str, level: str, province: str, templates: Mapping[str, str]) -> bool:
    """Does `host` fit the level's template? `{name}` stands for exactly one DNS label."""
    template = templates.get(level) or templates.get("district") or "{name}.{province}.gov.vn"
    expected = template.replace("{province}", province.removesuffix(".gov.vn"))
    if "{name}" not in expected:
        return host == expected
    head, _, tail = expected.partition("{name}")
    if not (host.startswith(head) and host.endswith(tail)):
        return False
    name = host[len(head) : len(host) - len(tail)]
    return bool(name) and "." not in name and name.replace("-", "").isalnum()


@check(
    id="domain",
    title=_msg("Tên miền đúng quy định", "Domain name follows the convention"),
    failure_title=_msg(
        "Tên miền không đúng quy định", "Domain name does not follow the convention"
    ),
    legal_basis="NĐ 43/2011/NĐ-CP Điều 6",
)
def domain(site: PortalArtifacts, ctx: CheckContext) -> list[Finding]:
    """Judge the host readers end on (after redirects) against NĐ 43/2011 Đ6."""
    final = _final_url(site) if site.home is not None else site.url
    host, registered = _host(final), _host(site.url)
    suffix = str(ctx.options.get("required_suffix", ".vn")).lower()
    templates = (
        ctx.options.get("name_templates") or ctx.options.get("patterns") or _DEFAULT_TEMPLATES
    )
    province = site.province_domain.lower().removeprefix("www.")
    details = {"host": host, "registered_host": registered, "level": site.agency_level}
    ev = (Evidence(final, host),)
    if not host.endswith(suffix):
        return [
            Finding(
                "domain",
                Status.FAIL,
                _msg(
                    f"Tên miền {host} không dùng đuôi {suffix}.",
                    f"Domain {host} is not under {suffix}.",
                ),
                ev,
                details,
            )
        ]
    if not province:
        details["reason"] = "province_domain_unknown"
        return [
            Finding(
                "domain",
                Status.UNKNOWN,
                _msg(
                    "Chưa biết tên miền của tỉnh để đối chiếu.",
                    "The province's domain is not known, so the name cannot be judged.",
                ),
                ev,
                details,
            )
        ]
    details["province_domain"] = province
    level = site.agency_level
    if level not in templates:
        # Đ6 names no pattern for this level: only the suffix can be judged.
        details["template"] = None
        gov = str(ctx.options.get("government_suffix", ".gov.vn")).lower()
        status = Status.PASS if host.endswith(gov) else Status.WARN
        return [
            Finding(
                "domain",
                status,
                _msg(
                    f"Tên miền {host}: quy định không nêu mẫu cho cấp {level}; chỉ xét đuôi {gov}.",
                    f"Domain {host}: no naming pattern for level {level}; only the {gov} "
                    "suffix is judged.",
                ),
                ev,
                details,
            )
        ]
    if _conforms(host, level, province, templates):
        note_vi = (
            f" (địa chỉ đăng ký {registered} chuyển hướng về đây)" if registered != host else ""
        )
        note_en = f" (the registered {registered} redirects here)" if registered != host else ""
        return [
            Finding(
                "domain",
                Status.PASS,
                _msg(
                    f"Tên miền {host} đúng quy định{note_vi}.", f"Domain {host} conforms{note_en}."
                ),
                ev,
                details,
            )
        ]
    example = "<tên>." + province if level != "province" else province
    return [
        Finding(
            "domain",
            Status.FAIL,
            _msg(
                f"Tên miền {host} không theo quy định (cần dạng {example}).",
                f"Domain {host} does not follow the convention (expected {example}).",
            ),
            ev,
            details,
        )
    ]
