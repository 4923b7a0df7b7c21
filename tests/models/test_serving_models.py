"""The serving models (sql/serving/): tier_paths, pingpong_pairs and ticket_events,
on small timelines worked out by hand, then copied into the snapshot as they are.

Times are minutes after 09:00 UTC, Monday 4 March 2024, so every resolved ticket
falls in the week of 2024-03-04. Partner acme; client-a, software, P3 unless said.
SD = SD-L1 (L1), Net = Net-L2 (L2), Apps = Apps-L2 (L2). A row of `_alternating`
is one event per 10 minutes, alternating two groups, then a resolution in the
last group.

P1  SD Net SD Net, resolved:      path L1 > L2 > L1 > L2 (4 steps);
                                  groups SD Net SD Net: SD-Net-SD once, Net-SD-Net once.
P2  SD Net SD Net SD, resolved:   path L1 > L2 > L1 > L2 > L1 (5 steps);
                                  SD-Net-SD twice (runs 3 and 5), Net-SD-Net once.
P3  SD Apps x5 (10 runs), client-b: 10 tiers, cut after 8: 'L1 > L2 > ... > L2 > ...',
                                  n_steps 8; SD-Apps-SD at runs 3, 5, 7, 9 (4 bounces),
                                  Apps-SD-Apps at runs 4, 6, 8, 10 (4 bounces).
P4  as P1 but never resolved:     open, in no aggregate; its events are in the timeline.
P5  SD New 0, SD Resolved 5, Net Closed 10: the Net event comes after the final
                                  resolution (out of scope): path L1, no bounce.
P6  SD 0, SD 5, Apps 10, Apps 15, Apps Resolved 20: repeats merged: path L1 > L2.
P7  SD New 0, SD Resolved 5; no client, category or priority: its own row, '(none)'.
P8  group Mystery, no tier anywhere: resolved but no tier, so no path.

tier_paths (client-a rows): L1 (P5), L1 > L2 (P6), the paths of P1 and P2, one
ticket each; client-b: P3's cut path; '(none)': L1 (P7). Total 6 = the resolved
tickets with a tier (P1 P2 P3 P5 P6 P7).
pingpong_pairs (client-a): (SD, Net) P1 + P2 = 2 tickets, 1 + 2 = 3 bounces;
(Net, SD) 2 tickets, 1 + 1 = 2 bounces. client-b: (SD, Apps) and (Apps, SD): 1
ticket, 4 bounces each.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from pipelines.config import Config
from pipelines.models.graph import discover
from pipelines.models.runner import _downstream, run_build
from pipelines.serving import read_pointer
from tests.models.timelines import Ev, Ticket, build, load

WEEK = date(2024, 3, 4)
CUT_PATH = "L1 > L2 > L1 > L2 > L1 > L2 > L1 > L2 > ..."


def _alternating(groups: tuple[str, str], tiers: tuple[str, str], runs: int) -> list[Ev]:
    return [
        Ev(i * 10, groups[i % 2], tiers[i % 2], "New" if i == 0 else "Assigned")
        for i in range(runs)
    ]


def _resolved(events: list[Ev]) -> list[Ev]:
    last = events[-1]
    return [*events, Ev(last.minute + 10, last.group, last.tier, "Resolved", "ann")]


SD_NET = ("SD-L1", "Net-L2")
SD_APPS = ("SD-L1", "Apps-L2")
L1_L2 = ("L1", "L2")


def tickets() -> list[Ticket]:
    return [
        Ticket("P1", _resolved(_alternating(SD_NET, L1_L2, 4))),
        Ticket("P2", _resolved(_alternating(SD_NET, L1_L2, 5))),
        Ticket("P3", _resolved(_alternating(SD_APPS, L1_L2, 10)), client="client-b"),
        Ticket("P4", _alternating(SD_NET, L1_L2, 4)),
        Ticket(
            "P5",
            [
                Ev(0, "SD-L1", "L1", "New"),
                Ev(5, "SD-L1", "L1", "Resolved", "ann"),
                Ev(10, "Net-L2", "L2", "Closed"),
            ],
        ),
        Ticket(
            "P6",
            [
                Ev(0, "SD-L1", "L1", "New"),
                Ev(5, "SD-L1", "L1", "In Progress", "ann"),
                Ev(10, "Apps-L2", "L2", "Assigned"),
                Ev(15, "Apps-L2", "L2", "In Progress", "bob"),
                Ev(20, "Apps-L2", "L2", "Resolved", "bob"),
            ],
        ),
        Ticket(
            "P7",
            [Ev(0, "SD-L1", "L1", "New"), Ev(5, "SD-L1", "L1", "Resolved", "ann")],
            client=None,
            category=None,
            priority=None,
        ),
        Ticket("P8", [Ev(0, "Mystery", None, "New"), Ev(5, "Mystery", None, "Resolved")]),
    ]


EXPECTED_PATHS = [
    ("(none)", "(none)", "(none)", "L1", 1, 1),
    ("client-a", "software", "P3", "L1", 1, 1),
    ("client-a", "software", "P3", "L1 > L2", 2, 1),
    ("client-a", "software", "P3", "L1 > L2 > L1 > L2", 4, 1),
    ("client-a", "software", "P3", "L1 > L2 > L1 > L2 > L1", 5, 1),
    ("client-b", "software", "P3", CUT_PATH, 8, 1),
]

EXPECTED_PAIRS = [
    ("client-a", "Net-L2", "SD-L1", 2, 2),
    ("client-a", "SD-L1", "Net-L2", 2, 3),
    ("client-b", "Apps-L2", "SD-L1", 1, 4),
    ("client-b", "SD-L1", "Apps-L2", 1, 4),
]

PATHS_SQL = """
    select client, category, priority, path, n_steps, n_tickets from analytics.tier_paths
    where week_start = $week and partner = 'acme' and group_name = 'SD-L1' order by all
"""
PAIRS_SQL = """
    select client, group_a, group_b, n_tickets, n_bounces from analytics.pingpong_pairs
    where week_start = $week and partner = 'acme' and group_name = 'SD-L1'
    and category = 'software' and priority = 'P3' order by all
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("serving_models") / "t.duckdb"
    build(db, tickets()).close()
    return db


def test_tier_paths_by_hand(built: Path):
    with duckdb.connect(str(built), read_only=True) as con:
        assert con.execute(PATHS_SQL, {"week": WEEK}).fetchall() == EXPECTED_PATHS
        # One row per path and dimensions: nothing else (no open P4, no tierless P8).
        assert con.execute("select sum(n_tickets) from analytics.tier_paths").fetchall() == [(6,)]


def test_pingpong_pairs_by_hand(built: Path):
    with duckdb.connect(str(built), read_only=True) as con:
        assert con.execute(PAIRS_SQL, {"week": WEEK}).fetchall() == EXPECTED_PAIRS
        assert con.execute("select count(*) from analytics.pingpong_pairs").fetchall() == [(4,)]


def test_ticket_events_is_the_trimmed_timeline(built: Path):
    """P5: held 5 minutes at L1 until resolved; the Net event after the final
    resolution is out of scope, holds nothing and is the only tier rise."""
    with duckdb.connect(str(built), read_only=True) as con:
        rows = con.execute(
            """
            select event_index, held_group, held_tier, status, is_in_scope, minutes_held,
                   is_tier_rise, is_tier_change, is_handoff
            from analytics.ticket_events where ticket_id = 'P5' order by event_index
            """
        ).fetchall()
        assert rows == [
            (1, "SD-L1", "L1", "New", True, 5.0, False, False, False),
            (2, "SD-L1", "L1", "Resolved", True, 0.0, False, False, False),
            (3, "Net-L2", "L2", "Closed", False, 0.0, True, True, True),
        ]
        # Every event of every ticket, the open P4 (4) and tierless P8 (2) included:
        # P1 5, P2 6, P3 11, P4 4, P5 3, P6 5, P7 2, P8 2.
        counts = dict(
            con.execute(
                "select ticket_id, count(*) from analytics.ticket_events group by 1"
            ).fetchall()
        )
        assert counts == {"P1": 5, "P2": 6, "P3": 11, "P4": 4, "P5": 3, "P6": 5, "P7": 2, "P8": 2}


def test_the_snapshot_copies_the_serving_models_as_built(built: Path):
    pointer = read_pointer(built)
    assert pointer is not None
    with (
        duckdb.connect(str(built), read_only=True) as con,
        duckdb.connect(str(pointer.snapshot), read_only=True) as snap,
    ):
        assert snap.execute(PATHS_SQL, {"week": WEEK}).fetchall() == EXPECTED_PATHS
        assert snap.execute(PAIRS_SQL, {"week": WEEK}).fetchall() == EXPECTED_PAIRS
        for table in ("tier_paths", "ticket_paths", "pingpong_pairs", "ticket_events"):
            query = f"select * from analytics.{table} order by all"
            assert snap.execute(query).fetchall() == con.execute(query).fetchall(), table


def test_the_serving_models_are_in_the_build_and_rerun_after_a_quarantine():
    models = {m.name: m for m in discover()}
    assert {models[n].layer for n in ("tier_paths", "pingpong_pairs", "ticket_events")} == {
        "serving"
    }
    assert models["ticket_paths"].depends_on == {"fct_tickets", "int_ticket_events"}
    assert models["tier_paths"].depends_on == {"ticket_paths"}
    assert models["pingpong_pairs"].depends_on == {"fct_tickets", "int_ticket_bounces"}
    assert models["int_ticket_bounces"].depends_on == {"int_ticket_events"}
    assert models["ticket_events"].depends_on == {"int_ticket_events"}
    rerun = {m.name for m in _downstream(list(models.values()), {"int_tickets"})}
    assert {"tier_paths", "ticket_paths", "pingpong_pairs", "ticket_events"} <= rerun


def test_a_quarantined_ticket_is_in_no_serving_model(tmp_path: Path):
    """Q ping-pongs like P1 but has priority P9 (stg_tickets' accepted_values): it is
    quarantined after the first run of the models, which then run again without it.
    P1 alone is left: its path and its two pairs, one bounce each."""
    db = tmp_path / "q.duckdb"
    p1 = tickets()[0]
    q = Ticket("Q", p1.events, priority="P9")
    load(db, [p1, q])
    assert run_build(db, Config()).quarantined_tickets == 1
    pointer = read_pointer(db)
    assert pointer is not None
    for path in (db, pointer.snapshot):
        with duckdb.connect(str(path), read_only=True) as con:
            paths = con.execute("select path, n_tickets from analytics.tier_paths").fetchall()
            assert paths == [("L1 > L2 > L1 > L2", 1)]
            pairs = con.execute(
                "select group_a, group_b, n_tickets, n_bounces from analytics.pingpong_pairs "
                "order by all"
            ).fetchall()
            assert pairs == [("Net-L2", "SD-L1", 1, 1), ("SD-L1", "Net-L2", 1, 1)]
            events = con.execute("select distinct ticket_id from analytics.ticket_events")
            assert events.fetchall() == [("P1",)]


def test_every_dashboard_filter_has_its_column_in_the_tables_it_filters(built: Path):
    """The sidebar offers every filterable dimension of the metric layer; each table
    a page filters must have that dimension's column (a dimension added to the
    registry but not to a serving model would break that page's query)."""
    from pipelines.presentation.filters import FILTER_DIMS
    from pipelines.presentation.queries import AGGREGATE_FILTER_COLUMNS, TICKET_FILTER_COLUMNS

    assert set(AGGREGATE_FILTER_COLUMNS) == set(TICKET_FILTER_COLUMNS) == set(FILTER_DIMS)
    con = duckdb.connect(str(built), read_only=True)
    try:
        for table, columns in (
            ("tier_paths", AGGREGATE_FILTER_COLUMNS),
            ("pingpong_pairs", AGGREGATE_FILTER_COLUMNS),
            ("fct_tickets", TICKET_FILTER_COLUMNS),
        ):
            found = {r[0] for r in con.execute(f"describe analytics.{table}").fetchall()}
            missing = set(columns.values()) - found
            assert not missing, f"analytics.{table} lacks the filter columns {missing}"
    finally:
        con.close()
