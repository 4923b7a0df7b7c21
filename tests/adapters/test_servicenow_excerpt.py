"""The real ServiceNow excerpt (../shared/datasets), end to end through servicenow-audit.

The expected figures are worked out here from the file with polars, not from the SQL.
The file must be there (CI has it): a missing file fails, it does not skip.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from pipelines.config import load_config
from pipelines.ingest.job import run_ingest
from pipelines.models.runner import run_build
from pipelines.reconcile import per_ticket, reconcile, unknown_statuses, unmapped_groups
from tests.adapters.helpers import MAPPINGS, SHARED, rows

LOG = SHARED / "servicenow_incident_log_excerpt.csv.gz"
TIERS = MAPPINGS / "servicenow_excerpt_tiers.toml"


@pytest.fixture(scope="module")
def log() -> pl.DataFrame:
    if not LOG.exists():
        pytest.fail(f"{LOG} is missing: the shared datasets must sit beside the project")
    return (
        pl.read_csv(LOG, infer_schema=False)
        .with_row_index("line")
        .with_columns(
            at=pl.col("sys_updated_at").str.to_datetime("%d-%m-%Y %H:%M"),
            mod=pl.col("sys_mod_count").cast(pl.Int64),
            grp=pl.when(pl.col("assignment_group") != "?").then(pl.col("assignment_group")),
        )
    )


@pytest.fixture(scope="module")
def db(tmp_path_factory, log) -> Path:
    del log  # (fails first when the file is missing)
    path = tmp_path_factory.mktemp("sn") / "sn.duckdb"
    config = load_config(TIERS)
    result = run_ingest([LOG], path, config, source="servicenow", fmt="servicenow-audit")
    assert result.rows_rejected == 0
    run_build(path, config)
    return path


def _expected(log: pl.DataFrame) -> pl.DataFrame:
    """Per incident: group changes over the whole timeline (a '?' group is unchanged),
    reopens (Resolved/Closed -> an open state) and the counters of its last snapshot."""
    timeline = log.sort("number", "at", "mod", "line").with_columns(
        held=pl.col("grp").forward_fill().over("number"),
        done=pl.col("incident_state").is_in(["Resolved", "Closed"]),
    )
    changes = timeline.with_columns(
        handoff=(pl.col("held") != pl.col("held").shift(1).over("number")).fill_null(False),
        reopen=(pl.col("done").shift(1).over("number") & ~pl.col("done")).fill_null(False),
    ).group_by("number").agg(
        derived_reassign=pl.col("handoff").sum(), derived_reopen=pl.col("reopen").sum()
    )
    last = log.sort("number", "mod", "line").group_by("number").last().select(
        "number",
        reported_reassign=pl.col("reassignment_count").cast(pl.Int64),
        reported_reopen=pl.col("reopen_count").cast(pl.Int64),
    )
    return last.join(changes, on="number")


def test_every_row_and_incident_is_accounted_for(db, log):
    assert log.height == 5998
    assert rows(db, "select kind, rows_read, rows_loaded, rows_rejected from meta.batches "
                    "order by kind") == [("events", 5998, 5998, 0),
                                         ("tickets", log["number"].n_unique(), 890, 0)]
    assert rows(db, "select count(*) from raw.tickets") == [(890,)]
    assert unknown_statuses(db).height == 0
    assert unmapped_groups(db).height == 0  # the example tier map covers every group


def test_reconciliation_matches_an_independent_reading(db, log):
    exp = _expected(log)
    rec = reconcile(db)
    got = {r["counter"]: r for r in rec.summary.iter_rows(named=True)}
    agree_reassign = exp.filter(pl.col("reported_reassign") == pl.col("derived_reassign")).height
    agree_reopen = exp.filter(pl.col("reported_reopen") == pl.col("derived_reopen")).height
    assert (got["reassignments"]["n_tickets"], got["reassignments"]["n_agree_all"]) == (
        890, agree_reassign)
    assert (got["reopens"]["n_tickets"], got["reopens"]["n_agree_all"]) == (890, agree_reopen)
    assert (agree_reassign, agree_reopen) == (855, 889)  # the figures in docs/adapters.md
    mine = per_ticket(db).join(exp, left_on="ticket_id", right_on="number")
    for ticket in ("INC0000102", "INC0000458", "INC0000137"):
        row = mine.filter(pl.col("ticket_id") == ticket).row(0, named=True)
        assert row["reassignments_all"] == row["derived_reassign"]
        assert row["reassignments_reported"] == row["reported_reassign"]
        assert row["reopens_all"] == row["derived_reopen"]
    assert mine.filter(pl.col("ticket_id") == "INC0000102").select(
        "reassignments_reported", "reassignments_all", "reopens_reported", "reopens_all"
    ).row(0) == (4, 4, 1, 1)
