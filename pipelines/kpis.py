"""The KPI table for scripts: `tierlens kpis` and `tierlens export`.

Aggregates the KPI cases (`analytics.kpi_fact_cells`: kpi_facts summed by week,
dimensions and fact) by any combination of dimensions and weeks with the query the
`kpi_weekly` model is generated from (pipelines/metrics/sql.py, `aggregate_sql`),
judged against the same `kpi_targets`, so the command line, the export and the
dashboard agree to the last digit. Like the dashboard and the report, it reads the
serving snapshot that `current.json` names (pipelines/serving.py), so all of them
show the same build, whenever a build is running or was interrupted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import duckdb
from rich.console import Console
from rich.table import Table
from rich.text import Text

from pipelines.csv_safe import neutralise_formulas, neutralise_text
from pipelines.db import connect, polars_frame, require_database, scalar
from pipelines.errors import TierlensError
from pipelines.formatting import fmt_value
from pipelines.metrics import (
    DIMENSIONS as METRIC_DIMENSIONS,
    METRICS,
    coverage_sql,
    metric,
    needs_of,
    not_measurable,
)
from pipelines.metrics.declare import SOURCE_NEEDS
from pipelines.metrics.sql import WEEK, aggregate_sql
from pipelines.serving import open_snapshot

if TYPE_CHECKING:  # `tierlens kpis` prints rows and loads no polars (a tenth of a second)
    import polars as pl

    from pipelines.config import Config

T = TypeVar("T")
_QUOTED = re.compile(r'[,"\r\n]')  # a CSV cell with one of these is quoted

# `--by` name -> column of kpi_facts: the week and the declared dimensions
DIMENSIONS: dict[str, str] = {WEEK: "week_start"} | {d.name: d.column for d in METRIC_DIMENSIONS}

OUTPUT_COLUMNS = (
    "metric",
    "value",
    "numerator",
    "denominator",
    "ci_low",
    "ci_high",
    "target",
    "status",
)


def parse_by(by: str | list[str] | None) -> list[str]:
    if by is None:
        return []
    names = by if isinstance(by, list) else [b.strip() for b in by.split(",") if b.strip()]
    unknown = [n for n in names if n not in DIMENSIONS]
    if unknown:
        raise TierlensError(
            f"--by: unknown dimension {', '.join(unknown)}; choose from {', '.join(DIMENSIONS)}"
        )
    return list(dict.fromkeys(names))


def _parse_date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise TierlensError(f"{option}: {value!r} is not a date (use YYYY-MM-DD)") from exc


def open_published(db_path: Path | str) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the main database file, when it has a committed
    build (for the review's tables, written between builds). KPIs read the
    published snapshot instead (`open_snapshot`)."""
    path = require_database(db_path)
    con = connect(path, read_only=True)
    published = scalar(
        con,
        "select count(*) from information_schema.tables "
        "where table_schema = 'analytics' and table_name = 'kpi_facts'",
    )
    if not published:
        con.close()
        raise TierlensError(f"{path}: no build yet. Run `tierlens build --db {path}` first.")
    return con


def kpi_query(by: list[str], *, filters: Sequence[str] = ()) -> str:
    """The KPI table of a published build grouped by `by` (names of DIMENSIONS),
    with parameters $since and $until (either may be null) and, for each name in
    `filters` (a dimension), the list parameter `$only_<name>`: the facts whose
    value is in it ("(none)" matches a missing value). The same query as the
    kpi_weekly model (pipelines/metrics/sql.py); grouped by partner, each partner
    is judged against its own targets."""
    unknown = [f for f in filters if f not in DIMENSIONS or f == WEEK]
    if unknown:
        raise TierlensError(f"cannot filter on {', '.join(unknown)}")
    return aggregate_sql(
        [by], long=False, schema="analytics.", filters=filters, dated=True, ordered=True
    )


# Groupings kpi_weekly answers as they are: by week, alone or with one dimension
# whose values are never missing (kpi_weekly shows a missing value as "(none)").
_WEEKLY_DIMENSIONS = {"partner": "partner"}


def weekly_query(by: list[str]) -> str | None:
    """The same table as `kpi_query(by)` read from the kpi_weekly mart, when it holds
    exactly these groups; else None.

    kpi_weekly is the same query grouped by week and by week x one dimension, so its
    rows are the answer: a lookup instead of an aggregation over every fact (20
    million rows at a million tickets)."""
    if "week" not in by or len(by) > 2:
        return None
    others = [b for b in by if b != "week"]
    if any(b not in _WEEKLY_DIMENSIONS for b in others):
        return None
    dimension = _WEEKLY_DIMENSIONS[others[0]] if others else "overall"
    select_dims = "".join(
        f'weekly.week_start as "{b}", ' if b == "week" else f'weekly.dimension_value as "{b}", '
        for b in by
    )
    order_dims = "".join(f'"{b}" nulls first, ' for b in by)
    return f"""
        select
            {select_dims}
            weekly.metric, weekly.value, weekly.numerator, weekly.denominator,
            weekly.ci_low, weekly.ci_high, weekly.target, weekly.status, weekly.sample
        from analytics.kpi_weekly as weekly
        where weekly.dimension = '{dimension}'
            and (
                weekly.week_start is null
                or (
                    ($since::date is null or weekly.week_start >= $since::date)
                    and ($until::date is null or weekly.week_start <= $until::date)
                )
            )
        order by {order_dims}
            array_position((select list(metric) from config.metrics), weekly.metric)
    """


def _published_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute(
        "select table_name from information_schema.tables where table_schema = 'analytics'"
    ).fetchall()
    return {name for (name,) in rows}


@dataclass(frozen=True)
class KpiRows:
    """The KPI table as the command line prints it: column names and rows."""

    columns: list[str]
    rows: list[tuple[Any, ...]]

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]

    def column(self, name: str) -> list[Any]:
        """The values of column `name` (none when there is no such column)."""
        if name not in self.columns:
            return []
        i = self.columns.index(name)
        return [row[i] for row in self.rows]


def _fetch(
    db_path: Path | str,
    by: str | list[str] | None,
    since: str | None,
    until: str | None,
    fetch: Callable[[duckdb.DuckDBPyRelation], T],
) -> T:
    dims = parse_by(by)
    params = {"since": _parse_date(since, "--since"), "until": _parse_date(until, "--until")}
    con, _pointer = open_snapshot(db_path)
    try:
        tables = _published_tables(con)
        if "kpi_targets" not in tables:
            raise TierlensError(
                f"{db_path}: its last build was made by an earlier Tierlens (no kpi_targets); "
                f"run `tierlens build --db {db_path}` to rebuild it"
            )
        sql = weekly_query(dims) if "kpi_weekly" in tables else None
        if sql is None:
            sql = kpi_query(dims)
        return fetch(con.sql(sql, params=params))
    finally:
        con.close()


def kpi_table(
    db_path: Path | str,
    config: Config,
    *,
    by: str | list[str] | None = None,
    since: str | None = None,
    until: str | None = None,
) -> pl.DataFrame:
    """One row per group and metric: dims..., metric, value, numerator, denominator,
    ci_low, ci_high, target, status, sample."""
    return _fetch(db_path, by, since, until, polars_frame)


def kpi_rows(
    db_path: Path | str,
    *,
    by: str | list[str] | None = None,
    since: str | None = None,
    until: str | None = None,
) -> KpiRows:
    """`kpi_table`'s rows, fetched without polars (what `tierlens kpis` prints)."""
    return _fetch(db_path, by, since, until, lambda rel: KpiRows(rel.columns, rel.fetchall()))


def render_kpis(table: KpiRows, fmt: str, console: Console) -> None:
    if fmt == "csv":
        # For spreadsheets: no formula runs. Written as it is (rich would turn a tab
        # into spaces and drop a carriage return).
        lines = [",".join(map(_csv_cell, row)) for row in [table.columns, *table.rows]]
        console.file.write("".join(line + "\n" for line in lines))
    elif fmt == "json":
        text = json.dumps(table.records(), default=str, ensure_ascii=False)
        console.print(text, highlight=False, markup=False, soft_wrap=True)
    elif fmt == "table":
        wide = console if console.width >= 140 else Console(width=140, file=console.file)
        wide.print(_rich_table(table))
    else:
        raise TierlensError(f"--format: {fmt!r} is not one of table, csv, json")


def _csv_cell(value: object) -> str:
    """One CSV cell: text neutralised, quoted when it holds a comma, a quote or a line
    break (a carriage return too, which Python's csv writer leaves bare when lines end
    in \\n); a number as Python writes it (the shortest text that reads back exactly),
    a week as YYYY-MM-DD, a missing value empty."""
    if value is None:
        return ""
    if not isinstance(value, str):
        return str(value)  # a number or a date: never a comma, quote or line break
    text = neutralise_text(value)
    return '"' + text.replace('"', '""') + '"' if _QUOTED.search(text) else text


def _rich_table(rows: KpiRows) -> Table:
    """A human view: rates as percentages, n as numerator/denominator, the CI in one cell."""
    units = {m.name: m.unit for m in METRICS}
    stats = {m.name: m.stat for m in METRICS}
    dims = [c for c in rows.columns if c in DIMENSIONS]
    table = Table(show_lines=False, header_style="bold")
    for col in [*dims, "metric", "value", "n", "95% CI", "target", "status"]:
        table.add_column(col, justify="right" if col in ("value", "n", "95% CI") else "left")
    colours = {"green": "green", "amber": "yellow", "red": "red"}
    for row in rows.records():
        unit = units.get(row["metric"], "")
        n = (
            f"{row['numerator']:.0f}/{row['denominator']:.0f}"
            if row["denominator"] is not None and stats.get(row["metric"]) == "rate"
            else str(row["sample"])
        )
        ci = (
            f"{fmt_value(row['ci_low'], unit)}-{fmt_value(row['ci_high'], unit)}"
            if row["ci_low"] is not None
            else ""
        )
        status = row["status"]
        table.add_row(
            *(Text(str(row[d])) if row[d] is not None else "-" for d in dims),  # not markup
            row["metric"],
            fmt_value(row["value"], unit),
            n,
            ci,
            Text(row["target"] or ""),
            f"[{colours[status]}]{status}[/]" if status in colours else status,
        )
    return table


def export_kpis(
    db_path: Path | str, config: Config, out: Path, *, by: str | None = None, fmt: str = "parquet"
) -> int:
    frame = kpi_table(db_path, config, by=by)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".partial")
    if fmt == "parquet":
        frame.write_parquet(tmp)
    elif fmt == "csv":
        neutralise_formulas(frame).write_csv(tmp)  # for spreadsheets: no formula runs
    else:
        raise TierlensError(f"--format: {fmt!r} is not one of parquet, csv")
    tmp.replace(out)
    return frame.height


TIER_MAP_DOC = "docs/configuration.md#tier-map"


def missing_kpis(db_path: Path | str, shown_metrics: Iterable[str]) -> list[str]:
    """Lines saying which KPIs of the catalogue have no value among `shown_metrics`
    and why: those the loaded exports cannot measure (grouped by what they lack), and
    those with no case in the period."""
    shown = set(shown_metrics)
    missing = [m.name for m in METRICS if m.name not in shown]
    if not missing:
        return []
    con, _pointer = open_snapshot(db_path)
    try:
        found = con.sql(coverage_sql())
        coverage = dict(zip(found.columns, map(bool, found.fetchall()[0]), strict=True))
    except duckdb.Error:  # a snapshot published before source_coverage existed
        coverage = None
    finally:
        con.close()
    lines = []
    unmet = [
        (need, what)
        for need, (column, what) in SOURCE_NEEDS.items()
        if coverage is not None and not coverage.get(column)
    ]
    for need, what in unmet:
        names = [n for n in missing if need in needs_of(metric(n))]
        if names:
            hint = f"; see {TIER_MAP_DOC}" if need == "tiers" else ""
            lines.append(
                f"{len(names)} KPIs are not measurable from these exports ({what}{hint}): "
                f"{', '.join(names)}"
            )
    no_case = [n for n in missing if coverage is None or not not_measurable(n, coverage)]
    if no_case:
        lines.append(f"{len(no_case)} KPIs have no case in the period: {', '.join(no_case)}")
    return lines


def print_missing_kpis(db_path: Path | str, table: KpiRows, console: Console) -> None:
    """The `tierlens kpis` note under the table (on stderr for csv/json output)."""
    for line in missing_kpis(db_path, table.column("metric")):
        console.print(line, highlight=False, markup=False, soft_wrap=True)
