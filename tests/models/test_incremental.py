"""Incremental builds give exactly the tables of a full build.

The property: any sequence of ingests, each followed by a build (incremental
whenever it can be), ends with the same tables, in the database and in the serving
snapshot, as the same ingests followed by one full build. The sequences are drawn
from a generated sample: tickets arrive over several exports, their events split
between exports (some before the ticket row, some sent twice), and tickets change
(priority, category, client) in later exports.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import duckdb
import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, Phase, example, given, settings, strategies as st

from pipelines import db
from pipelines.config import Config
from pipelines.ingest.job import run_ingest
from pipelines.models.runner import run_build
from pipelines.sample.generator import write_sample
from pipelines.serving import read_pointer

N_TICKETS = 300


@dataclass(frozen=True)
class Sample:
    tickets: pl.DataFrame
    events: pl.DataFrame


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Sample:
    out = tmp_path_factory.mktemp("sample")
    write_sample(out, N_TICKETS, seed=11)
    return Sample(
        pl.read_csv(out / "tickets.csv", infer_schema=False),
        pl.read_csv(out / "events.csv", infer_schema=False),
    )


def _exports(sample: Sample, seed: int, n_exports: int, changed_share: float) -> list[tuple]:
    """The exports, in order: (tickets frame, events frame) each."""
    rng = np.random.default_rng(seed)
    n = sample.tickets.height
    # most tickets in the first export, the rest spread over the later ones: the
    # second export then touches at most about 27% of the tickets (300 draws), below
    # incremental.MAX_SHARE (30%), so the builds after it are incremental (with 15%
    # in the later ones, one draw in 50 touched more and was rightly a full build)
    first = rng.random(n) < 0.9
    arrives = np.where(first, 0, rng.integers(1, n_exports, n))
    ids = sample.tickets["ticket_id"].to_numpy()
    arrival = dict(zip(ids, arrives, strict=True))
    events = sample.events.with_columns(
        pl.col("ticket_id").replace_strict(arrival, default=0).alias("_arrives")
    )
    # a few tickets' events come partly one export late, or one export early, or
    # are sent again in a later export (the ingest drops the copies)
    late, early, again = (
        dict(zip(ids, rng.random(n) < share, strict=True)) for share in (0.05, 0.03, 0.03)
    )
    shift = np.where(
        events["ticket_id"].replace_strict(late, default=False).to_numpy(),
        rng.integers(0, 2, events.height),
        0,
    ) - np.where(
        events["ticket_id"].replace_strict(early, default=False).to_numpy(),
        rng.integers(0, 2, events.height),
        0,
    )
    events = events.with_columns(
        pl.Series("_export", np.clip(events["_arrives"].to_numpy() + shift, 0, n_exports - 1)),
        pl.col("ticket_id").replace_strict(again, default=False).alias("_again"),
    )
    exports = []
    for k in range(n_exports):
        tickets = sample.tickets.filter(pl.Series(arrives == k))
        if k:  # tickets that arrived earlier and change now
            earlier = sample.tickets.filter(pl.Series(arrives < k))
            changed = earlier.filter(pl.Series(rng.random(earlier.height) < changed_share))
            changed = changed.with_columns(
                pl.lit(["P1", "P2", "P3", "P4"][k % 4]).alias("priority"),
                pl.col("category").str.to_uppercase(),
                pl.lit(f"Client {k}").alias("client"),
            )
            tickets = pl.concat([tickets, changed])
        again = pl.col("_again") & (pl.col("_export") < k)
        mine = events.filter((pl.col("_export") == k) | again)
        exports.append((tickets, mine.drop("_arrives", "_export", "_again")))
    return exports


def _ingest(db: Path, folder: Path, k: int, export: tuple) -> None:
    tickets, events = export
    paths = []
    for name, frame in (("tickets", tickets), ("events", events)):
        if frame.height:
            path = folder / f"{name}_{k}.csv"
            frame.write_csv(path)
            paths.append(path)
    if paths:
        run_ingest(paths, db, progress=False)


def _differences(a: Path, b: Path, schema: str = "analytics") -> dict[str, int]:
    """Rows in one and not the other (as multisets), for every table or view of
    `schema` in `a`."""
    con = duckdb.connect()
    try:
        con.execute(f"attach '{a}' as a (read_only)")
        con.execute(f"attach '{b}' as b (read_only)")
        names = [
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables "
                "where table_catalog = 'a' and table_schema = ?",
                [schema],
            ).fetchall()
        ]
        assert names
        found = {}
        for name in names:
            x, y = f"a.{schema}.{name}", f"b.{schema}.{name}"
            (n,) = con.execute(
                f"select count(*) from ((select * from {x} except all select * from {y}) "
                f"union all (select * from {y} except all select * from {x}))"
            ).fetchone() or (0,)
            if n:
                found[name] = n
        return found
    finally:
        con.close()


@settings(
    max_examples=max(3, settings().max_examples // 4),
    deadline=None,
    # each example is several ingests and builds: shrinking one would take minutes,
    # and a failing example is already small enough to read
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_exports=st.integers(2, 4),
    changed_share=st.sampled_from([0.0, 0.01, 0.05]),
    worn_share=st.sampled_from([db.WORN_SHARE, 0.0]),
)
# with the share at 0 every patched table is written whole: the other path
@example(seed=7, n_exports=3, changed_share=0.05, worn_share=0.0)
def test_incremental_builds_equal_one_full_build(
    sample: Sample, seed: int, n_exports: int, changed_share: float, worn_share: float
):
    exports = _exports(sample, seed, n_exports, changed_share)
    with tempfile.TemporaryDirectory() as tmp, mock.patch.object(db, "WORN_SHARE", worn_share):
        folder = Path(tmp)
        stepwise, whole = folder / "stepwise.duckdb", folder / "whole.duckdb"
        modes = []
        for k, export in enumerate(exports):
            _ingest(stepwise, folder, k, export)
            _ingest(whole, folder, k, export)
            modes.append(run_build(stepwise, Config()).mode)
        run_build(whole, Config(), full=True)
        assert modes[0] == "full"
        assert "incremental" in modes[1:], modes
        assert _differences(stepwise, whole) == {}
        snap_a, snap_b = read_pointer(stepwise), read_pointer(whole)
        assert snap_a is not None and snap_b is not None
        assert _differences(snap_a.snapshot, snap_b.snapshot) == {}
        if worn_share == 0:
            assert _deleted_rows(stepwise, snap_a.snapshot) == {}


def _deleted_rows(database: Path, snapshot: Path) -> dict[str, float]:
    """The tables (of the published build, raw, and the snapshot's analytics) that
    keep deleted rows, with their share."""
    found = {}
    for path, schemas in ((database, ["raw", None]), (snapshot, ["analytics"])):
        con = duckdb.connect(str(path), read_only=True)
        try:
            for schema in schemas:
                if schema is None:  # the published build's own schema
                    schema = con.execute(
                        "select schema_name from meta.builds order by build_id desc limit 1"
                    ).fetchall()[0][0]
                names = con.execute(
                    "select table_name from duckdb_tables() where schema_name = ?", [schema]
                ).fetchall()
                for (name,) in names:
                    share = db.deleted_share(con, schema, name)
                    if share:
                        found[f"{path.name}:{schema}.{name}"] = share
        finally:
            con.close()
    return found


# ------------------------------------------------------------------ by hand

TICKETS_HEADER = "ticket_id,partner,client,opened_at,priority,category\n"
EVENTS_HEADER = "ticket_id,event_at,seq,group,tier,agent,status\n"
# B1..B4 (week of 11 March) are never touched: a refresh of A alone is incremental
FILLERS = [f"B{i}" for i in range(1, 5)]
FIRST_TICKETS = (
    "A,acme,c1,2024-03-04T09:00:00Z,P3,software\n"
    + "".join(f"{b},acme,c1,2024-03-11T09:00:00Z,P3,software\n" for b in FILLERS)
    + "C,acme,c1,2024-03-18T09:00:00Z,P3,software\n"
)
FIRST_EVENTS = (
    "A,2024-03-04T09:00:00Z,1,SD,L1,ann,New\n"
    "A,2024-03-04T10:00:00Z,2,SD,L1,ann,Resolved\n"
    + "".join(
        f"{b},2024-03-11T09:00:00Z,1,SD,L1,ann,New\n{b},2024-03-11T10:00:00Z,2,SD,L1,ann,Resolved\n"
        for b in FILLERS
    )
    + "C,2024-03-18T09:00:00Z,1,SD,L1,ann,New\n"
    "C,2024-03-18T10:00:00Z,2,SD,L1,ann,Resolved\n"
)
# A is reopened two weeks later, escalated and resolved at L2: it leaves the week
# of 4 March for the week of 18 March
LATER_EVENTS = (
    "A,2024-03-19T09:00:00Z,3,SD,L1,ann,In Progress\n"
    "A,2024-03-19T10:00:00Z,4,Apps,L2,bob,Assigned\n"
    "A,2024-03-20T10:00:00Z,5,Apps,L2,bob,Resolved\n"
)


def _l1_by_week(db: Path) -> dict[str, tuple[float, float]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        found = con.execute(
            "select week_start::varchar, numerator, denominator from analytics.kpi_weekly "
            "where metric = 'l1_resolution_rate' and dimension = 'overall' order by 1"
        ).fetchall()
    finally:
        con.close()
    return {week: (n, d) for week, n, d in found}


def _write(folder: Path, name: str, header: str, rows: str) -> Path:
    path = folder / name
    path.write_text(header + rows, encoding="utf-8")
    return path


def test_a_ticket_that_moves_to_another_week_leaves_the_old_one(tmp_path: Path):
    db, whole = tmp_path / "t.duckdb", tmp_path / "whole.duckdb"
    first = [
        _write(tmp_path, "t1.csv", TICKETS_HEADER, FIRST_TICKETS),
        _write(tmp_path, "e1.csv", EVENTS_HEADER, FIRST_EVENTS),
    ]
    later = [_write(tmp_path, "e2.csv", EVENTS_HEADER, LATER_EVENTS)]
    for target in (db, whole):
        run_ingest(first, target, progress=False)
    assert run_build(db, Config()).mode == "full"
    assert _l1_by_week(db) == {
        "2024-03-04": (1, 1),
        "2024-03-11": (4, 4),
        "2024-03-18": (1, 1),
    }
    for target in (db, whole):
        run_ingest(later, target, progress=False)
    assert run_build(db, Config()).mode == "incremental"
    run_build(whole, Config(), full=True)
    # A: entered at L1, escalated and reopened, so not resolved at L1; C still is
    assert _l1_by_week(db) == {"2024-03-11": (4, 4), "2024-03-18": (1, 2)}
    assert _differences(db, whole) == {}


def test_what_makes_a_build_full_is_said(tmp_path: Path):
    db = tmp_path / "t.duckdb"
    files = [
        _write(tmp_path, "t1.csv", TICKETS_HEADER, FIRST_TICKETS),
        _write(tmp_path, "e1.csv", EVENTS_HEADER, FIRST_EVENTS),
    ]
    run_ingest(files, db, progress=False)
    from io import StringIO

    from rich.console import Console

    def build(config: Config, **kw: bool) -> tuple[str, str]:
        out = StringIO()
        summary = run_build(db, config, console=Console(file=out, width=200), **kw)
        return summary.mode, out.getvalue()

    assert build(Config())[0] == "full"
    mode, said = build(Config())
    assert mode == "incremental" and "0 of 6 tickets changed" in said
    mode, said = build(Config(), full=True)
    assert mode == "full"
    changed = Config.model_validate({"min_sample": 5})
    mode, said = build(changed)
    assert mode == "full" and "the configuration changed" in said
    assert build(changed)[0] == "incremental"
    # A reopened, and N, a ticket known only from its events: 2 of 6 + 1 tickets
    new_events = LATER_EVENTS + "N,2024-03-19T09:00:00Z,1,SD,L1,ann,New\n"
    run_ingest([_write(tmp_path, "e2.csv", EVENTS_HEADER, new_events)], db, progress=False)
    mode, said = build(changed)
    assert mode == "incremental" and "2 of 7 tickets changed since build 5" in said
    # four new tickets: 4 of 11 is more than a build refreshes
    four = "".join(f"M{i},2024-03-19T09:00:00Z,1,SD,L1,ann,New\n" for i in range(4))
    run_ingest([_write(tmp_path, "e3.csv", EVENTS_HEADER, four)], db, progress=False)
    mode, said = build(changed)
    assert mode == "full" and "4 of 11 tickets changed: a full build is as fast" in said


@pytest.mark.parametrize(
    ("model", "declared", "message"),
    [
        (
            "serving/tier_paths.sql",
            "by week_start",
            r"kpi_fact_cells.sql: `incremental: by week_start` reads kpi_facts, refreshed by "
            r"ticket_id, and so does tier_paths \(by week_start\)",
        ),
        (
            "serving/dq_unmapped_groups.sql",
            "by partner",
            r"dq_unmapped_groups.sql: `incremental: by partner` needs a model refreshed by",
        ),
    ],
)
def test_a_declaration_the_refresh_cannot_keep_stops_the_build(
    tmp_path: Path, model: str, declared: str, message: str
):
    import re
    import shutil

    from pipelines.errors import BuildError
    from pipelines.models.graph import SQL_DIR

    sql = tmp_path / "sql"
    shutil.copytree(SQL_DIR, sql)
    path = sql / model
    text = re.sub(r"^-- incremental: .*\n", "", path.read_text(), flags=re.MULTILINE)
    path.write_text(f"-- incremental: {declared}\n{text}")
    with pytest.raises(BuildError, match=message):
        run_build(tmp_path / "t.duckdb", Config(), sql_dir=sql)
