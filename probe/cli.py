"""The `probe` command line (design/interface.md): parse options, build settings, delegate.

Every user mistake ends as one line on stderr and exit code 2; an internal error as one
line and exit code 1 (`--debug` shows the traceback). Nothing here decides compliance.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import sys
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click

from probe import __version__
from probe.errors import InputError
from probe.registry import (
    Agency,
    PortalEntry,
    Registry,
    Target,
    load_registry,
    validate_portal_url,
)
from probe.settings import ConnectTo, Settings

log = logging.getLogger("probe")


class _State:
    """Per-invocation state carried by click's context (no module globals)."""

    def __init__(self) -> None:
        self.debug = False


def crawl_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Options shared by `check`, `run`, `schedule` and `demo` (interface.md)."""
    options = [
        click.option("--registry", "registry", type=click.Path(path_type=Path), default=None,
                     help="Registry TOML (default: config/portals.toml or $PROBE_REGISTRY)."),
        click.option("--db", "db", default=None,
                     help="SQLAlchemy URL (default: a SQLite file or $PROBE_DATABASE_URL)."),
        click.option("--ruleset", "ruleset", default=None,
                     help="nd43-2011 or nd42-2022 (default: the one in force today)."),
        click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table"),
        click.option("--lang", type=click.Choice(["vi", "en"]), default="vi"),
        click.option("--connect-to", "connect_to", multiple=True, metavar="HOST:PORT:ADDR:PORT2",
                     help="Send requests for HOST:PORT to ADDR:PORT2 (curl semantics)."),
        click.option("--allow-private", is_flag=True,
                     help="Permit loopback/private target addresses (tests, demo, intranet)."),
        click.option("--max-pages", type=click.IntRange(1, 10_000), default=None),
        click.option("--max-depth", type=click.IntRange(0, 20), default=None),
        click.option("--fail-under", type=click.FloatRange(0, 100), default=None,
                     help="Exit 1 when a portal's score (0-100) is below this."),
    ]  # fmt: skip
    for option in reversed(options):
        func = option(func)
    return func


def build_settings(opts: dict[str, Any]) -> Settings:
    """Settings from the environment, then the command's options."""
    settings = Settings.from_env()
    changes: dict[str, Any] = {}
    if opts.get("registry") is not None:
        changes["registry_path"] = opts["registry"]
    if opts.get("db"):
        changes["db_url"] = opts["db"]
    if opts.get("connect_to"):
        changes["connect_to"] = tuple(ConnectTo.parse(s) for s in opts["connect_to"])
    if opts.get("allow_private"):
        changes["allow_private"] = True
    for key in ("max_pages", "max_depth"):
        if opts.get(key) is not None:
            changes[key] = opts[key]
    if opts.get("lang"):
        changes["lang"] = opts["lang"]
    return settings.with_(**changes)


def resolve_ruleset(ruleset_id: str | None) -> Any:
    """The named ruleset, or the one in force today."""
    from datetime import date

    from checks.ruleset import load_ruleset, ruleset_for_date

    return load_ruleset(ruleset_id) if ruleset_id else ruleset_for_date(date.today())


def _looks_like_url(target: str) -> bool:
    return "://" in target or "/" in target or ("." in target and " " not in target)


def adhoc_agency(url: str, level: str) -> Agency:
    """An agency for a URL that is not in the registry, named after its host."""
    host = (urlsplit(url).hostname or "portal").rstrip(".")
    labels = host.split(".")
    province_domain = ".".join(labels[-3:]) if host.endswith(".gov.vn") and len(labels) > 3 else ""
    return Agency(
        id=host.replace(".", "-")[:100],
        name=host,
        level=level,
        portal_entries=(PortalEntry(url),),
        province_domain=province_domain,
    )


def resolve_target(
    registry: Registry | None, target: str, level: str
) -> tuple[Agency, tuple[str, ...]]:
    """`probe check TARGET`: an agency id of the registry, or a portal URL."""
    if _looks_like_url(target):
        url = validate_portal_url(target, "TARGET")
        agency = registry.agency_for_url(url) if registry else None
        if agency is None:
            return adhoc_agency(url, level), (url,)
        return agency, (url,)
    if registry is None:
        raise InputError(f"{target!r} is not a URL and no registry was loaded", where="TARGET")
    agency = registry.get(target)
    if agency is None:
        known = ", ".join(a.id for a in registry.agencies[:20])
        raise InputError(
            f"unknown agency {target!r} in registry {registry.path} (known: {known})",
            where="TARGET",
        )
    return agency, tuple(agency.portals)


def execute(
    settings: Settings,
    targets: list[Any],
    *,
    ruleset_id: str | None,
    trigger: str,
    fmt: str,
    lang: str,
    fail_under: float | None,
    progress: bool,
) -> int:
    """Run the targets, print the result, and compute the exit code.

    A run of more than a couple of portals keeps only a slim row per portal (the findings
    are in the database) and streams the JSON portal by portal, so memory stays flat
    however large the registry is.
    """
    with _loading():
        from probe.output import JsonStream, print_json, print_summary
        from probe.runner import execute_run  # noqa: F401 - loaded here, used by the run
        from probe.store.db import open_store

        ruleset = resolve_ruleset(ruleset_id)
        store = open_store(settings.db_url)
    _raise_open_files_limit(settings)
    total = sum(len(t.urls) for t in targets)
    detail = total <= 2
    stream = JsonStream(sys.stdout, lang) if fmt == "json" and not detail else None
    rows: list[Any] = []

    agencies: dict[str, Any] = {}

    def collect(report: Any) -> None:
        if stream is not None:
            stream.portal(report)
        rows.append(report if detail else report.slim())

    def collect_agency(agency_id: str, findings: Any) -> None:
        if stream is not None:
            stream.agency(agency_id, findings)
        elif detail:
            agencies[agency_id] = findings  # a couple of portals: shown or printed whole

    summary = asyncio.run(
        _run_with_signals(
            settings, targets, store, ruleset, trigger, progress, collect, collect_agency
        )
    )
    summary.agencies = agencies
    order = {key: i for i, key in enumerate((t.agency.id, u) for t in targets for u in t.urls)}
    summary.portals = sorted(rows, key=lambda r: order.get((r.agency_id, r.url), len(order)))
    if stream is not None:
        stream.close(summary)
    elif fmt == "json":
        print_json(summary, lang=lang, stream=sys.stdout)
    else:
        print_summary(summary, lang=lang, detail=detail)
    if fail_under is not None and any(
        p.score is not None and p.score * 100 < fail_under for p in summary.portals
    ):
        return 1
    return 0


@contextlib.contextmanager
def _loading() -> Iterator[None]:
    """Load the run's modules, ruleset and store with the garbage collector off, then freeze.

    Start-up creates a few hundred thousand long-lived objects (the libraries' modules,
    classes and functions, the ruleset) and almost no garbage: the collector ran ~200
    times over them while they were being created and found a few dozen objects, then
    `_settle_heap` walked them all once more (28 ms) to find ~1,200 (0.25 MB: attrs'
    class builders in aiohttp) before freezing them. Here the collector stays off and
    everything loaded is frozen as it is, the way Python's documentation freezes a heap
    before fork: that garbage is kept for the life of the process, and start-up costs
    ~70 ms less CPU (73 -> ~5 ms of collections per `probe run`).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
        gc.freeze()
    finally:
        if was_enabled:
            gc.enable()


# Young generation every 50,000 net allocations instead of 700, the middle one every 20
# of those, the oldest after 100 of the middle (and only once it grew by a quarter).
_RUN_GC_THRESHOLDS = (50_000, 20, 100)


def _settle_heap() -> None:
    """Move everything loaded so far out of the garbage collector's sight before a run.

    A run allocates millions of short-lived objects (links, text pieces, rows); every
    full collection used to walk the few hundred thousand long-lived ones of the imported
    libraries, the ruleset and the registry as well. `gc.freeze()` parks those in the
    permanent generation: about 15 % less CPU over the 200-portal fleet, same peak memory.
    Only for a process that runs and exits (the CLI), never inside library code.

    The collector then runs less often (`_RUN_GC_THRESHOLDS`): a page's objects live as
    long as its portal's crawl, so with many portals in flight nearly everything a
    collection walks is alive, and the older generations grow with the pages in memory.
    With 200 slow portals in flight (~700 MB) collections cost 1.04 s of CPU at the
    default thresholds, 0.38 s at these, and found the same ~490 objects in cycles
    (exceptions and their tracebacks, mostly); at 8 portals in flight ~0.19 s either way.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*_RUN_GC_THRESHOLDS)


def _raise_open_files_limit(settings: Settings) -> None:
    """Lift the soft open-files limit towards the hard one when the run needs more sockets.

    A run keeps `portal_concurrency × per_host` connections open at once (two per slot
    while a pool replaces one); systemd and many shells start services at a soft limit of
    1,024, which 200 slow portals in flight would exhaust as "connect_error" findings.
    """
    try:
        import resource
    except ImportError:  # not on POSIX: nothing to raise
        return
    need = 2 * settings.portal_concurrency * settings.per_host_concurrency + 256
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= need or soft == resource.RLIM_INFINITY:
        return
    target = need if hard == resource.RLIM_INFINITY else min(need, hard)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


async def _run_with_signals(
    settings: Settings,
    targets: list[Any],
    store: Any,
    ruleset: Any,
    trigger: str,
    progress: bool,
    on_portal: Callable[[Any], None] | None = None,
    on_agency: Callable[[str, Any], None] | None = None,
) -> Any:
    """Run with SIGINT/SIGTERM asking for a clean stop, and a progress bar on a terminal.

    With `on_portal` (`on_agency`), the caller receives each portal's report (agency's
    findings) and the run keeps none.
    """
    from probe.runner import execute_run

    _settle_heap()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    total = sum(len(t.urls) for t in targets)
    bar = _progress_bar() if progress and sys.stderr.isatty() and total > 1 else None
    with bar if bar is not None else contextlib.nullcontext():
        task = bar.add_task("probe", total=total) if bar is not None else None

        def advance(report: Any) -> None:
            if bar is not None and task is not None:
                bar.update(task, advance=1, description=report.agency_id)
            if on_portal is not None:
                on_portal(report)

        try:
            return await execute_run(
                targets, settings=settings, store=store, ruleset=ruleset, trigger=trigger,
                stop=stop, on_portal=advance, keep_reports=on_portal is None,
                on_agency=on_agency,
            )  # fmt: skip
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)


def _progress_bar() -> Any:
    """The terminal's progress bar (a rich `Progress`).

    rich is imported only when a bar is shown: a run without a terminal (cron, a pipe,
    `--format json` to a file) never loads it.
    """
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=Console(stderr=True),  # stdout carries the report (JSON, CSV) and stays clean
        transient=True,
    )  # fmt: skip


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="probe")
@click.option("--debug", is_flag=True, help="Show tracebacks of internal errors.")
@click.option("-v", "--verbose", is_flag=True, help="Log one line per portal to stderr.")
@click.pass_context
def cli(ctx: click.Context, debug: bool, verbose: bool) -> None:
    """probe: checks state-agency portals against the law, with evidence."""
    state = ctx.ensure_object(_State)
    state.debug = debug
    if verbose:
        from probe.logs import configure_logging

        configure_logging(logging.INFO)


@cli.command()
@click.argument("target")
@crawl_options
@click.option(
    "--level",
    type=click.Choice(["province", "department", "district", "commune"]),
    default="department",
    help="Agency level for a URL that is not in the registry.",
)
def check(target: str, level: str, **opts: Any) -> int:
    """Probe one portal (a URL) or one agency (a registry id) now."""
    settings = build_settings(opts)
    registry = _load_registry_for_check(settings, target)
    agency, urls = resolve_target(registry, target, level)
    return execute(
        settings, [Target(agency, urls)], ruleset_id=opts["ruleset"], trigger="on-demand",
        fmt=opts["fmt"], lang=opts["lang"], fail_under=opts["fail_under"], progress=False,
    )  # fmt: skip


def _load_registry_for_check(settings: Settings, target: str) -> Registry | None:
    """A URL check works without a registry; an agency id needs one."""
    if _looks_like_url(target) and not settings.registry_path.exists():
        return None
    return load_registry(settings.registry_path)


@cli.command()
@crawl_options
@click.option("--agency", "agencies", multiple=True, help="Only these agency ids (repeatable).")
def run(agencies: tuple[str, ...], **opts: Any) -> int:
    """Probe every active portal of the registry now."""
    settings = build_settings(opts)
    targets = registry_targets(load_registry(settings.registry_path), agencies)
    return execute(
        settings, targets, ruleset_id=opts["ruleset"], trigger="manual", fmt=opts["fmt"],
        lang=opts["lang"], fail_under=opts["fail_under"], progress=True,
    )  # fmt: skip


def registry_targets(registry: Registry, only: tuple[str, ...] = ()) -> list[Any]:
    """Targets for every active agency, or for the named ones (unknown ids are an error)."""
    for agency_id in only:
        if registry.get(agency_id) is None:
            raise InputError(f"unknown agency {agency_id!r} in registry {registry.path}",
                             where="--agency")  # fmt: skip
    chosen = [a for a in registry.active if not only or a.id in only]
    return [Target(a, tuple(a.portals)) for a in chosen]


from probe.commands.demo import add_commands as add_demo_commands  # noqa: E402
from probe.commands.report import add_commands as add_report_commands  # noqa: E402
from probe.commands.schedule import add_commands  # noqa: E402

add_commands(cli, crawl_options)
add_report_commands(cli)
add_demo_commands(cli)


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI and turn every error into a one-line message and exit code."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
        result = cli.main(args=args, prog_name="probe", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code or 0)
    except click.UsageError as exc:
        click.echo(f"probe: error: {exc.format_message()}", err=True)
        return 2
    except click.ClickException as exc:
        click.echo(f"probe: error: {exc.format_message()}", err=True)
        return 2
    except InputError as exc:
        click.echo(f"probe: error: {exc}", err=True)
        return 2
    except (KeyboardInterrupt, click.exceptions.Abort):
        click.echo("probe: interrupted", err=True)
        return 130
    except Exception as exc:
        if debug:
            traceback.print_exc()
        click.echo(
            f"probe: internal error: {type(exc).__name__}: {exc} (run with --debug for details)",
            err=True,
        )
        return 1
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
