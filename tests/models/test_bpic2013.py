"""The real Volvo IT log (BPI Challenge 2013), loaded through the eventlog format.

The KPIs the models compute are checked against a separate, straightforward polars
reading of the same file, written here from docs/metrics.md, not from the SQL.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from pipelines.config import Config
from pipelines.ingest.job import run_ingest
from pipelines.kpis import kpi_table
from pipelines.models.runner import run_build

LOG = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "bpic2013_incidents.csv.gz"

STATUS_CLASS = {
    "Queued/Awaiting Assignment": "queue",
    "Accepted/In Progress": "work",
    "Accepted/Assigned": "work",
    "Accepted/Wait": "wait",
    "Accepted/Wait - User": "wait",
    "Accepted/Wait - Implementation": "wait",
    "Accepted/Wait - Vendor": "wait",
    "Accepted/Wait - Customer": "wait",
    "Completed/Resolved": "resolved",
    "Completed/In Call": "resolved",
    "Completed/Closed": "closed",
    "Completed/Cancelled": "cancelled",
}


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    if not LOG.exists():
        pytest.fail(f"{LOG} is missing: the shared datasets must sit beside the project")
    path = tmp_path_factory.mktemp("bpic") / "bpic.duckdb"
    result = run_ingest([LOG], db_path=path, config=Config(), source="bpic2013", fmt="eventlog")
    assert result.rows_rejected == 0
    run_build(path, Config())
    return path


@pytest.fixture(scope="module")
def reference() -> pl.DataFrame:
    """Per resolved ticket: entry tier, escalated?, reopened?, computed in polars."""
    log = (
        pl.read_csv(LOG, infer_schema=False)
        .with_row_index("line")
        .select(
            ticket=pl.col("SR Number"),
            at=pl.col("Change Date+Time").str.to_datetime("%Y-%m-%dT%H:%M:%S%z"),
            line=pl.col("line"),
            status=pl.col("Status") + "/" + pl.col("Sub Status"),
            tier=pl.col("ST Level").str.slice(1, 1).cast(pl.Int32),  # L2/L3 -> 2
        )
        .sort("ticket", "at", "line")
        .with_columns(
            cls=pl.col("status").replace_strict(STATUS_CLASS, default=None),
            idx=pl.int_range(pl.len()).over("ticket"),
        )
        # a status the map does not know (Unmatched/Unmatched) is skipped: the chain
        # of known statuses goes on through it
        .with_columns(known=pl.col("cls").forward_fill().over("ticket"))
        .with_columns(done=pl.col("known").is_in(["resolved", "closed"]).fill_null(False))
    )
    last_open = (
        log.filter(pl.col("cls").is_not_null() & ~pl.col("cls").is_in(["resolved", "closed"]))
        .group_by("ticket").agg(last_open=pl.col("idx").max())
    )
    tickets = (
        log.group_by("ticket")
        .agg(last_done=pl.col("done").last())
        .filter(pl.col("last_done"))
        .join(last_open, on="ticket", how="left")
        .with_columns(final=pl.col("last_open").fill_null(-1) + 1)
    )
    scoped = log.join(tickets.select("ticket", "final"), on="ticket").filter(
        pl.col("idx") <= pl.col("final")
    )
    return (
        scoped.with_columns(
            rise=pl.col("tier") > pl.col("tier").shift(1).over("ticket"),
            reopen=pl.col("done").shift(1).over("ticket")
            & pl.col("cls").is_in(["queue", "work", "wait"]),
        )
        .group_by("ticket")
        .agg(
            entry=pl.col("tier").first(),
            escalated=pl.col("rise").fill_null(False).any(),
            reopened=pl.col("reopen").fill_null(False).any(),
        )
    )


def _kpi(db: Path, metric: str) -> tuple[float, float]:
    frame = kpi_table(db, Config()).filter(pl.col("metric") == metric)
    return frame["numerator"][0], frame["denominator"][0]


def test_escalation_and_l1_resolution_match_an_independent_reading(db, reference):
    l1 = reference.filter(pl.col("entry") == 1)
    assert _kpi(db, "escalation_rate") == (l1["escalated"].sum(), l1.height)
    l1_resolved = l1.filter(~pl.col("escalated") & ~pl.col("reopened")).height
    assert _kpi(db, "l1_resolution_rate") == (l1_resolved, l1.height)
    assert _kpi(db, "reopen_rate") == (reference["reopened"].sum(), reference.height)


def test_every_row_is_accounted_for_and_unknown_statuses_are_reported(db):
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("select count(*) from raw.events").fetchall() == [(65533,)]
    assert con.execute("select count(*) from raw.tickets").fetchall() == [(7554,)]
    unknown = con.execute(
        "select example_status, n_events from analytics.int_status_classes "
        "where status_class is null"
    ).fetchall()
    assert unknown == [("Unmatched/Unmatched", 5)]
    # 39 rows carry the ambiguous 'L2/L3' label: they count as L2.
    assert con.execute(
        "select count(*), min(event_tier) from analytics.int_ticket_events "
        "where tier_label = 'L2/L3'"
    ).fetchall() == [(39, "L2")]
