"""The status map: exact keys first, then the longest `*` pattern; unknown statuses stay
visible."""

from __future__ import annotations

from pipelines.config import Config
from tests.models.timelines import Ev, Ticket, build


def test_exact_then_wildcard_then_unknown(tmp_path):
    ticket = Ticket(
        "S1",
        [
            Ev(0, "SD-L1", "L1", "New"),
            Ev(1, "SD-L1", "L1", "Awaiting Parts"),  # 'awaiting *'
            Ev(2, "SD-L1", "L1", "Awaiting User Info"),  # exact key
            Ev(3, "SD-L1", "L1", "Accepted/Wait - Legal"),  # 'accepted/wait*'
            Ev(4, "SD-L1", "L1", "Frobnicated"),  # nobody knows this one
            Ev(5, "SD-L1", "L1", "Resolved", "ann"),
        ],
    )
    config = Config(status_map={"awaiting user info": "work"})
    con = build(tmp_path / "s.duckdb", [ticket], config=config)
    got = dict(
        con.execute("select example_status, status_class from analytics.int_status_classes")
        .fetchall()
    )
    assert got == {
        "New": "queue",
        "Awaiting Parts": "wait",
        "Awaiting User Info": "work",
        "Accepted/Wait - Legal": "wait",
        "Frobnicated": None,
        "Resolved": "resolved",
    }
