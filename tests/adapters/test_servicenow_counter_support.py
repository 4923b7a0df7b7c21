"""Reconcile says which counters an export can support.

A plain incident list (one row per incident) has no timeline: its derived
reassignments are 0 whatever happened, so comparing them with `reassignment_count`
measures nothing. Its counters are "not measurable from this export", never a share
of agreement; with the metric_instance export the incidents it covers are measurable.
Fixtures: tests/fixtures/adapters/servicenow_incidents.csv (3 incidents, reported
reassignments 1, 0, 0 and reopens 0, 0, 0) and servicenow_metric_instance.csv (the
timeline of INC0010001 only: Service Desk -> Network L2, one reassignment, no reopen).
"""

from __future__ import annotations

from pipelines.config import Config, TierRule
from pipelines.ingest.job import run_ingest
from pipelines.models.runner import run_build
from pipelines.reconcile import reconcile
from tests.adapters.helpers import FIXTURES
from tests.cli_run import tierlens

TIERS = Config(tier_map=[TierRule(group="Service Desk", tier="L1"),
                         TierRule(pattern="L2", tier="L2")])


def _summary(db) -> dict[str, tuple[int, int, int, int, float | None]]:
    return {
        r["counter"]: (r["n_tickets"], r["n_agree_all"], r["n_disagree_all"],
                       r["n_not_measurable"], r["share_agree_all"])
        for r in reconcile(db).summary.iter_rows(named=True)
    }


def test_a_plain_incident_list_supports_no_counter(db):
    run_ingest([FIXTURES / "servicenow_incidents.csv"], db, TIERS, fmt="servicenow-incident",
               source="servicenow-incident")
    run_build(db, TIERS)
    # before: 2 of 3 "agreed" (the two reporting 0 reassignments), 66.7%
    assert _summary(db) == {
        "reassignments": (3, 0, 0, 3, None),
        "reopens": (3, 0, 0, 3, None),
    }
    support = reconcile(db).support
    assert support.select("source", "counter", "n_reporting", "measurable").rows() == [
        ("servicenow-incident", "reassignments", 3, False),
        ("servicenow-incident", "reopens", 3, False),
    ]
    assert reconcile(db).examples.height == 0


def test_the_audit_export_makes_the_incidents_it_covers_measurable(db):
    run_ingest(
        [FIXTURES / "servicenow_incidents.csv", FIXTURES / "servicenow_metric_instance.csv"],
        db, TIERS, fmt="servicenow-incident",
    )
    run_build(db, TIERS)
    # INC0010001: 1 reported, 1 derived (Service Desk -> Network L2): agrees; reopens 0 = 0.
    # INC0010002/3 keep their coarse events (one line each): not measurable.
    assert _summary(db) == {
        "reassignments": (3, 1, 0, 2, 1.0),
        "reopens": (3, 1, 0, 2, 1.0),
    }


def test_the_reconcile_command_says_not_measurable(tmp_path):
    db = tmp_path / "list.duckdb"
    for args in (("ingest", "--format", "servicenow-incident", "--db", db,
                  FIXTURES / "servicenow_incidents.csv"), ("build", "--db", db)):
        run = tierlens(*args, cwd=tmp_path)
        assert run.code == 0, run.describe()
    run = tierlens("reconcile", "--db", db, cwd=tmp_path)
    assert run.code == 0, run.describe()
    assert "counters each source can support" in run.out
    assert "reassignments: not measurable from this export (3 tickets report it" in run.out
    assert "reopens: not measurable from this export (3 tickets report it" in run.out
    assert "%" not in run.out.split("reconciliation: source counters vs derived")[1].split(
        "reassignments: not measurable")[0]  # no agreement share in the table
