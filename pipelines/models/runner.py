"""`tierlens build`: run the SQL models in dependency order, then their data tests.

A full build creates its models in a fresh schema `build_N`, each model in a
transaction of its own (so that DuckDB need not hold every new table until one
commit: a 10M-ticket build fits under a small memory cap), then runs the data tests
on them. A ticket that fails a data test goes on the build's quarantine list and
the models after int_tickets run again without it (see quarantine.py). Nothing
reads that schema until, every test passed, one last transaction points the views
in `analytics` at it, replaces meta.quarantine with the build's list and records
the build. Any failure before drops the schema: readers keep the last good build.
A build killed on the way leaves the schema behind, unread; the next build removes
it.

The build is then published for readers: `publish_snapshot` writes the serving
snapshot and swaps `current.json`, the one commit point every reader (dashboard,
`tierlens kpis`/`export`/`report`) goes by. A build killed between its commit and
that swap leaves readers on the previous build; the next build publishes the
committed one first (`repair_publish`).

TIERLENS_TEST_PAUSE (tests only, see pause.py) makes the build pause at a named
point, so a test can kill it there.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import duckdb
from rich.console import Console

from pipelines.access import audit
from pipelines.access.snapshot import require_keys
from pipelines.config import Config
from pipelines.db import connect, require_database, scalar
from pipelines.errors import BuildError
from pipelines.ingest.load import apply_memory_limit
from pipelines.metrics.sql import stale_models
from pipelines.models import incremental
from pipelines.models.batches import run_batched
from pipelines.models.calendar_coverage import print_calendar_warnings
from pipelines.models.data_tests import DataTest, batch_count_sql, parse_tests
from pipelines.models.graph import Model, discover
from pipelines.models.quarantine import (
    BUILD_QUARANTINE,
    Failure,
    build_quarantine,
    create_build_quarantine,
    is_quarantinable,
    print_warning,
    publish_quarantine,
    quarantine,
    quarantined_count,
    scope_sql,
    ticket_models,
)
from pipelines.models.seeds import write_seeds
from pipelines.models.tier_coverage import print_no_tier_warning
from pipelines.pause import pause_at, pause_setting
from pipelines.review.verdicts import apply_journal
from pipelines.serving import publish_snapshot, repair_publish, start_snapshot_copy
from pipelines.sql_files import SQL_DIR, macros_sql

PUBLISHED_SCHEMA = "analytics"
MAX_FAILING_ROWS = 5
# Runs of the models after the first one that quarantined tickets; a build that
# still fails then stops (removing tickets should not make others fail).
MAX_QUARANTINE_RERUNS = 3
# Quarantine is for a few bad tickets: when more fail (above this share of the
# tickets, and above this count), the build stops instead of publishing a remnant.
MAX_QUARANTINE_SHARE = 0.05
MAX_QUARANTINE_TICKETS = 20


@dataclass(frozen=True)
class BuildSummary:
    build_id: int
    schema: str
    models: int
    tests: int
    seconds: float
    resolved_tickets: int = 0
    open_tickets: int = 0
    quarantined_tickets: int = 0
    mode: str = "full"


def _next_build_id(con: duckdb.DuckDBPyConnection) -> int:
    # a bigint expression: DuckDB gives a Python int
    return cast(int, scalar(con, "select coalesce(max(build_id), 0) + 1 from meta.builds"))


def _run_model(
    con: duckdb.DuckDBPyConnection,
    schema: str,
    model: Model,
    refresh: dict[str, incremental.Refresh | None],
    models: dict[str, Model],
) -> None:
    """Create the model's table; a `by <key>` model in batches of its key when its
    cases are many (batches.py): those of the models upstream refreshed by ticket."""
    key = incremental.by_other_key(refresh[model.name])
    try:
        if key is not None:
            inputs, sources = incremental.key_inputs(model, refresh, models)
            run_batched(con, schema, model.name, model.sql, key, inputs, planned_on=sources)
        else:
            con.execute(f"create table {schema}.{model.name} as\n{model.sql}")
    except duckdb.Error as exc:
        raise BuildError(f"model {model.name} ({model.path.name}) failed: {exc}") from exc


def _run_test(con: duckdb.DuckDBPyConnection, test: DataTest) -> str | None:
    """None when the test passes, else a description with the rows that broke it."""
    try:
        rel = con.sql(
            f"select columns(*)::varchar from ({test.failing_rows_sql}) "
            f"limit {MAX_FAILING_ROWS + 1}"
        )
        rows = rel.fetchall()
        columns = rel.columns
    except duckdb.Error as exc:
        return f"{test.label}: could not run: {exc}"
    if not rows:
        return None
    shown = "\n".join(
        "    " + ", ".join(f"{c}={v!r}" for c, v in zip(columns, row, strict=True))[:400]
        for row in rows[:MAX_FAILING_ROWS]
    )
    more = " (and more)" if len(rows) > MAX_FAILING_ROWS else ""
    return f"{test.label}: {len(rows)}{more} failing rows, e.g.\n{shown}"


def _run_tests(con: duckdb.DuckDBPyConnection, tests: list[DataTest]) -> list[Failure]:
    """The failures of `tests`, in order. The tests of a model are counted in one
    query (one scan for all its row-level tests); only a test with failing rows is
    run on its own, for the rows to show. A batch that cannot run is reported as
    such, and ends the tests."""
    by_model: dict[str, list[DataTest]] = {}
    for test in tests:
        by_model.setdefault(test.model, []).append(test)
    failing: set[DataTest] = set()
    for model, group in by_model.items():
        try:
            (row,) = con.execute(batch_count_sql(model, group)).fetchall()
        except duckdb.Error as exc:
            specs = "; ".join(f"{t.kind} {t.spec}" for t in group)
            return [Failure(None, f"{model}: data tests could not run ({specs}): {exc}")]
        failing.update(t for t, n in zip(group, row, strict=True) if n)
    found = ((t, _run_test(con, t)) for t in tests if t in failing)
    return [Failure(t, message) for t, message in found if message]


def _downstream(models: list[Model], roots: set[str]) -> list[Model]:
    """`roots` and every model that reads one of them, in build order."""
    affected: set[str] = set()
    for model in models:
        if model.name in roots or model.depends_on & affected:
            affected.add(model.name)
    return [m for m in models if m.name in affected]


def _run_models(
    con: duckdb.DuckDBPyConnection, schema: str, models: list[Model], console: Console
) -> None:
    """Create `models` in `schema` (a full build's, that nothing reads yet), each in
    a transaction of its own."""
    refresh = incremental.declarations(models)
    by_name = {m.name: m for m in models}
    for model in models:
        t0 = time.perf_counter()
        con.execute("begin transaction")
        _run_model(con, schema, model, refresh, by_name)
        con.execute("commit")
        pause_at("between_models")
        console.print(
            f"  [dim]{model.layer:<12}[/] {model.name:<28} {time.perf_counter() - t0:6.2f}s",
            highlight=False,
        )


def _timed(console: Console, label: str, started: float) -> None:
    console.print(
        f"  [dim]{'':<12}[/] {label:<28} {time.perf_counter() - started:6.2f}s", highlight=False
    )


def _fail(failures: list[Failure], n_tests: int, why: str = "") -> BuildError:
    return BuildError(
        f"{len(failures)} of {n_tests} data tests failed{why}; the published build is "
        "unchanged:\n" + "\n".join(f.message for f in failures)
    )


def _test_and_quarantine(
    con: duckdb.DuckDBPyConnection,
    schema: str,
    build_id: int,
    models: list[Model],
    tests: list[DataTest],
    console: Console,
) -> None:
    """Run the data tests; quarantine the tickets that fail one and run the models
    that read the quarantine again, until every test passes. Raises BuildError on a
    structural failure, or when quarantining does not make the tests pass."""
    with_tickets = ticket_models(con, schema) - {BUILD_QUARANTINE}
    held_in = build_quarantine(schema)
    rerun = _downstream(models, {m.name for m in models if BUILD_QUARANTINE in m.sql})
    current = tests
    for attempt in range(MAX_QUARANTINE_RERUNS + 1):
        failures = _run_tests(con, current)
        if not failures:
            return
        if not rerun or not all(is_quarantinable(f.test, with_tickets) for f in failures):
            raise _fail(failures, len(tests))
        if attempt == MAX_QUARANTINE_RERUNS:
            raise _fail(failures, len(tests), f" after quarantining tickets {attempt} times")
        new = quarantine(con, build_id, [f.test for f in failures if f.test is not None], held_in)
        if new <= 0:
            raise _fail(failures, len(tests), " on rows that name no ticket to quarantine")
        held = quarantined_count(con, held_in)
        total = int(con.execute(f"select count(*) from {schema}.stg_tickets").fetchall()[0][0])
        if held > max(MAX_QUARANTINE_TICKETS, MAX_QUARANTINE_SHARE * total):
            raise _fail(
                failures,
                len(tests),
                f" on {held:,} of {total:,} tickets: more than "
                f"{MAX_QUARANTINE_SHARE:.0%} is not a few bad tickets but a problem "
                "with the input or the configuration, so nothing is quarantined",
            )
        console.print(
            f"  [yellow]quarantined {new} ticket(s) that failed data tests; "
            f"running {len(rerun)} models again without them[/]",
            highlight=False,
        )
        for model in reversed(rerun):
            con.execute(f"drop table {schema}.{model.name}")
        _run_models(con, schema, rerun, console)
        current = [
            t.scoped(scope_sql(t.model, held_in)) if t.model in with_tickets else t for t in tests
        ]


def _publish(con: duckdb.DuckDBPyConnection, schema: str, models: list[Model]) -> None:
    for model in models:
        con.execute(
            f"create or replace view {PUBLISHED_SCHEMA}.{model.name} as "
            f"select * from {schema}.{model.name}"
        )
    old = con.execute(
        "select schema_name from information_schema.schemata "
        "where schema_name like 'build\\_%' escape '\\' and schema_name <> ?",
        [schema],
    ).fetchall()
    for (name,) in old:
        con.execute(f"drop schema {name} cascade")


def _refuse_stale_metric_models(sql_dir: Path) -> None:
    """The KPI models are generated from pipelines/metrics/registry.py: a build on
    files that say something else would report KPIs nobody declared."""
    stale = stale_models(sql_dir)
    if stale:
        names = ", ".join(p.relative_to(sql_dir.parent).as_posix() for p in stale)
        raise BuildError(
            f"{names}: out of step with pipelines/metrics/registry.py. Run `make metrics` "
            "(or `tierlens metrics generate`) and commit the result."
        )


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    """Roll back the transaction, if one is open (a failure may come between two)."""
    with contextlib.suppress(duckdb.TransactionException):
        con.execute("rollback")


def _prepare(
    con: duckdb.DuckDBPyConnection, config: Config, db_path: Path | str, sql_dir: Path
) -> None:
    """What every build starts with: the seeds, the journals, the macros."""
    write_seeds(con, config)
    apply_journal(con, db_path)
    audit.apply_journal(con, db_path)
    macros = macros_sql(sql_dir)
    if macros:
        con.execute(macros)


def _start_full(
    con: duckdb.DuckDBPyConnection, config: Config, db_path: Path | str, sql_dir: Path
) -> tuple[int, str]:
    """Commit what a full build starts from: its inputs (seeds, journals, macros) and
    its schema, empty but for an empty quarantine list. Returns its number and schema
    (no other process can record a build before it: the file has one writer)."""
    con.execute("begin transaction")
    try:
        build_id = _next_build_id(con)
        schema = f"build_{build_id}"
        _prepare(con, config, db_path, sql_dir)
        # left by a build killed before its commit (the number of a committed build
        # is recorded in meta.builds, so this one never was)
        con.execute(f"drop schema if exists {schema} cascade")
        con.execute(f"create schema {schema}")
        create_build_quarantine(con, schema)
        con.execute("commit")
    except BaseException:
        _rollback(con)
        raise
    return build_id, schema


def _drop_unpublished(con: duckdb.DuckDBPyConnection, schema: str) -> None:
    """Remove the schema of a full build that failed (after its rollback); should
    that fail too, the next build removes it."""
    with contextlib.suppress(duckdb.Error):
        con.execute(f"drop schema if exists {schema} cascade")


def _incremental_error(exc: duckdb.Error) -> BuildError:
    first = " ".join(str(exc).split())
    return BuildError(
        f"the incremental build failed ({first}); the published build is unchanged. "
        "`tierlens build --full` rebuilds every ticket."
    )


def _try_incremental(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    db_path: Path | str,
    sql_dir: Path,
    models: list[Model],
    tests: list[DataTest],
    sql_fp: str,
    console: Console,
) -> incremental.Run | None:
    """Refresh the touched tickets into the in-memory delta database; None (and
    the reason printed) when the build must be a full one. Commits the seeds and
    journals (the build's inputs), writes no model."""
    con.execute("begin transaction")
    try:
        _prepare(con, config, db_path, sql_dir)
        plan = incremental.plan(con, sql_fp, incremental.config_fingerprint(con))
        con.execute("commit")
    except incremental.FullBuildNeeded as why:
        con.execute("rollback")
        console.print(f"  full build: {why}", highlight=False)
        return None
    except BaseException:
        con.execute("rollback")
        raise
    console.print(
        f"  incremental: {plan.touched:,} of {plan.tickets:,} tickets changed since "
        f"build {plan.base_build}",
        highlight=False,
    )
    catalog = str(scalar(con, "select current_database()"))
    run = incremental.Run(con, catalog, plan, models, incremental.declarations(models))
    try:
        run.snapshot_copy = start_snapshot_copy(db_path, _next_build_id(con), plan.base_build)
        incremental.attach_delta(con)
        for model in models:
            t0 = time.perf_counter()
            run.model(model)
            console.print(
                f"  [dim]{model.layer:<12}[/] {model.name:<28} {time.perf_counter() - t0:6.2f}s",
                highlight=False,
            )
        t0 = time.perf_counter()
        failures: list[Failure] = []
        for model in models:
            mine = [t for t in tests if t.model == model.name]
            if mine:
                incremental.set_search_path(con, run.test_path(model.name))
                failures += _run_tests(con, mine)
        con.execute("reset search_path")
        _timed(console, "data tests", t0)
        if failures:
            first = failures[0].message.splitlines()[0]
            raise incremental.FullBuildNeeded(
                f"{len(failures)} data test(s) failed on the changed tickets ({first}); "
                "a full build sets such tickets aside"
            )
    except incremental.FullBuildNeeded as why:
        _abandon(con, run)
        console.print(f"  full build: {why}", highlight=False)
        return None
    except duckdb.Error as exc:  # a full disk, say: a message, not a traceback
        _abandon(con, run)
        raise _incremental_error(exc) from exc
    except BaseException:
        _abandon(con, run)
        raise
    return run


def _abandon(con: duckdb.DuckDBPyConnection, run: incremental.Run | None) -> None:
    """Drop what an incremental run made outside the build's transaction."""
    incremental.detach_delta(con)
    if run is not None and run.snapshot_copy is not None:
        run.snapshot_copy.discard()
        run.snapshot_copy = None


def run_build(
    db_path: Path | str,
    config: Config,
    *,
    console: Console | None = None,
    sql_dir: Path = SQL_DIR,
    full: bool = False,
) -> BuildSummary:
    """Build the models: incrementally (the tickets touched since the last build)
    when it can, else (or with `full`) every model from scratch."""
    console = console or Console(quiet=True)
    pause_setting()  # a bad test setting stops the build before it starts
    require_keys(config.access)  # so does a pseudonym key that cannot be read
    started = time.perf_counter()
    if sql_dir == SQL_DIR:
        _refuse_stale_metric_models(sql_dir)
    models = discover(sql_dir)
    incremental.declarations(models)  # a declaration it cannot read stops the build
    reserved = [m for m in models if m.name == BUILD_QUARANTINE]
    if reserved:
        raise BuildError(
            f"{reserved[0].path}: {BUILD_QUARANTINE} is the name of the build's quarantine "
            "list, beside the models: give the model another name"
        )
    tests = [t for m in models for t in parse_tests(m.name, m.sql)]
    sql_fp = incremental.sql_fingerprint(models, sql_dir)
    con = connect(require_database(db_path))
    try:
        repair_publish(con, db_path, sql_dir=sql_dir, access=config.access)
    except BaseException:
        con.close()
        raise
    run: incremental.Run | None = None
    unpublished: str | None = None  # a full build's schema, until its commit
    try:
        apply_memory_limit(con)
        # No model's rows are in any order (readers sort): without this, a parallel
        # `create table as` keeps its batches in memory to write them in input order.
        con.execute("set preserve_insertion_order = false")
        if not full:
            run = _try_incremental(con, config, db_path, sql_dir, models, tests, sql_fp, console)
        if run is None:
            build_id, schema = _start_full(con, config, db_path, sql_dir)
            unpublished = schema
            con.execute(f"set search_path = '{schema},main'")
            _run_models(con, schema, models, console)
            t0 = time.perf_counter()
            _test_and_quarantine(con, schema, build_id, models, tests, console)
            _timed(console, "data tests", t0)
        con.execute("begin transaction")
        if run is not None:
            build_id, schema = _next_build_id(con), run.plan.schema
            t0 = time.perf_counter()
            try:
                run.merge()
            except duckdb.Error as exc:
                raise _incremental_error(exc) from exc
            _timed(console, "merge", t0)
        else:
            publish_quarantine(con, schema)
        t0 = time.perf_counter()
        con.execute("reset search_path")
        _publish(con, schema, models)
        resolved, still_open = con.execute(
            f"select count(*) filter (where state = 'resolved'), "
            f"count(*) filter (where state = 'open') from {schema}.fct_tickets"
        ).fetchall()[0]
        last_batch = scalar(con, "select max(batch_id) from meta.batches")
        con.execute(
            "insert into meta.builds values (?, now(), ?, ?, ?, ?)",
            [build_id, schema, len(models), len(tests), last_batch],
        )
        incremental.record(
            con,
            build_id,
            sql_fp,
            incremental.config_fingerprint(con),
            "full" if run is None else "incremental",
        )
        pause_at("before_commit")
        con.execute("commit")
        unpublished = None
        _timed(console, "commit", t0)
    except BaseException:
        _rollback(con)
        if unpublished is not None:
            _drop_unpublished(con, unpublished)
        _abandon(con, run)
        con.close()
        raise
    try:
        quarantined = print_warning(con, console)
        print_no_tier_warning(con, console)
        print_calendar_warnings(con, console)
        pause_at("after_commit")
        t0 = time.perf_counter()
        copy = None
        if run is not None:  # handed over: publish_snapshot uses or removes it
            copy, run.snapshot_copy = run.snapshot_copy, None
        publish_snapshot(
            con,
            db_path,
            build_id,
            sql_dir=sql_dir,
            access=config.access,
            delta=None if run is None else run.snapshot_delta(),
            copy=copy,
        )
        _timed(console, "publish snapshot", t0)
        pause_at("after_publish")
    finally:
        _abandon(con, run)
        con.close()
    return BuildSummary(
        build_id,
        schema,
        len(models),
        len(tests),
        time.perf_counter() - started,
        int(resolved),
        int(still_open),
        quarantined,
        mode="full" if run is None else "incremental",
    )
