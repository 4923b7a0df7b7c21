"""Writing the report: pick the snapshot and week, render the sections, write the
file atomically (HTML, or PDF printed by a headless Chromium)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Literal

import polars as pl

from pipelines.access import audit
from pipelines.access.scopes import ADMIN, Scope as AccessScope
from pipelines.access.settings import Access
from pipelines.access.snapshot import ensure_scoped
from pipelines.db import require_database
from pipelines.errors import TierlensError
from pipelines.metrics import METRICS, for_clock
from pipelines.presentation.filters import Filters
from pipelines.report.content import Scope
from pipelines.report.html import page, write_atomic
from pipelines.report.summary import Outlier
from pipelines.serving import read_pointer

Format = Literal["html", "pdf"]
STATS = {m.name: m.stat for m in METRICS}


@dataclass(frozen=True)
class ReportResult:
    path: Path
    week: date
    partner: str | None
    build_id: int


# What a partner's name keeps in a file name: letters, digits, '.', '-', '_'.
_NOT_IN_FILE_NAME = re.compile(r"[^\w.-]+")


def default_out(week: date, partner: str | None, fmt: Format) -> Path:
    """reports/tierlens-2025-W13[-partner].html; a partner's name is data, so a '/',
    '..' or a space never leaves the reports folder or splits the name."""
    year, number, _ = week.isocalendar()
    name = _NOT_IN_FILE_NAME.sub("_", partner).strip("._") if partner else ""
    who = f"-{name}" if name else ""
    return Path("reports") / f"tierlens-{year}-W{number:02d}{who}.{fmt}"


CLOCKS = {"wall": "wall-clock time", "business": "business hours of each ticket's calendar"}


def report_scope(partner: str | None, client: str | None) -> AccessScope:
    """The access scope a report for `partner` or `client` (or everyone) reads."""
    if partner and client:
        raise TierlensError("give --partner or --client, not both")
    if partner:
        return AccessScope("partner", partner)
    if client:
        return AccessScope("client", client)
    return ADMIN


def week_in_brief(scope: Scope) -> str:
    """The opening paragraph (pipelines.report.summary), from the scope's figures."""
    from pipelines.presentation import queries as data
    from pipelines.report.html import esc, section
    from pipelines.report.summary import moves, summary_text

    previous = scope.week - timedelta(weeks=1)
    weekly = data.weekly_kpis(
        scope.snapshot, Filters(since=previous, until=scope.week, partner=scope.partners)
    ).with_columns(stat=pl.col("metric").replace_strict(STATS, default=None))
    columns = ("metric", "stat", "value", "numerator", "denominator", "status")
    this = weekly.filter(pl.col("week_start") == scope.week).select(columns)
    before = weekly.filter(pl.col("week_start") == previous).select(columns)
    targets = data.targets(scope.snapshot)
    shown = for_clock([m for m in targets if m in STATS], scope.clock)
    text = summary_text(
        week_label=f"{scope.week:%d %b %Y}",
        who=scope.who,
        n_resolved=data.resolved_tickets(scope.snapshot, scope.week_filters()),
        tiles=this.filter(pl.col("metric").is_in(shown)),
        moved=moves(this.filter(pl.col("metric").is_in(shown)), before),
        outliers=_outliers(scope, [m for m in shown if STATS[m] == "rate"]),
    )
    return section("summary", "The week in brief", f'<p class="summary">{esc(text)}</p>')


def _outliers(scope: Scope, metrics: list[str]) -> list[Outlier]:
    """The partners outside the 99.8% funnel limits of these KPIs in the week (a
    report on all partners; a partner's or a client's names no other partner)."""
    from pipelines.presentation import queries as data
    from pipelines.presentation.comparison import compare_partners, outside_limits

    if scope.partner or scope.client:
        return []
    strata = data.kpis(scope.snapshot, scope.week_filters(), ("partner", "category", "priority"))
    minimum, gap = data.min_sample(scope.snapshot), data.min_gap(scope.snapshot)
    found = []
    for metric in metrics:  # a handful of KPIs, each a small frame
        rows = outside_limits(compare_partners(strata, metric, minimum, gap))
        found += [
            Outlier(r["partner"], r["metric"], r["side"], r["limit"])
            for r in rows.filter(pl.col("limit") == "99.8%").iter_rows(named=True)
        ]
    return found


def render_html(
    db_path: Path | str,
    week: date | None,
    partner: str | None,
    clock: str = "wall",
    *,
    client: str | None = None,
    access: Access | None = None,
    agents: bool = False,
) -> tuple[str, date, int]:
    """The report page for `week` (default: the last complete week), its durations
    on `clock` ("wall" or "business"). A partner's or a client's report reads that
    scope's snapshot (pipelines.access.snapshot), as their dashboard session does:
    it cannot name another partner, and a client's shows agents as pseudonyms."""
    from pipelines.presentation import queries as data
    from pipelines.report.content import Scope, sections_for

    if clock not in CLOCKS:
        raise TierlensError(f"--clock: {clock!r} is not one of {', '.join(CLOCKS)}")
    scoped = report_scope(partner, client)
    pointer = read_pointer(require_database(db_path))
    if pointer is None:
        raise TierlensError(
            f"{db_path}: no published build. Run `tierlens build --db {db_path}` first."
        )
    full = str(pointer.snapshot)
    for flag, name in (("partner", partner), ("client", client)):
        known = data.filter_options(full)[flag]
        if name and name not in known:
            raise TierlensError(f"--{flag}: no {flag} {name!r} (known: {', '.join(known)})")
    snap = str(ensure_scoped(full, scoped, access or Access()))
    weeks = data.weeks(snap)
    if not weeks:
        raise TierlensError(f"{db_path}: the last build has no resolved tickets to report on.")
    chosen = week or data.last_complete_week(snap)
    if chosen not in weeks:
        raise TierlensError(
            f"--week: no resolved tickets in the week of {chosen}; the data has the weeks "
            f"{weeks[0]} to {weeks[-1]}."
        )
    scope = Scope(
        snapshot=snap, week=chosen, partner=partner, clock=clock, client=client, agents=agents
    )
    info = data.build_info(snap)
    year, number, _ = chosen.isocalendar()
    title = f"Escalation scorecard · week {year}-W{number:02d}" + (
        f" · {partner or client}" if partner or client else ""
    )
    meta = (
        f"Week of {chosen:%d %b %Y} ({scope.who}). Build {pointer.build_id}, built "
        f"{info['built_at']}; data until {info['data_until']}. Durations in {CLOCKS[clock]}."
    )
    footer = (
        f"Generated by tierlens report on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC. "
        "Weeks are weeks of final resolution."
    )
    brief = week_in_brief(scope)
    html = page(
        title, meta, [brief, *(section(scope) for section in sections_for(scope))], footer
    )
    return html, chosen, pointer.build_id


def write_report(
    db_path: Path | str,
    week: date | None,
    *,
    partner: str | None = None,
    out: Path | None = None,
    fmt: Format = "html",
    clock: str = "wall",
    client: str | None = None,
    access: Access | None = None,
    agents: bool = False,
) -> ReportResult:
    if fmt not in ("html", "pdf"):
        raise TierlensError(f"--format: {fmt!r} is not html or pdf")
    html, chosen, build_id = render_html(
        db_path, week, partner, clock, client=client, access=access, agents=agents
    )
    target = out or default_out(chosen, partner or client, fmt)
    if fmt == "pdf":
        from pipelines.report.pdf import html_to_pdf

        write_atomic(target, html_to_pdf(html, target.parent))
    else:
        write_atomic(target, html)
    scoped = report_scope(partner, client)
    if not scoped.is_admin:  # who sent which partner or client its figures
        audit.record(
            db_path,
            audit.AccessEvent(
                event="report", identity=audit.cli_identity(), scope=str(scoped),
                detail=str(target),
            ),
        )
    return ReportResult(target, chosen, partner, build_id)
