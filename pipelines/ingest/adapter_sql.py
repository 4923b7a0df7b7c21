"""Small SQL helpers shared by the source adapters (servicenow, zendesk, mapped)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import duckdb

from pipelines.config import Config
from pipelines.db import quote_ident
from pipelines.errors import InputError
from pipelines.ingest.readers import RawTable, sql_str
from pipelines.ingest.validate import DAY_MONTH_RE, ISO_RE, timestamp_sql

ISO_PARTS = ["y", "mo", "d", "h", "mi", "s", "fr", "tz"]
DM_PARTS = ["a", "b", "y", "h", "mi", "s", "fr", "ap", "tz"]


def col(name: str | None) -> str:
    """SQL for a column of the raw table, or null when the column is not used."""
    return quote_ident(name) if name else "null::varchar"


def require(raw: RawTable, label: str, needed: Iterable[str], what: str) -> None:
    """InputError naming the file when columns the adapter needs are absent."""
    missing = [c for c in needed if c not in raw.columns]
    if missing:
        raise InputError(
            f"{label}: not {what}: missing column(s) {', '.join(repr(c) for c in missing)} "
            f"(found: {', '.join(raw.header)})"
        )


def value_map(expr: str, mapping: Mapping[str, str], *, keep: bool = True) -> str:
    """SQL mapping `expr` through `mapping` (keys compared trimmed, case-insensitively);
    unmapped values are kept as they are (keep) or become null."""
    if not mapping:
        return expr
    lit = "map {" + ", ".join(
        f"{sql_str(k.strip().lower())}: {sql_str(v)}" for k, v in mapping.items()
    ) + "}"
    mapped = f"{lit}[lower(trim({expr}))]"
    return f"coalesce({mapped}, {expr})" if keep else mapped


def present(raw: RawTable, *names: str) -> str | None:
    """The first of `names` that the file has, else None."""
    return next((n for n in names if n in raw.columns), None)


def _order_evidence(con: duckdb.DuckDBPyConnection, table: str, column: str) -> str | None:
    """dmy / mdy when a day-first / month-first value of the column proves it."""
    row = con.execute(
        f"""select bool_or(a > 12 and b <= 12), bool_or(b > 12 and a <= 12) from (
                select try_cast(p[1] as integer) as a, try_cast(p[2] as integer) as b
                from (select regexp_extract(trim({column}), {sql_str(DAY_MONTH_RE)},
                                            ['a', 'b']) as s from {table}),
                     lateral (select [s.a, s.b] as p) where s.a <> '')"""
    ).fetchone()
    if row and row[0] and not row[1]:
        return "dmy"
    if row and row[1] and not row[0]:
        return "mdy"
    return None


def order_ts(
    con: duckdb.DuckDBPyConnection, table: str, column: str, config: Config
) -> str:
    """SQL: the timestamptz of `column` (varchar) of `table`, read by the shared rules
    (ingest.source_timezone, ingest.date_order or the file's evidence), to put rows in
    time order before anything is carried from one to the next; null if unreadable
    (validation then rejects the row with its reason)."""
    order: str | None = config.ingest.date_order
    if order == "auto":
        order = _order_evidence(con, table, column)
    c = f"nullif(trim({column}), '')"
    iso = f"regexp_extract({c}, {sql_str(ISO_RE)}, {_list(ISO_PARTS)})"
    dm = f"regexp_extract({c}, {sql_str(DAY_MONTH_RE)}, {_list(DM_PARTS)})"
    return timestamp_sql(c, iso, dm, order if order in ("dmy", "mdy") else None,
                         config.ingest.source_timezone)


def _list(names: list[str]) -> str:
    return "[" + ", ".join(sql_str(n) for n in names) + "]"
