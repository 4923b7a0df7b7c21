"""Quarantine: the tickets a build sets aside because they failed a data test.

A failing data test on a model with a `ticket_id` column names the tickets that
broke it: a row-level test (not_null, accepted_values, expression), a
relationships test, or a unique test whose key includes ticket_id. Those tickets
go to `meta.quarantine` (ticket_id, model, test, detail, build_id), the models
that read it (int_tickets, which leaves them out, and everything after it) run
again, and the tests run again without them. Any other failure (a uniqueness
failure of another grain, a test on a model without tickets such as kpi_weekly, a
failing row without a ticket_id) is structural: the build stops.

`meta.quarantine` holds the list of the build in progress, then of the last
committed build: a build starts it empty, so a ticket whose input was fixed is
back in the next build.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
from rich.console import Console
from rich.text import Text

from pipelines.models.data_tests import DataTest

QUARANTINE_TABLE = "meta.quarantine"
TICKET_COLUMN = "ticket_id"
ROW_LEVEL_KINDS = ("not_null", "accepted_values", "expression", "relationships")
SHOWN = 5


@dataclass(frozen=True)
class Failure:
    """A data test that failed (None: a batch of tests that could not run)."""

    test: DataTest | None
    message: str


def ticket_models(con: duckdb.DuckDBPyConnection, schema: str) -> set[str]:
    """The models of the build that have a ticket_id column."""
    rows = con.execute(
        "select table_name from information_schema.columns "
        "where table_schema = ? and column_name = ?",
        [schema, TICKET_COLUMN],
    ).fetchall()
    return {name for (name,) in rows}


def scope_sql(model: str) -> str:
    """The rows of `model` whose ticket is not quarantined."""
    return (
        f"(select * from {model} where {TICKET_COLUMN} not in "
        f"(select {TICKET_COLUMN} from {QUARANTINE_TABLE}))"
    )


def is_quarantinable(test: DataTest | None, with_tickets: set[str]) -> bool:
    if test is None or test.model not in with_tickets:
        return False
    if test.kind in ROW_LEVEL_KINDS:
        return True
    return test.kind == "unique" and TICKET_COLUMN in test.columns


def _detail_sql(test: DataTest) -> str:
    """A short text per failing row: the columns the test names, with their values."""
    shown = [c for c in test.columns if c != TICKET_COLUMN] or test.columns
    if test.kind == "unique":
        shown = [*shown, "n_rows"]
    parts = [f"'{c}=' || coalesce({c}::varchar, 'null')" for c in shown]
    return f"concat_ws(', ', {', '.join(parts)})" if parts else "''"


def quarantine(con: duckdb.DuckDBPyConnection, build_id: int, tests: list[DataTest]) -> int:
    """Record the tickets that break `tests` (all quarantinable) in meta.quarantine,
    one row per ticket and test. Returns how many tickets were not quarantined
    before; -1 if a failing row has no ticket_id (nothing to set aside)."""
    before = con.execute(f"select count(distinct ticket_id) from {QUARANTINE_TABLE}").fetchall()
    for test in tests:
        rows = (
            f"select {TICKET_COLUMN}, {_detail_sql(test)} as detail from ({test.failing_rows_sql})"
        )
        (without_ticket,) = con.execute(
            f"select count(*) from ({rows}) where {TICKET_COLUMN} is null"
        ).fetchall()[0]
        if without_ticket:
            return -1
        con.execute(
            f"""
            insert into {QUARANTINE_TABLE} (build_id, ticket_id, model, test, detail)
            select
                ?, {TICKET_COLUMN}::varchar, ?, ?,
                case when count(*) > 1 then count(*) || ' rows, e.g. ' else '' end
                    || left(min(detail), 300)
            from ({rows})
            group by {TICKET_COLUMN}
            """,
            [build_id, test.model, f"{test.kind} {test.spec}"],
        )
    after = con.execute(f"select count(distinct ticket_id) from {QUARANTINE_TABLE}").fetchall()
    return int(after[0][0]) - int(before[0][0])


def quarantined_count(con: duckdb.DuckDBPyConnection) -> int:
    return int(
        con.execute(f"select count(distinct ticket_id) from {QUARANTINE_TABLE}").fetchall()[0][0]
    )


def print_warning(con: duckdb.DuckDBPyConnection, console: Console) -> int:
    """Say which tickets the build left out (a few, and where to see them all)."""
    n = quarantined_count(con)
    if not n:
        return 0
    rows = con.execute(
        f"select ticket_id, model, test, detail from {QUARANTINE_TABLE} "
        f"order by ticket_id, model, test limit {SHOWN}"
    ).fetchall()
    plural = n != 1
    console.print(
        f"[yellow]warning:[/] {n:,} ticket{'s' if plural else ''} quarantined: "
        f"{'they' if plural else 'it'} failed a data test and {'are' if plural else 'is'} "
        "left out of this build; everything else is published. `tierlens reconcile` and "
        "the dashboard's Data quality page list every one.",
        highlight=False,
        soft_wrap=True,
    )
    for ticket_id, model, test, detail in rows:
        line = f"  {ticket_id}: {model}: {test}" + (f" ({detail})" if detail else "")
        console.print(Text(line), highlight=False, soft_wrap=True)  # data: text, not markup
    if n > len({r[0] for r in rows}):
        console.print("  ...", highlight=False)
    return n
