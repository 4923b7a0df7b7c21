"""Discover the SQL models under `sql/` and order them by the tables they read.

A model is one `.sql` file in a layer folder (staging, intermediate, marts,
serving); its table is the file name. Dependencies are read from the SQL itself
with DuckDB's parser (sql_parse.py): any unqualified table reference that names
another model is an edge. Nothing is declared twice.

A model reads another model by its bare name only (`from fct_tickets`). The build
creates every model in a fresh schema `build_N` with that schema first on the
search path, so a bare name is this build's table, made earlier in the order. A
schema-qualified name would read something else: `analytics.fct_tickets` is the
last published build (the views are repointed only after every model and test
passed), `build_7.fct_tickets` an old build, `main.fct_tickets` no model at all.
Adding the dependency would not make such a reference read this build's table,
and rewriting the SQL behind the author's back would make the file say one thing
and the build run another, so discovery rejects it: a one-line BuildError naming
the file and the reference. Qualified names are for the build's inputs, and only
those schemas are allowed: `raw.*` (what the ingest loaded), `config.*` (the
seeds) and `meta.*` (batches, quarantine, review verdicts). A name qualified by
a database (`other.raw.events`) is rejected too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

from pipelines.errors import BuildError
from pipelines.models.sql_parse import SqlParseError, TableRef, cte_names, parse, tables
from pipelines.sql_files import SQL_DIR

LAYERS = ("staging", "intermediate", "marts", "serving")
# The schemas a model may name: the build's inputs, never a copy of a model.
INPUT_SCHEMAS = frozenset({"raw", "config", "meta"})


@dataclass(frozen=True)
class Model:
    name: str
    path: Path
    layer: str
    sql: str
    depends_on: frozenset[str] = field(default_factory=frozenset)


def _referenced_tables(sql: str, path: Path, models: set[str]) -> set[str]:
    """The bare table names `sql` reads (CTEs aside); a qualified name outside the
    input schemas is an error, and so is a CTE named like a model (`fct_tickets as
    (...)` would hide the model: its readers would get no dependency on it)."""
    try:
        tree = parse(sql)
    except SqlParseError as exc:
        raise BuildError(f"{path}: cannot parse SQL: {exc}") from exc
    ctes = cte_names(tree)
    shadowing = sorted(ctes & models)
    if shadowing:
        raise BuildError(
            f"{path}: the CTE {shadowing[0]} has the name of a model, so the build cannot "
            "tell when the file reads the model: give the CTE another name"
        )
    bare = set()
    for table in tables(tree):
        if not table.schema and not table.catalog:
            if table.name not in ctes:
                bare.add(table.name)
        elif table.catalog or table.schema.lower() not in INPUT_SCHEMAS:
            raise _qualified_error(path, table)
    return bare


def _qualified_error(path: Path, table: TableRef) -> BuildError:
    return BuildError(
        f"{path}: reads {table.shown}: read a model by its bare name ({table.name}), so the build "
        "orders it and reads this build's table; qualify only raw.*, config.* or meta.*"
    )


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
        refs = _referenced_tables(texts[p.stem], p, set(names))
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
