"""Quarantine: the tickets a build sets aside because they failed a data test.

A failing data test on a model with a `ticket_id` column names the tickets that
broke it: a row-level test (not_null, accepted_values, expression), a
relationships test, or a unique test whose key includes ticket_id. Those tickets
go to the build's own list (`quarantined_tickets` in the build's schema: ticket_id,
model, test, detail, build_id), the models that read it (int_tickets, which leaves
them out, and everything after it) run again, and the tests run again without
them. Any other failure (a uniqueness failure of another grain, a test on a model
without tickets such as kpi_weekly, a failing row without a ticket_id) is
structural: the build stops.

A full build starts its list empty, so a ticket whose input was fixed is back in
it. `meta.quarantine` is the list of the last committed build: the build replaces
it in the transaction that publishes, so a build that fails or is killed leaves it
(and everything that reads it: reconcile, the dashboard) as it was.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
from rich.console import Console
from rich.text import Text

from pipelines.models.data_tests import DataTest

QUARANTINE_TABLE = "meta.quarantine"
# The build's own list, in its schema (created empty by the runner, like meta.quarantine)
BUILD_QUARANTINE = "quarantined_tickets"
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


def build_quarantine(schema: str) -> str:
    """The quarantine list of the build in `schema`."""
    return f"{schema}.{BUILD_QUARANTINE}"


def create_build_quarantine(con: duckdb.DuckDBPyConnection, schema: str) -> None:
    """An empty list for the build in `schema`, with meta.quarantine's columns."""
    con.execute(
        f"create table {build_quarantine(schema)} as select * from {QUARANTINE_TABLE} limit 0"
    )


def publish_quarantine(con: duckdb.DuckDBPyConnection, schema: str) -> None:
    """Make the build's list the published one (in the caller's transaction)."""
    con.execute(f"delete from {QUARANTINE_TABLE}")
    con.execute(f"insert into {QUARANTINE_TABLE} select * from {build_quarantine(schema)}")


def scope_sql(model: str, table: str) -> str:
    """The rows of `model` whose ticket is not in the quarantine list `table`."""
    return (
        f"(select * from {model} where {TICKET_COLUMN} not in "
        f"(select {TICKET_COLUMN} from {table}))"
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


def quarantine(
    con: duckdb.DuckDBPyConnection, build_id: int, tests: list[DataTest], table: str
) -> int:
    """Record the tickets that break `tests` (all quarantinable) in the list `table`,
    one row per ticket and test. Returns how many tickets were not quarantined
    before; -1 if a failing row has no ticket_id (nothing to set aside)."""
    before = quarantined_count(con, table)
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
            insert into {table} (build_id, ticket_id, model, test, detail)
            select
                ?, {TICKET_COLUMN}::varchar, ?, ?,
                case when count(*) > 1 then count(*) || ' rows, e.g. ' else '' end
                    || left(min(detail), 300)
            from ({rows})
            group by {TICKET_COLUMN}
            """,
            [build_id, test.model, f"{test.kind} {test.spec}"],
        )
    return quarantined_count(con, table) - before


def quarantined_count(con: duckdb.DuckDBPyConnection, table: str = QUARANTINE_TABLE) -> int:
    return int(con.execute(f"select count(distinct ticket_id) from {table}").fetchall()[0][0])


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
