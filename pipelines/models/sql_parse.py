"""What a model's or a data test's SQL reads, from DuckDB's own parser.

`json_serialize_sql` gives the statement's parse tree as JSON: the same parser
that runs the build, in C++, with no import or parse cost worth counting (sqlglot
took half a second of every build, a refresh included).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import duckdb


class SqlParseError(ValueError):
    """The text is not one statement DuckDB can parse; the message says why."""


@dataclass(frozen=True)
class TableRef:
    catalog: str
    schema: str
    name: str

    @property
    def shown(self) -> str:
        return ".".join(part for part in (self.catalog, self.schema, self.name) if part)


@cache
def _parser() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


def parse(sql: str) -> dict[str, Any]:
    """The parse tree of the single statement `sql`."""
    text = _parser().execute("select json_serialize_sql(?)", [sql]).fetchall()[0][0]
    tree = json.loads(text)
    if tree.get("error"):
        raise SqlParseError(str(tree.get("error_message") or "not a statement"))
    statements = tree.get("statements") or []
    if len(statements) != 1:
        raise SqlParseError(f"expected one statement, found {len(statements)}")
    return dict(statements[0])


def _nodes(tree: object) -> Iterator[dict[str, Any]]:
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            yield node
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def tables(tree: dict[str, Any]) -> list[TableRef]:
    """Every table the statement names (table functions such as range() aside)."""
    return [
        TableRef(n.get("catalog_name") or "", n.get("schema_name") or "", n["table_name"])
        for n in _nodes(tree)
        if n.get("type") == "BASE_TABLE" and "table_name" in n
    ]


def cte_names(tree: dict[str, Any]) -> set[str]:
    """The names of the statement's CTEs, at any depth."""
    return {
        item["key"]
        for n in _nodes(tree)
        if isinstance(n.get("cte_map"), dict)
        for item in n["cte_map"].get("map", [])
    }


def column_names(expression: str) -> list[str]:
    """The columns an expression names, in order, each once ([] if it does not parse)."""
    try:
        tree = parse(f"select {expression}")
    except SqlParseError:
        return []
    found = sorted(
        (n.get("query_location", 0), n["column_names"][-1])
        for n in _nodes(tree)
        if n.get("class") == "COLUMN_REF" and n.get("column_names")
    )
    return list(dict.fromkeys(name for _, name in found))
