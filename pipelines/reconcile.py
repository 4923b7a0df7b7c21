"""Data quality: the source's own counters against what Tierlens derives, and the
values the models could not place (unmapped groups, unknown statuses, rejected rows).

The queries are pipelines.data_quality's, which the dashboard's data-quality page
runs too (same SQL, same figures). Reconciliation compares, per ticket whose source
reports the counter, reassignments (reported_reassignment_count vs group changes)
and reopens (reported_reopen_count vs reopens), each derived over the ticket's whole
timeline ("all events", what a source counter such as ServiceNow's counts) and up to
its final resolution ("in scope", the n_handoffs / n_reopens of fct_tickets that the
KPIs use). A counter the export cannot show (a plain incident list has no timeline)
is "not measurable", never a share of agreement. It also lists the tickets the last
build quarantined (meta.quarantine) and accounts for every loaded ticket:
loaded = published in fct_tickets + quarantined. All functions read the last
committed build of the main file and return polars frames.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl
from rich.console import Console
from rich.table import Table
from rich.text import Text

from pipelines import data_quality
from pipelines.db import connect, polars_frame, require_database
from pipelines.errors import TierlensError


@dataclass(frozen=True)
class Reconciliation:
    summary: pl.DataFrame  # counter, n_tickets, n_measurable, n_agree_all, share_agree_all, ...
    examples: pl.DataFrame  # counter, ticket_id, reported, derived_all, derived_in_scope
    support: pl.DataFrame  # source, counter, n_reporting, measurable, why_not


def _connect(db: Path | str) -> duckdb.DuckDBPyConnection:
    con = connect(require_database(db), read_only=True)
    row = con.execute(
        "select count(*) from information_schema.tables where table_schema = 'analytics' "
        "and table_name in ('fct_tickets', 'int_ticket_events')"
    ).fetchall()
    if row[0][0] < 2:
        con.close()
        raise TierlensError(f"{db}: no built models (run tierlens build first)")
    return con


def _query(db: Path | str, query: Callable[[duckdb.DuckDBPyConnection], pl.DataFrame]
           ) -> pl.DataFrame:
    """One shared data-quality query (pipelines.data_quality) on the built database."""
    con = _connect(db)
    try:
        return query(con)
    finally:
        con.close()


def per_ticket(db: Path | str) -> pl.DataFrame:
    """One row per ticket: each counter as reported, derived over all events and in
    scope, and whether it is measurable."""
    return _query(db, data_quality.per_ticket)


def reconcile(db: Path | str, n_examples: int = 10) -> Reconciliation:
    """Per counter: tickets reporting it, measurable, agreeing and disagreeing; up to
    `n_examples` disagreeing tickets per counter (largest gaps first); and which
    counters each source can support."""
    con = _connect(db)
    try:
        return Reconciliation(
            data_quality.counter_summary(con),
            data_quality.disagreements(con, n_examples),
            data_quality.source_support(con),
        )
    finally:
        con.close()


def unmapped_groups(db: Path | str) -> pl.DataFrame:
    """Groups no tier rule matched and whose events carry no tier label either (a
    source tier label, as in the Volvo log, makes the tier map unnecessary)."""
    return _query(db, data_quality.unmapped_groups)


def unknown_statuses(db: Path | str) -> pl.DataFrame:
    """Source statuses the status map does not know (their events have no class)."""
    return _query(db, data_quality.unknown_statuses)


def notices(db: Path | str) -> pl.DataFrame:
    """Lines loaded with a notice, by file (the dashboard's data-quality query)."""
    return _query(db, data_quality.notices)


def reject_reasons(db: Path | str, limit: int = 20) -> pl.DataFrame:
    """Rejected input rows by reason (quoted values blanked), with a first example."""
    con = _connect(db)
    try:
        return polars_frame(con.sql(
            f"""select regexp_replace(reason, '''[^'']*''', '''…''', 'g') as reason,
                    count(*) as n_rows, arg_min(reason, line) as example,
                    arg_min(source_file, line) as file, min(line) as first_line
                from meta.rejects group by 1 order by n_rows desc, reason limit {int(limit)}"""
        ))
    finally:
        con.close()


def quarantined(db: Path | str) -> pl.DataFrame:
    """The tickets the last build left out: ticket, model, test, detail."""
    con = _connect(db)
    try:
        return polars_frame(con.sql(
            "select ticket_id, model, test, detail from meta.quarantine "
            "order by ticket_id, model, test"
        ))
    finally:
        con.close()


def ticket_accounting(db: Path | str) -> dict[str, int]:
    """Loaded tickets (in raw.tickets or raw.events), those in the last build's
    fct_tickets and those it quarantined: loaded = published + quarantined."""
    con = _connect(db)
    try:
        row = con.execute(
            """select
                (select count(*) from (
                    select ticket_id from raw.tickets union select ticket_id from raw.events
                )) as loaded,
                (select count(*) from analytics.fct_tickets) as published,
                (select count(distinct ticket_id) from meta.quarantine) as quarantined"""
        ).fetchall()[0]
    finally:
        con.close()
    return dict(zip(("loaded", "published", "quarantined"), map(int, row), strict=True))


def _table(frame: pl.DataFrame, title: str) -> Table:
    table = Table(title=title, title_justify="left")
    for c in frame.columns:
        table.add_column(c, justify="right" if frame[c].dtype.is_numeric() else "left")
    for row in frame.iter_rows():
        table.add_row(*(Text("" if v is None else f"{v:,}" if isinstance(v, int) else str(v))
                        for v in row))  # values from the data: text, never markup
    return table


def print_data_quality(db: Path | str, console: Console, n_examples: int = 5) -> None:
    """The `tierlens reconcile` report."""
    counts = ticket_accounting(db)
    unbuilt = counts["loaded"] - counts["published"] - counts["quarantined"]
    console.print(
        f"tickets: {counts['loaded']:,} loaded = {counts['published']:,} in the build "
        f"+ {counts['quarantined']:,} quarantined"
        + (f" + {unbuilt:,} loaded since the build (run tierlens build)" if unbuilt else ""),
        highlight=False,
    )
    held = quarantined(db)
    if held.height:
        console.print(_table(held, f"quarantined tickets (failed a data test): {held.height}"))
        console.print("fix these rows in the export, ingest it again and rebuild", highlight=False)
    rec = reconcile(db, n_examples)
    if rec.summary["n_tickets"].sum() == 0:
        console.print("reconciliation: the source reports no counters of its own")
    else:
        console.print(_table(data_quality.support_view(rec.support),
                             "counters each source can support"))
        console.print(_table(data_quality.summary_view(rec.summary),
                             "reconciliation: source counters vs derived"))
        for row in rec.summary.iter_rows(named=True):
            if row["n_tickets"] and not row["n_measurable"]:
                console.print(f"{row['counter']}: {data_quality.NOT_MEASURABLE} "
                              f"({row['n_tickets']:,} tickets report it; no agreement share)",
                              highlight=False, markup=False)
        if rec.examples.height:
            console.print(_table(rec.examples, "tickets that disagree (all events)"))
        console.print("agree/disagree/derived: over all events; *: up to the final resolution "
                      "(as the KPIs count); src>/src<: the source's count is higher/lower; not "
                      "measurable: the export's events cannot show the changes the counter "
                      "counts", soft_wrap=True, highlight=False, markup=False)
    for frame, title, empty in (
        (unmapped_groups(db), "groups with no tier (add them to tier_map)", "no unmapped groups"),
        (unknown_statuses(db), "statuses the status map does not know", "no unknown statuses"),
        (reject_reasons(db), "rejected rows by reason (meta.rejects)", "no rejected rows"),
        (notices(db), "lines loaded with a notice (meta.notices)", "no notices"),
    ):
        console.print(_table(frame.head(20), f"{title}: {frame.height}") if frame.height
                      else empty)
