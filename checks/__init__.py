"""Compliance checks: pure functions from page artifacts to findings.

Each family module registers its checks in `checks.base.REGISTRY` when imported;
`load_families()` imports them all, so whoever runs checks sees every one.
"""

from __future__ import annotations

import importlib

# Modules that hold `@check` functions. A family not written yet is skipped by
# `load_families(strict=False)`; the contract test loads them strictly.
FAMILY_MODULES = (
    "checks.sections",
    "checks.footer",
    "checks.licence",
    "checks.services",
    "checks.freshness",
    "checks.email",
    "checks.transport",
    "checks.parallel",
)


def load_families(*, strict: bool = False) -> tuple[str, ...]:
    """Import every family module (filling the REGISTRY); return the ones loaded.

    A missing family module is skipped unless `strict`; an error *inside* a module always
    propagates, because a half-registered family would silently drop checks.
    """
    loaded: list[str] = []
    for name in FAMILY_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if strict or exc.name != name:
                raise
            continue
        loaded.append(name)
    return tuple(loaded)
