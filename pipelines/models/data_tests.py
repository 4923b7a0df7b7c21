"""Data tests declared beside each model, as comment tags in its SQL file.

    -- test unique: ticket_id                  (the combination of columns is unique)
    -- test not_null: ticket_id, partner       (no nulls in any of the columns)
    -- test accepted_values: entry_tier in ('L1', 'L2', 'L3', 'L4')
    -- test relationships: ticket_id -> fct_tickets.ticket_id
    -- test expression: numerator <= denominator   (must hold on every row)

Each test compiles to a query returning the rows that break it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipelines.errors import BuildError

_TAG = re.compile(r"^\s*--\s*test\s+(\w+)\s*:\s*(.+?)\s*$", re.MULTILINE)
_RELATION = re.compile(r"^(\w+)\s*->\s*(\w+)\.(\w+)$")
_ACCEPTED = re.compile(r"^(\w+)\s+in\s+\((.+)\)$", re.IGNORECASE)


@dataclass(frozen=True)
class DataTest:
    model: str
    kind: str
    spec: str
    failing_rows_sql: str

    @property
    def label(self) -> str:
        return f"{self.model}: {self.kind} {self.spec}"


def _columns(spec: str) -> list[str]:
    return [c.strip() for c in spec.split(",") if c.strip()]


def _compile(model: str, kind: str, spec: str) -> str:
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
        return (
            f"select * from {model} as child where child.{col} is not null and not exists "
            f"(select 1 from {parent} as parent where parent.{parent_col} = child.{col})"
        )
    if kind == "expression":
        return f"select * from {model} where not coalesce(({spec}), false)"
    raise BuildError(f"{model}: unknown data test kind {kind!r}")


def parse_tests(model: str, sql: str) -> list[DataTest]:
    return [
        DataTest(model, kind, spec, _compile(model, kind, spec)) for kind, spec in _TAG.findall(sql)
    ]
