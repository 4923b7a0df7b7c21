"""zendesk: one export split into two overlapping exports (random split points, each
page in a random record order, each with the tickets.json of its time; groups.json
with the later one), loaded in either order, in one run or two, gives the raw rows
and the KPIs of the single clean export."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings, strategies as st

from tests.adapters.exports import (
    ingest_runs,
    kpis,
    raw_rows,
    write_json,
    zendesk_groups_page,
    zendesk_ticket,
    zendesk_tickets_page,
)

STEP = st.sampled_from(["open", "pending", "solved", "group", "comment", "private", "assign"])
TICKET = st.tuples(st.lists(STEP, min_size=1, max_size=5), st.booleans(),
                   st.integers(0, 90))


@st.composite
def split_export(draw):
    specs = draw(st.lists(TICKET, min_size=1, max_size=4))
    next_id = [5000]
    tickets = [zendesk_ticket(101 + i, steps, mid, off, next_id)
               for i, (steps, mid, off) in enumerate(specs)]
    records = sorted((r for t in tickets for r in t.records),
                     key=lambda r: (r["created_at"], r["id"]))
    n = len(records)
    b = draw(st.integers(1, n))
    a = draw(st.integers(0, b - 1))  # the two parts overlap on records[a:b]
    parts = [records[:b], records[a:]]
    shuffled = [draw(st.permutations(p)) for p in parts]
    scenario = draw(st.sampled_from(["one run", "one run, later first", "two runs",
                                     "two runs, later first"]))
    return tickets, records, parts, shuffled, scenario


@settings(max_examples=8)
@given(split_export())
def test_two_overlapping_exports_give_the_clean_figures(case):
    tickets, records, parts, shuffled, scenario = case
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        clean = [
            write_json(d / "events.json", {"ticket_events": records}),
            write_json(d / "tickets.json",
                       zendesk_tickets_page(tickets, {r["id"] for r in records})),
            write_json(d / "groups.json", zendesk_groups_page()),
        ]
        ingest_runs(d / "clean.duckdb", [clean], "zendesk")

        exports = []
        for i, (part, page) in enumerate(zip(parts, shuffled, strict=True)):
            files = [
                write_json(d / f"events_{i}.json", {"ticket_events": page}),
                write_json(d / f"tickets_{i}.json",
                           zendesk_tickets_page(tickets, {r["id"] for r in part})),
            ]
            exports.append(files)
        exports[1].append(clean[2])  # groups.json comes with the later export only
        if "later first" in scenario:
            exports.reverse()
        runs = exports if "two runs" in scenario else [exports[0] + exports[1]]
        ingest_runs(d / "split.duckdb", runs, "zendesk")

        want = raw_rows(d / "clean.duckdb")
        assert want[2] == 0  # every status is known: nothing rejected
        assert raw_rows(d / "split.duckdb") == want, scenario
        assert kpis(d / "split.duckdb") == kpis(d / "clean.duckdb"), scenario
