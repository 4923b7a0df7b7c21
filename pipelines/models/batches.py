"""A full build of a `by <key>` model in batches of its key, when its input is large.

A model declared `-- incremental: by <key>` (kpi_fact_cells and kpi_weekly: by
week_start) promises that its rows for a key read only its inputs' rows with that
key: that is what lets a refresh recompute the touched weeks alone. A full build
uses the same promise to bound memory. Measure lists and medians keep every value
they are given until the group is complete (kpi_weekly's for seven groupings at
once), and neither can spill to disk: at 10M tickets under the 3 GB cap that
aggregation filled the disk instead of finishing. Run over a batch of weeks at a
time (each batch at most BATCH_ROWS cases: rows of the models refreshed by ticket
upstream, also for kpi_weekly, which reads them summed up in kpi_fact_cells), the
model holds one batch's values, whatever the size of the data, and its rows are
the same: each week is computed once, from all of its facts.

The batches are ranges of the key in order (and one batch for a missing key), so
the filter is a range the scan can use; the model's own SQL runs unchanged over
views that keep each input's rows of the batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

# Input rows per batch: at 1M tickets kpi_facts has 20M rows: 7 batches (one of them
# the backlog's facts, which have no week).
BATCH_ROWS = 4_000_000
BATCH_SCHEMA = "_tl_batch"


@dataclass(frozen=True)
class Batch:
    """Keys from `low` to `high` (inclusive), or the rows with no key."""

    low: object = None
    high: object = None
    missing: bool = False

    def where(self, column: str) -> str:
        if self.missing:
            return f"{column} is null"
        # a view cannot take parameters: the bounds are literals, which DuckDB
        # casts to the column's type (a date, a number)
        return f"{column} between {_literal(self.low)} and {_literal(self.high)}"


def plan_batches(
    con: duckdb.DuckDBPyConnection, column: str, inputs: list[str], limit: int
) -> list[Batch]:
    """Consecutive ranges of `column` over `inputs` (qualified tables), each with at
    most `limit` input rows unless one key alone has more; none when all fit."""
    union = " union all ".join(f"select {column} as k from {table}" for table in inputs)
    counts = con.execute(
        f"select k, count(*) from ({union}) group by k order by k nulls first"
    ).fetchall()
    if sum(n for _, n in counts) <= limit:
        return []
    batches: list[Batch] = []
    low, high, rows = None, None, 0
    for key, n in counts:
        if key is None:
            batches.append(Batch(missing=True))
            continue
        if rows and rows + n > limit:
            batches.append(Batch(low, high))
            low, rows = None, 0
        low = key if low is None else low
        high, rows = key, rows + n
    if rows:
        batches.append(Batch(low, high))
    return batches


def run_batched(
    con: duckdb.DuckDBPyConnection,
    schema: str,
    name: str,
    sql: str,
    column: str,
    inputs: list[str],
    limit: int | None = None,
    *,
    planned_on: list[str] | None = None,
) -> int:
    """Create `schema.name` from `sql` run over each batch of `column` in turn: the
    tables `inputs` (names in `schema`) filtered to the batch, the rest as they are.
    The batches are counted in the rows of `planned_on` (default: `inputs`): the
    cases an input that sums them up stands for. Returns the number of batches. The
    caller's search path is left as `schema,main`."""
    tables = [f"{schema}.{t}" for t in (inputs if planned_on is None else planned_on)]
    batches = plan_batches(con, column, tables, BATCH_ROWS if limit is None else limit)
    if not batches:
        con.execute(f"create table {schema}.{name} as\n{sql}")
        return 1
    # on an error DuckDB aborts the transaction and the caller rolls it back, views
    # and all: there is nothing to clean up (nor could it be, in that transaction)
    con.execute(f"create schema {BATCH_SCHEMA}")
    con.execute(f"set search_path = '{BATCH_SCHEMA},{schema},main'")
    for i, batch in enumerate(batches):
        for table in inputs:
            con.execute(
                f"create or replace view {BATCH_SCHEMA}.{table} as "
                f"select * from {schema}.{table} where {batch.where(column)}"
            )
        if i == 0:
            con.execute(f"create table {schema}.{name} as\n{sql}")
        else:
            con.execute(f"insert into {schema}.{name}\nselect * from (\n{sql}\n)")
    con.execute(f"set search_path = '{schema},main'")
    con.execute(f"drop schema {BATCH_SCHEMA} cascade")
    return len(batches)


def _literal(value: object) -> str:
    return "'" + str(value).replace("'", "''") + "'"
