"""Data tests declared beside each model, as comment tags in its SQL file.

    -- test unique: ticket_id                  (the combination of columns is unique)
    -- test not_null: ticket_id, partner       (no nulls in any of the columns)
    -- test accepted_values: entry_tier in ('L1', 'L2', 'L3', 'L4')
    -- test relationships: ticket_id -> fct_tickets.ticket_id
    -- test expression: numerator <= denominator   (must hold on every row)

Each test compiles to a query returning the rows that break it, and to a count of
those rows (`failing_count_sql`); the runner counts every test of a model in one
query and runs the row query only for the tests that fail.

`DataTest.scoped(relation)` is the same test over a subset of the model's rows (the
build re-tests models without the tickets it quarantined, see quarantine.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from pipelines.errors import BuildError
from pipelines.models.sql_parse import column_names

_TAG = re.compile(r"^\s*--\s*test\s+(\w+)\s*:\s*(.+?)\s*$", re.MULTILINE)
_RELATION = re.compile(r"^(\w+)\s*->\s*(\w+)\.(\w+)$")
_ACCEPTED = re.compile(r"^(\w+)\s+in\s+\((.+)\)$", re.IGNORECASE)


@dataclass(frozen=True)
class DataTest:
    model: str
    kind: str
    spec: str
    failing_rows_sql: str
    # SQL predicate on a row of the model that breaks a row-level test (not_null,
    # accepted_values, expression); None for unique and relationships.
    row_condition: str | None = None
    # What the test reads: the model's table, or a query over it (see `scoped`).
    relation: str | None = None

    @property
    def source(self) -> str:
        return self.relation or self.model

    @property
    def failing_count_sql(self) -> str:
        """A scalar query: how many rows (or duplicate groups) break the test."""
        if self.row_condition is not None:
            return f"select count(*) from {self.source} where {self.row_condition}"
        return f"select count(*) from ({self.failing_rows_sql})"

    def scoped(self, relation: str) -> DataTest:
        """The same test over `relation` (a parenthesised query over the model)."""
        return replace(
            self, relation=relation, failing_rows_sql=_compile(relation, self.kind, self.spec)
        )

    @property
    def columns(self) -> list[str]:
        """The model's columns the test names (in order, each once)."""
        if self.kind == "relationships":
            m = _RELATION.match(self.spec)
            return [m.group(1)] if m else []
        if self.kind == "accepted_values":
            m = _ACCEPTED.match(self.spec)
            return [m.group(1)] if m else []
        if self.kind in ("unique", "not_null"):
            return _columns(self.spec)
        return column_names(self.spec)

    @property
    def label(self) -> str:
        return f"{self.model}: {self.kind} {self.spec}"


def _columns(spec: str) -> list[str]:
    return [c.strip() for c in spec.split(",") if c.strip()]


def _row_condition(model: str, kind: str, spec: str) -> str | None:
    if kind == "not_null":
        return "(" + " or ".join(f"{c} is null" for c in _columns(spec)) + ")"
    if kind == "accepted_values":
        m = _ACCEPTED.match(spec)
        if not m:
            raise BuildError(f"{model}: accepted_values needs `col in (...)`, got {spec!r}")
        col, values = m.groups()
        return f"({col} is not null and {col} not in ({values}))"
    if kind == "expression":
        return f"(not coalesce(({spec}), false))"
    return None


def _compile(model: str, kind: str, spec: str) -> str:
    """The query returning the rows of `model` (a table name or a parenthesised
    query) that break the test."""
    if kind == "unique":
        cols = ", ".join(_columns(spec))
        return f"select {cols}, count(*) as n_rows from {model} group by all having count(*) > 1"
    if kind == "not_null":
        cond = " or ".join(f"{c} is null" for c in _columns(spec))
        return f"select * from {model} where {cond}"
    if kind == "accepted_values":
        m = _ACCEPTED.match(spec)
        if not m:
            raise BuildError(f"{model}: accepted_values needs `col in (...)`, got {spec!r}")
        col, values = m.groups()
        return f"select * from {model} where {col} is not null and {col} not in ({values})"
    if kind == "relationships":
        m = _RELATION.match(spec)
        if not m:
            raise BuildError(f"{model}: relationships needs `col -> model.col`, got {spec!r}")
        col, parent, parent_col = m.groups()
        # an anti join, not `not exists`: DuckDB carries every child column through
        # the correlated form (7 s over kpi_facts' 20M rows at 1M tickets, 0.8 s)
        return (
            f"select child.* from {model} as child anti join {parent} as parent "
            f"on parent.{parent_col} = child.{col} where child.{col} is not null"
        )
    if kind == "expression":
        return f"select * from {model} where not coalesce(({spec}), false)"
    raise BuildError(f"{model}: unknown data test kind {kind!r}")


def parse_tests(model: str, sql: str) -> list[DataTest]:
    return [
        DataTest(model, kind, spec, _compile(model, kind, spec), _row_condition(model, kind, spec))
        for kind, spec in _TAG.findall(sql)
    ]


def batch_count_sql(model: str, tests: list[DataTest]) -> str:
    """One query over `model` counting the failures of each of `tests` (all of that
    model), as columns f0, f1, ... in order: the row-level tests share one scan."""
    row_level, parts = [], []
    for i, test in enumerate(tests):
        if test.model != model:
            raise ValueError(f"{test.label} is not a test of {model}")
        if test.row_condition is not None:
            row_level.append(f"count(*) filter (where {test.row_condition}) as f{i}")
        else:
            parts.append(f"(select count(*) as f{i} from ({test.failing_rows_sql}))")
    if row_level:
        parts.insert(0, f"(select {', '.join(row_level)} from {tests[0].source})")
    names = ", ".join(f"f{i}" for i in range(len(tests)))
    return f"select {names} from " + " cross join ".join(parts)
