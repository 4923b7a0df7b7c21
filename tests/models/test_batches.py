"""A `by <key>` model built in batches of its key (batches.py) gives the same rows."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from hypothesis import given, strategies as st

from pipelines.config import Config
from pipelines.ingest.job import run_ingest
from pipelines.models import batches
from pipelines.models.batches import Batch, plan_batches
from pipelines.models.runner import run_build
from pipelines.sample.generator import write_sample


def _keys_table(counts: dict[date | None, int]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("create table t (week_start date)")
    for key, n in counts.items():
        con.execute("insert into t select ?::date from range(?)", [key, n])
    return con


def test_batches_by_hand():
    d = [date(2024, 1, 1) + timedelta(weeks=i) for i in range(4)]
    con = _keys_table({d[0]: 3, d[1]: 2, d[2]: 4, d[3]: 1, None: 2})
    # 3 + 2 fit in 5; 4 + 1 fit in 5; the rows with no week on their own
    assert plan_batches(con, "week_start", ["t"], 5) == [
        Batch(missing=True),
        Batch(d[0], d[1]),
        Batch(d[2], d[3]),
    ]
    # one week above the limit is a batch of its own
    assert plan_batches(con, "week_start", ["t"], 3) == [
        Batch(missing=True),
        Batch(d[0], d[0]),
        Batch(d[1], d[1]),
        Batch(d[2], d[2]),
        Batch(d[3], d[3]),
    ]
    # everything fits: no batches, one pass
    assert plan_batches(con, "week_start", ["t"], 12) == []


@given(
    counts=st.dictionaries(
        st.one_of(st.none(), st.dates(date(2020, 1, 1), date(2030, 1, 1))),
        st.integers(1, 30),
        max_size=25,
    ),
    limit=st.integers(1, 80),
)
def test_batches_cover_every_key_once(counts: dict[date | None, int], limit: int):
    con = _keys_table(counts)
    found = plan_batches(con, "week_start", ["t"], limit)
    total = sum(counts.values())
    if total <= limit:
        assert found == []
        return
    sql = "select count(*), count(distinct week_start) from t where "
    per_batch = [con.execute(sql + b.where("week_start")).fetchall()[0] for b in found]
    # every row in exactly one batch
    assert sum(rows for rows, _ in per_batch) == total
    # no batch over the limit, unless it is one week (or the rows with no week)
    assert all(rows <= limit or weeks <= 1 for rows, weeks in per_batch)
    ranges = [b for b in found if not b.missing]
    assert all(a.high < b.low for a, b in itertools.pairwise(ranges))
    assert sum(b.missing for b in found) == (None in counts)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("batched")
    write_sample(folder, 400, seed=5)
    db = folder / "t.duckdb"
    run_ingest([folder / "tickets.csv", folder / "events.csv"], db, progress=False)
    run_build(db, Config())
    return db


def _kpi_weekly(db: Path) -> list[list[tuple]]:
    """kpi_weekly and the cells it reads (both built by week)."""
    with duckdb.connect(str(db), read_only=True) as con:
        return [
            con.execute(f"select * from analytics.{table} order by all").fetchall()
            for table in ("kpi_fact_cells", "kpi_weekly")
        ]


def test_a_batched_full_build_equals_one_pass(built: Path, monkeypatch: pytest.MonkeyPatch):
    one_pass = _kpi_weekly(built)
    with duckdb.connect(str(built), read_only=True) as con:
        facts, weeks = con.execute(
            "select count(*), count(distinct week_start) from analytics.kpi_facts"
        ).fetchall()[0]
    # several batches of weeks, and the facts with no week (the backlog)
    monkeypatch.setattr(batches, "BATCH_ROWS", facts // 10)
    assert run_build(built, Config(), full=True).mode == "full"
    with duckdb.connect(str(built), read_only=True) as con:
        planned = plan_batches(con, "week_start", ["analytics.kpi_facts"], facts // 10)
    assert 4 <= len(planned) <= weeks + 1 and planned[0].missing
    assert _kpi_weekly(built) == one_pass


def test_a_failing_batch_raises_its_own_error(built: Path, tmp_path: Path):
    """The model's error reaches the build as it is (not a later cleanup's)."""
    copy = tmp_path / "t.duckdb"
    copy.write_bytes(built.read_bytes())
    with duckdb.connect(str(copy)) as con:
        (schema,) = con.execute("select max(schema_name) from meta.builds").fetchall()[0]
        con.execute("begin")
        sql = "select week_start, error('week ' || week_start || ' broke') as x from kpi_facts"
        with pytest.raises(duckdb.Error, match=r"week \d{4}-\d\d-\d\d broke"):
            batches.run_batched(con, schema, "broken", sql, "week_start", ["kpi_facts"], limit=50)
        con.execute("rollback")
