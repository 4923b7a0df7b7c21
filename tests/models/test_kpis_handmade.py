"""Every KPI on small hand-made timelines; expected values are worked out by hand below.

Times are minutes after 09:00 UTC, Monday 4 March 2024. Groups: SD-L1 (L1),
Apps-L2 (L2), Infra-L3 (L3), "Mixed team" (not in the tier map; its events carry
the ambiguous label L2/L3, which means L2).

T1  L1 only:            new 0, work 5 (ann), resolved 20.
T2  L1->L2 (P1):        new 0, work 5 + complete escalation note, L2 queue 10,
                        L2 work 40 (pickup 30), resolved 100.
T3  bounced back from the L2 queue before pickup (P2):
                        new 0, work 3, L2 queue 4, back to SD-L1 queue 30, work 35,
                        resolved 60.
T4  L1->L2->L3->L2 (network):
                        new 0, work 10, L2 queue 20 (partial note), L2 work 25,
                        L3 queue 60, L3 work 90, back to L2 queue 120, work 125,
                        resolved 130.
T5  opened at L2:       new 0, work 10, resolved 40.
T6  reopened (KB1):     new 0, work 5, resolved 10, work 100, resolved 120, closed 130.
T7  open:               new 0, work 5, L2 queue 10 (never resolved).
T8  equal timestamps, L2/L3 label, missing groups:
                        new 0, work 10 seq 1, "Mixed team" L2/L3 at 10 seq 2,
                        work 20 (no group), resolved 30 (group '?').
T9  tier skip L1->L3:   new 0, work 5, L3 queue 8, L3 work 9, resolved 15.
T10 password reset (L1 scope), internal note at 2, L2 queue 4, work 10, resolved 60.
"""

from __future__ import annotations

import polars as pl
import pytest

from pipelines.config import Config
from pipelines.kpis import kpi_table
from pipelines.models.runner import run_build
from tests.models.timelines import Ev, Ticket, build, kpi, load

COMPLETE_NOTE = (
    "User issue: Outlook crashes. Troubleshooting performed: safe mode, repair. "
    "Findings: add-in X. Reason for escalation: needs admin rights."
)


def handmade() -> list[Ticket]:
    return [
        Ticket(
            "T1",
            [
                Ev(0, "SD-L1", "L1", "New"),
                Ev(5, "SD-L1", "L1", "In Progress", "ann"),
                Ev(20, "SD-L1", "L1", "Resolved", "ann"),
            ],
        ),
        Ticket(
            "T2",
            [
                Ev(0, "SD-L1", "L1", "New"),
                Ev(5, "SD-L1", "L1", "In Progress", "ann", "escalation", COMPLETE_NOTE),
                Ev(10, "Apps-L2", "L2", "Assigned"),
                Ev(40, "Apps-L2", "L2", "In Progress", "bob"),
                Ev(100, "Apps-L2", "L2", "Resolved", "bob"),
            ],
            priority="P1",
        ),
        Ticket(
            "T3",
            [
                Ev(0, "SD-L1", "L1", "New"),
                Ev(3, "SD-L1", "L1", "In Progress", "ann"),
                Ev(4, "Apps-L2", "L2", "Assigned"),
                Ev(30, "SD-L1", "L1", "Assigned"),
                Ev(35, "SD-L1", "L1", "In Progress", "ann"),
                Ev(60, "SD-L1", "L1", "Resolved", "ann"),
            ],
            priority="P2",
        ),
        Ticket(
            "T4",
            [
                Ev(0, "SD-L1", "L1", "New"),
                Ev(10, "SD-L1", "L1", "In Progress", "ann"),
                Ev(
                    20,
                    "Apps-L2",
                    "L2",
                    "Assigned",
                    None,
                    "escalation",
                    "User issue: VPN drops. Findings: none.",
                ),
                Ev(25, "Apps-L2", "L2", "In Progress", "bob"),
                Ev(60, "Infra-L3", "L3", "Assigned"),
                Ev(90, "Infra-L3", "L3", "In Progress", "cid"),
                Ev(120, "Apps-L2", "L2", "Assigned"),
                Ev(125, "Apps-L2", "L2", "In Progress", "bob"),
                Ev(130, "Apps-L2", "L2", "Resolved", "bob"),
            ],
            category="network",
        ),
        Ticket(
            "T5",
            [
                Ev(0, "Apps-L2", "L2", "New"),
                Ev(10, "Apps-L2", "L2", "In Progress", "bob"),
                Ev(40, "Apps-L2", "L2", "Resolved", "bob"),
            ],
        ),
        Ticket(
            "T6",
            [
                Ev(0, "SD-L1", "L1", "New"),
                Ev(5, "SD-L1", "L1", "In Progress", "ann"),
                Ev(10, "SD-L1", "L1", "Resolved", "ann"),
                Ev(100, "SD-L1", "L1", "In Progress", "ann"),
                Ev(120, "SD-L1", "L1", "Resolved", "ann"),
                Ev(130, "SD-L1", "L1", "Closed", "ann"),
            ],
            kb_article_id="KB1",
        ),
        Ticket(
            "T7",
            [
                Ev(0, "SD-L1", "L1", "New"),
                Ev(5, "SD-L1", "L1", "In Progress", "ann"),
                Ev(10, "Apps-L2", "L2", "Assigned"),
            ],
        ),
        Ticket(
            "T8",
            [
                Ev(0, "SD-L1", "L1", "New"),
                Ev(10, "SD-L1", "L1", "In Progress", "ann", seq=1),
                Ev(10, "Mixed team", "L2/L3", "Assigned", seq=2),
                Ev(20, None, None, "In Progress", "dan"),
                Ev(30, "?", None, "Resolved", "dan"),
            ],
        ),
        Ticket(
            "T9",
            [
                Ev(0, "SD-L1", "L1", "New"),
                Ev(5, "SD-L1", "L1", "In Progress", "ann"),
                Ev(8, "Infra-L3", "L3", "Assigned"),
                Ev(9, "Infra-L3", "L3", "In Progress", "cid"),
                Ev(15, "Infra-L3", "L3", "Resolved", "cid"),
            ],
        ),
        Ticket(
            "T10",
            [
                Ev(0, "SD-L1", "L1", "New"),
                Ev(2, "SD-L1", "L1", "In Progress", "ann", "internal", "tried reset, MFA locked"),
                Ev(4, "Apps-L2", "L2", "Assigned"),
                Ev(10, "Apps-L2", "L2", "In Progress", "bob"),
                Ev(60, "Apps-L2", "L2", "Resolved", "bob"),
            ],
            category="Password reset",
        ),
    ]


@pytest.fixture(scope="module", params=[False, True], ids=["file-order", "reversed-rows"])
def con(request, tmp_path_factory):
    """The same timelines, loaded in file order and with every row reversed."""
    db = tmp_path_factory.mktemp("handmade") / "t.duckdb"
    connection = build(db, handmade(), shuffle=request.param)
    yield connection
    connection.close()


@pytest.mark.parametrize(
    ("metric", "numerator", "denominator"),
    [
        # 8 resolved tickets entered at L1 (all but T5; T7 is open). Only T1 was neither
        # escalated nor reopened (T6 was reopened).
        ("l1_resolution_rate", 1, 8),
        # T2, T3, T4, T8, T9, T10 escalated.
        ("escalation_rate", 6, 8),
        # 9 resolved tickets; T6 reopened.
        ("reopen_rate", 1, 9),
        # 7 escalations of resolved tickets (T4 twice). T3 went back to L1; T4's
        # L2->L3 went back to L2.
        ("bounceback_rate", 2, 7),
        # L1->L2 escalations: T2, T3, T4 (first), T8, T10; only T4's rose again.
        ("reescalation_rate", 1, 5),
        # escalations from L1: T2, T3, T4, T8, T9, T10; T9 went straight to L3.
        ("tier_skip_rate", 1, 6),
        # T3's escalation left L2 before anyone picked it up.
        ("never_picked_up_rate", 1, 7),
        # P1/P2 escalations: T2 (picked up in 30 min: within) and T3 (never picked up).
        ("pickup_within_target_rate", 1, 2),
        # Tickets with a handoff: T2, T3, T4, T8, T9, T10; T3 (SD->Apps->SD) and T4
        # (Apps->Infra->Apps) returned to a group.
        ("pingpong_rate", 2, 6),
        # Only T2's note has all four sections (T4's has two, T10's is internal).
        ("note_completeness_rate", 1, 7),
        # T6 resolved at L1 with KB1.
        ("kb_deflection_rate", 1, 9),
        # First escalations from L1: T2 10, T3 4, T4 20 (network: over 15), T8 10, T9 8, T10 4.
        ("late_escalation_rate", 1, 6),
        # Under 5 minutes: T3 (no internal note) and T10 (has one): only T3 counts.
        ("early_escalation_rate", 1, 6),
        # Escalated tickets: T2, T3, T4, T8, T9, T10. T10 in L1 scope; T8 (pickup 20,
        # resolved 30) and T9 (pickup 9, resolved 15) quick fixes with no further handoff.
        ("unnecessary_escalation_rate_rules", 3, 6),
        ("unnecessary_escalation_rate", 3, 6),
        ("unnecessary_by_scope_rate", 1, 6),
        ("unnecessary_by_quick_fix_rate", 2, 6),
        ("unnecessary_by_kb_rate", 0, 6),
        # Highest tier: L1 T1, T6; L2 T2, T3, T5, T8, T10; L3 T4, T9.
        ("tier_mix_highest_l1", 2, 9),
        ("tier_mix_highest_l2", 5, 9),
        ("tier_mix_highest_l3", 2, 9),
        # Resolving tier: L1 T1, T3, T6; L2 T2, T4, T5, T8, T10; L3 T9.
        ("tier_mix_resolving_l1", 3, 9),
        ("tier_mix_resolving_l2", 5, 9),
        ("tier_mix_resolving_l3", 1, 9),
    ],
)
def test_rates(con, metric, numerator, denominator):
    num, den, value = kpi(con, metric)
    assert (num, den) == (numerator, denominator)
    assert value == pytest.approx(numerator / denominator)


@pytest.mark.parametrize(
    ("metric", "expected"),
    [
        # pickups: T2 30, T4 5 and 30, T8 10, T9 1, T10 6 -> sorted 1 5 6 10 30 30
        ("handoff_delay_median_min", 8.0),
        ("handoff_delay_p90_min", 30.0),
        # L1-only resolution times: T1 20, T6 120 (final resolution at 120, not 130)
        ("mttr_l1_only_median_min", 70.0),
        # escalated: T2 100, T3 60, T4 130, T8 30, T9 15, T10 60
        ("mttr_escalated_median_min", 60.0),
        ("mttr_bounced_back_median_min", 95.0),  # T3 60, T4 130
        # unnecessary escalations: T8 30, T9 15, T10 60
        ("mttr_unnecessary_median_min", 30.0),
        # ratio of medians: unnecessary 30 over L1 only 70
        ("mttr_unnecessary_ratio", 30.0 / 70.0),
        ("time_to_escalate_median_min", 9.0),  # 4 4 8 10 10 20
    ],
)
def test_durations(con, metric, expected):
    assert kpi(con, metric)[2] == pytest.approx(expected)


def test_mttr_ratio_in_the_kpi_table(tmp_path):
    """`tierlens kpis` (overall, aggregated from the facts) gives the same ratio; its
    sample is the smaller side: 2 L1-only tickets against 3 unnecessary escalations."""
    db = tmp_path / "t.duckdb"
    build(db, handmade()).close()
    table = kpi_table(db, Config())
    row = table.filter(pl.col("metric") == "mttr_unnecessary_ratio").row(0, named=True)
    assert row["value"] == pytest.approx(30.0 / 70.0)
    assert row["sample"] == 2
    assert row["status"] == "insufficient"  # 2 cases are under the minimum sample of 20
    assert row["numerator"] is None and row["ci_low"] is None


def test_build_counts_resolved_and_open_tickets(tmp_path):
    """Ten tickets: T7 is open, the nine others resolved."""
    db = tmp_path / "t.duckdb"
    load(db, handmade())
    summary = run_build(db, Config())
    assert (summary.resolved_tickets, summary.open_tickets) == (9, 1)


def test_open_ticket_is_backlog_not_in_rates(con):
    assert kpi(con, "backlog_open_tickets")[2] == 1
    assert con.execute(
        "select count(*) from analytics.kpi_facts where ticket_id = 'T7' and fact not in "
        "(select fact from config.metric_facts where metric = 'backlog_open_tickets')"
    ).fetchone() == (0,)
    assert con.execute(
        "select state, week_start from analytics.fct_tickets where ticket_id = 'T7'"
    ).fetchone() == ("open", None)


def test_first_contact_resolution_is_na_when_the_source_cannot_tell(con):
    assert kpi(con, "first_contact_resolution_rate") is None


def test_ticket_paths(con):
    rows = con.execute(
        """select ticket_id, entry_tier, highest_tier, resolving_tier, n_escalations,
                  n_handoffs, is_pingpong
           from analytics.fct_tickets order by ticket_id"""
    ).fetchall()
    assert rows == [
        ("T1", "L1", "L1", "L1", 0, 0, False),
        ("T10", "L1", "L2", "L2", 1, 1, False),
        ("T2", "L1", "L2", "L2", 1, 1, False),
        ("T3", "L1", "L2", "L1", 1, 2, True),
        ("T4", "L1", "L3", "L2", 2, 3, True),
        ("T5", "L2", "L2", "L2", 0, 0, False),
        ("T6", "L1", "L1", "L1", 0, 0, False),
        ("T7", "L1", "L2", "L2", 1, 1, False),
        ("T8", "L1", "L2", "L2", 1, 1, False),
        ("T9", "L1", "L3", "L3", 1, 1, False),
    ]


def test_equal_timestamps_follow_seq_and_missing_groups_keep_the_last(con):
    rows = con.execute(
        """select event_index, held_group, held_tier from analytics.int_ticket_events
           where ticket_id = 'T8' order by event_index"""
    ).fetchall()
    assert rows == [
        (1, "SD-L1", "L1"),
        (2, "SD-L1", "L1"),
        (3, "Mixed team", "L2"),
        (4, "Mixed team", "L2"),
        (5, "Mixed team", "L2"),
    ]


def test_escalation_details(con):
    rows = con.execute(
        """select escalation_id, from_tier, to_tier, is_bounceback, is_reescalation,
                  pickup_minutes, is_never_picked_up
           from analytics.fct_escalations where ticket_id in ('T3', 'T4') order by escalation_id"""
    ).fetchall()
    assert rows == [
        ("T3#3", "L1", "L2", True, False, None, True),
        ("T4#3", "L1", "L2", False, True, 5.0, False),
        ("T4#5", "L2", "L3", True, False, 30.0, False),
    ]


def test_unmapped_group_is_reported(con):
    assert con.execute(
        "select partner, group_name, mapped_tier from analytics.int_group_tiers "
        "where mapped_tier is null"
    ).fetchall() == [("acme", "Mixed team", None)]


def test_week_follows_reporting_zone_and_week_start(tmp_path):
    # Resolved Sunday 10 March 2024 23:30 UTC = Monday 00:30 in Paris.
    late = Ticket("W1", [Ev(0, "SD-L1", "L1", "New"), Ev(9510, "SD-L1", "L1", "Resolved", "ann")])
    utc = build(tmp_path / "utc.duckdb", [late])
    assert (
        str(utc.execute("select week_start from analytics.fct_tickets").fetchone()[0])
        == "2024-03-04"
    )
    paris = build(
        tmp_path / "paris.duckdb",
        [late],
        config=Config(reporting_timezone="Europe/Paris", week_start="monday"),
    )
    assert (
        str(paris.execute("select week_start from analytics.fct_tickets").fetchone()[0])
        == "2024-03-11"
    )
    sunday = build(tmp_path / "sunday.duckdb", [late], config=Config(week_start="sunday"))
    assert (
        str(sunday.execute("select week_start from analytics.fct_tickets").fetchone()[0])
        == "2024-03-10"
    )


def test_review_verdict_overrides_rules(tmp_path):
    tickets = [t for t in handmade() if t.ticket_id in ("T2", "T9")]
    db = tmp_path / "v.duckdb"
    con = build(db, tickets)
    assert kpi(con, "unnecessary_escalation_rate")[:2] == (1, 2)  # T9 by quick-fix rule
    con.close()
    import duckdb

    from pipelines.models.runner import run_build

    w = duckdb.connect(str(db))
    w.execute(
        """insert into meta.review_verdicts values
           ('v1', 'T2#3', 'T2', 's1', 'rev', '2024-03-11 10:00+00', 'no', null, null, null, null),
           ('v2', 'T9#3', 'T9', 's1', 'rev', '2024-03-11 10:00+00', 'no', null, null, null, null),
           ('v3', 'T9#3', 'T9', 's1', 'rev', '2024-03-11 11:00+00', 'yes', null, null, null, null)
        """
    )
    w.close()
    run_build(db, Config())
    con = duckdb.connect(str(db), read_only=True)
    # T2 reviewed unnecessary; T9's later verdict says the escalation was needed.
    assert kpi(con, "unnecessary_escalation_rate")[:2] == (1, 2)
    assert con.execute(
        "select ticket_id from analytics.fct_tickets where is_unnecessary"
    ).fetchall() == [("T2",)]
    assert kpi(con, "unnecessary_escalation_rate_rules")[:2] == (1, 2)
