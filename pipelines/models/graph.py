"""Discover the SQL models under `sql/` and order them by the tables they read.

A model is one `.sql` file; its table is the file name. Dependencies are read
from the SQL itself with sqlglot: any unqualified table reference that names
another model is an edge. Nothing is declared twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import sqlglot
from sqlglot import exp

from pipelines.errors import BuildError

SQL_DIR = Path(__file__).resolve().parents[2] / "sql"
LAYERS = ("staging", "intermediate", "marts")
MACROS_FILE = "macros.sql"


@dataclass(frozen=True)
class Model:
    name: str
    path: Path
    layer: str
    sql: str
    depends_on: frozenset[str] = field(default_factory=frozenset)


def _referenced_tables(sql: str, path: Path) -> set[str]:
    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.ParseError as exc:
        raise BuildError(f"{path}: cannot parse SQL: {exc}") from exc
    ctes = {cte.alias for cte in tree.find_all(exp.CTE)}
    return {t.name for t in tree.find_all(exp.Table) if not t.db and t.name not in ctes}


def discover(sql_dir: Path = SQL_DIR) -> list[Model]:
    """All models, in an order where every model comes after what it reads."""
    paths = sorted(p for layer in LAYERS for p in (sql_dir / layer).glob("*.sql"))
    names = [p.stem for p in paths]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise BuildError(f"two models share a name: {', '.join(sorted(dupes))}")
    texts = {p.stem: p.read_text(encoding="utf-8") for p in paths}
    by_name = {}
    for p in paths:
        refs = _referenced_tables(texts[p.stem], p)
        by_name[p.stem] = Model(
            name=p.stem,
            path=p,
            layer=p.parent.name,
            sql=texts[p.stem],
            depends_on=frozenset(refs & set(names)),
        )
    sorter = TopologicalSorter({m.name: m.depends_on for m in by_name.values()})
    try:
        order = list(sorter.static_order())
    except CycleError as exc:
        raise BuildError(f"models depend on each other in a cycle: {exc.args[1]}") from exc
    return [by_name[n] for n in order]


def macros_sql(sql_dir: Path = SQL_DIR) -> str:
    path = sql_dir / MACROS_FILE
    return path.read_text(encoding="utf-8") if path.exists() else ""
