"""The six SLA metrics on small hand-made timelines; expected values worked out by hand.

Times are minutes after 09:00 UTC, Monday 4 March 2024. A ticket's SLA verdict is
its `sla_met` flag when the export has one, else "resolved after `sla_due_at`"
(docs/metrics.md, SLA breach rate). Groups: SD-L1 (L1), Apps-L2 (L2), Infra-L3 (L3).

Not escalated:
S1  L1 only, sla_met true:             new 0, work 5, resolved 20.     met
S2  L1 only, sla_met false:            new 0, work 5, resolved 20.     breached
S3  L1 only, due 30, no flag:          new 0, work 5, resolved 20.     met (20 <= 30)
S4  L1 only, no SLA information:       new 0, resolved 20.             in no SLA figure
S5  opened at L2, sla_met false:       new 0, work 10, resolved 40.    breached
Escalated:
E1  due 60, no flag, opened 20 minutes before its first event:
    L1 new 0, L1 work 5, L2 queue 10, L2 work 40, resolved 100.       breached (100 > 60)
    clock: L1 0-10 = 10, L2 10-100 = 90 (the time before the first event is no tier's)
E2  sla_met false although due 1000 (the flag wins):
    L1 new 0, L2 queue 20, L2 work 30, L3 queue 50, L3 work 60, resolved 80,
    closed 200 by SD-L1 (a hand-back for closure, after the final resolution).
    breached; clock: L1 0-20 = 20, L2 20-50 = 30, L3 50-80 = 30 (not the closure's 120)
E3  sla_met true although due 10 (the flag wins): L1 new 0, L2 queue 5, resolved 50.  met
E4  due 45, no flag, resolved at 45 exactly: L1 new 0, L2 queue 5, resolved 45.  met
E5  no SLA information: L1 new 0, L2 queue 5, resolved 50.  in no SLA figure
O1  open, sla_met false: L1 new 0, L2 queue 5.  open: in no rate
"""

from __future__ import annotations

import duckdb
import pytest

from pipelines.config import Config
from pipelines.models.runner import run_build
from tests.models.timelines import Ev, Ticket, at, kpi, load


def _l1_only(ticket_id: str, **kw) -> Ticket:
    events = [
        Ev(0, "SD-L1", "L1", "New"),
        Ev(5, "SD-L1", "L1", "In Progress", "ann"),
        Ev(20, "SD-L1", "L1", "Resolved", "ann"),
    ]
    return Ticket(ticket_id, events, **kw)


def _to_l2(ticket_id: str, resolved: float, **kw) -> Ticket:
    events = [
        Ev(0, "SD-L1", "L1", "New"),
        Ev(5, "Apps-L2", "L2", "Assigned"),
        Ev(resolved, "Apps-L2", "L2", "Resolved", "bob"),
    ]
    return Ticket(ticket_id, events, **kw)


def sla_timelines() -> tuple[list[Ticket], dict[str, float]]:
    """The tickets, and the minute of each ticket's sla_due_at."""
    tickets = [
        _l1_only("S1", sla_met=True),
        _l1_only("S2", sla_met=False),
        _l1_only("S3"),
        Ticket("S4", [Ev(0, "SD-L1", "L1", "New"), Ev(20, "SD-L1", "L1", "Resolved", "ann")]),
        Ticket(
            "S5",
            [
                Ev(0, "Apps-L2", "L2", "New"),
                Ev(10, "Apps-L2", "L2", "In Progress", "bob"),
                Ev(40, "Apps-L2", "L2", "Resolved", "bob"),
            ],
            sla_met=False,
        ),
        Ticket(
            "E1",
            [
                Ev(0, "SD-L1", "L1", "New"),
                Ev(5, "SD-L1", "L1", "In Progress", "ann"),
                Ev(10, "Apps-L2", "L2", "Assigned"),
                Ev(40, "Apps-L2", "L2", "In Progress", "bob"),
                Ev(100, "Apps-L2", "L2", "Resolved", "bob"),
            ],
            opened_minute=-20,
        ),
        Ticket(
            "E2",
            [
                Ev(0, "SD-L1", "L1", "New"),
                Ev(20, "Apps-L2", "L2", "Assigned"),
                Ev(30, "Apps-L2", "L2", "In Progress", "bob"),
                Ev(50, "Infra-L3", "L3", "Assigned"),
                Ev(60, "Infra-L3", "L3", "In Progress", "cid"),
                Ev(80, "Infra-L3", "L3", "Resolved", "cid"),
                Ev(200, "SD-L1", "L1", "Closed", "ann"),
            ],
            sla_met=False,
        ),
        _to_l2("E3", 50, sla_met=True),
        _to_l2("E4", 45),
        _to_l2("E5", 50),
        Ticket(
            "O1",
            [Ev(0, "SD-L1", "L1", "New"), Ev(5, "Apps-L2", "L2", "Assigned")],
            sla_met=False,
        ),
    ]
    due = {"S3": 30, "E1": 60, "E2": 1000, "E3": 10, "E4": 45}
    return tickets, due


def build_sla(db, config: Config | None = None, *, sql_dir=None) -> duckdb.DuckDBPyConnection:
    """Load the SLA timelines (with their due dates) and run the real build."""
    tickets, due = sla_timelines()
    load(db, tickets)
    con = duckdb.connect(str(db))
    con.executemany(
        "update raw.tickets set sla_due_at = ? where ticket_id = ?",
        [(at(minute), ticket_id) for ticket_id, minute in due.items()],
    )
    con.close()
    kw = {"sql_dir": sql_dir} if sql_dir is not None else {}
    run_build(db, config or Config(), **kw)
    return duckdb.connect(str(db), read_only=True)


# metric -> (numerator, denominator) worked out in the module docstring
EXPECTED: dict[str, tuple[float, float]] = {
    # escalated tickets with SLA information: E1, E2, E3, E4; breached E1 (due), E2 (flag)
    "sla_breach_rate_escalated": (2, 4),
    # not escalated with SLA information: S1, S2, S3, S5; breached S2, S5
    "sla_breach_rate_not_escalated": (2, 4),
    # breached escalated E1 and E2: clock 100 + 80 = 180 minutes
    "sla_clock_share_l1": (10 + 20, 180),
    "sla_clock_share_l2": (90 + 30, 180),
    "sla_clock_share_l3": (30, 180),
    "sla_clock_share_l4": (0, 180),
}


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    connection = build_sla(tmp_path_factory.mktemp("sla") / "t.duckdb")
    yield connection
    connection.close()


@pytest.mark.parametrize(("metric", "expected"), EXPECTED.items(), ids=list(EXPECTED))
def test_sla_metric(con, metric, expected):
    numerator, denominator = expected
    assert kpi(con, metric) == pytest.approx((numerator, denominator, numerator / denominator))


def test_the_clock_shares_add_up_to_the_whole_clock(con):
    shares = [kpi(con, f"sla_clock_share_l{n}")[2] for n in range(1, 5)]
    assert shares == pytest.approx([1 / 6, 2 / 3, 1 / 6, 0.0])


def test_breach_verdicts_per_ticket(con):
    """The verdict behind the rates: the flag first, else resolution after the due date;
    no SLA information is no verdict. O1 keeps its export's flag, but an open ticket is
    in no SLA figure."""
    rows = con.execute(
        "select ticket_id, is_sla_breached from analytics.fct_tickets order by ticket_id"
    ).fetchall()
    assert rows == [
        ("E1", True),
        ("E2", True),
        ("E3", False),
        ("E4", False),
        ("E5", None),
        ("O1", True),
        ("S1", False),
        ("S2", True),
        ("S3", False),
        ("S4", None),
        ("S5", True),
    ]
    in_sla_facts = con.execute(
        "select distinct ticket_id from analytics.kpi_facts where fact like 'sla_%' "
        "order by ticket_id"
    ).fetchall()
    assert [t for (t,) in in_sla_facts] == ["E1", "E2", "E3", "E4", "S1", "S2", "S3", "S5"]
