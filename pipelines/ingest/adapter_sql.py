"""Small SQL helpers shared by the source adapters (servicenow, zendesk, mapped)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pipelines.errors import InputError
from pipelines.ingest.readers import RawTable, quote_ident, sql_str


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
