"""mapped: issue 12 reproductions on hand-written exports in the tools' shapes: a
field history sorted by field (carry in time order), the Volvo log's Status and Sub
Status joined into one status, and a history split in two overlapping exports."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from pipelines.config import Config
from pipelines.errors import InputError
from pipelines.ingest.job import run_ingest
from pipelines.ingest.mapped import mapped_reader
from pipelines.models.runner import run_build
from tests.adapters.exports import START, kpis, raw_rows, volvo_rows, write_csv
from tests.adapters.helpers import MAPPINGS, rows

AUDIT = MAPPINGS / "autotask_audit.toml"
HEADER = "Ticket Number,Date/Time,Performed By,Field,Old Value,New Value"
# one ticket's history, sorted by Field (as the History tab's column sort gives it)
BY_FIELD = [
    "T1,04/03/2024 09:05,Ann,Primary Resource,,Ann Lee",
    "T1,04/03/2024 12:30,Bob,Primary Resource,Ann Lee,Bob Roe",
    "T1,04/03/2024 09:00,Ann,Queue,,Service Desk",
    "T1,04/03/2024 11:00,Ann,Queue,Service Desk,Level II Support",
    "T1,04/03/2024 09:06,Ann,Status,New,In Progress",
    "T1,04/03/2024 12:00,Bob,Status,In Progress,Complete",
]


def tickets_file(path: Path, ids: list[str]) -> Path:
    return write_csv(path, "ticket_id,partner", [f"{t},Contoso" for t in ids])


def test_a_history_sorted_by_field_is_carried_in_time_order(db, tmp_path):
    run_ingest([tickets_file(tmp_path / "tickets.csv", ["T1"])], db)
    result = run_ingest([write_csv(tmp_path / "history.csv", HEADER, BY_FIELD)], db,
                        fmt=mapped_reader(AUDIT))
    assert result.rows_rejected == 0
    # by time: 09:00 New (initial), 09:05 New, 09:06 In Progress, 11:00 In Progress,
    # 12:00 Resolved, 12:30 Resolved (file order gave New at 11:00 and 12:30: a reopen)
    assert rows(db, "select strftime(event_at, '%H:%M'), status from raw.events "
                    "order by event_at") == [
        ("09:00", "New"), ("09:05", "New"), ("09:06", "In Progress"), ("11:00", "In Progress"),
        ("12:00", "Resolved"), ("12:30", "Resolved")]
    run_build(db, Config())
    assert rows(db, "select state, n_reopens from analytics.fct_tickets") == [("resolved", 0)]


VOLVO_MAPPING = """[source]
kind = "both"
tool = "Volvo IT (BPIC 2013)"
[columns]
ticket_id = "SR Number"
event_at = "Change Date+Time"
status = ["Status", "Sub Status"]
group = "Involved ST"
tier = "ST Level"
partner = "Involved Org line 3"
"""


def test_status_and_sub_status_join_into_one_status(db, tmp_path):
    from tests.adapters.exports import VOLVO_HEADER

    volvo = mapped_reader(write_csv(tmp_path / "volvo.toml", VOLVO_MAPPING, []))
    log = [r for _, r in volvo_rows([("escalated", 0, "Org line A2")])]
    log[1] = log[1].replace(",In Progress,", ",,")  # a blank sub status is left out
    run_ingest([write_csv(tmp_path / "log.csv", VOLVO_HEADER, log[::-1])], db, fmt=volvo)
    assert rows(db, "select status from raw.events order by event_at") == [
        ("Queued/Awaiting Assignment",), ("Accepted",), ("Queued/Awaiting Assignment",),
        ("Accepted/Wait - User",), ("Completed/Resolved",)]
    # the ticket's fields from its last row in time, though the file is newest first
    assert rows(db, "select partner from raw.tickets") == [("Org line C",)]


@pytest.mark.parametrize("value, message", [
    ('["Status"]', "columns: status: a list joins columns"),
    ('["Status", 3]', "columns: status: a list joins columns"),
    ('{ column = "Status", join = "Sub Status" }', "columns.status.join: Input should be"),
])
def test_a_bad_join_is_one_line_naming_the_key(tmp_path, value, message):
    bad = write_csv(tmp_path / "bad.toml",
                    VOLVO_MAPPING.replace('["Status", "Sub Status"]', value), [])
    with pytest.raises(InputError) as err:
        mapped_reader(bad)
    assert str(err.value).startswith(f"{bad}: invalid mapping: {message}")
    assert "\n" not in str(err.value)


STEP = st.sampled_from(["Status:In Progress", "Status:Waiting Customer", "Status:Complete",
                        "Queue:Level II Support", "Queue:Service Desk",
                        "Primary Resource:Ann Lee", "Primary Resource:Bob Roe"])


@settings(max_examples=8)
@given(st.lists(st.tuples(st.lists(STEP, min_size=1, max_size=5), st.integers(0, 60)),
                min_size=1, max_size=3), st.data())
def test_a_history_split_in_two_overlapping_exports_gives_the_clean_figures(tickets, data):
    """Both orders in one run, and two runs oldest first (a later export loaded alone,
    in an earlier run, takes initial_status before its first status row: see
    docs/adapters.md)."""
    lines = []
    for n, (steps, start) in enumerate(tickets):
        for i, step in enumerate(steps):
            field, value = step.split(":")
            at = START + timedelta(minutes=start + 13 * i)
            lines.append((at, f"T{n},{at.strftime('%d/%m/%Y %H:%M')},Ann,{field},,{value}"))
    lines = [r for _, r in sorted(lines)]
    b = data.draw(st.integers(1, len(lines)))
    a = data.draw(st.integers(0, b - 1))
    parts = [data.draw(st.permutations(p)) for p in (lines[:b], lines[a:])]
    scenario = data.draw(st.sampled_from(["one run", "one run, later first", "two runs"]))
    audit = mapped_reader(AUDIT)
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        ids = tickets_file(d / "tickets.csv", [f"T{n}" for n in range(len(tickets))])
        run_ingest([ids], d / "clean.duckdb")
        run_ingest([write_csv(d / "all.csv", HEADER, lines)], d / "clean.duckdb", fmt=audit)
        run_ingest([ids], d / "split.duckdb")
        exports = [write_csv(d / f"part{i}.csv", HEADER, p) for i, p in enumerate(parts)]
        if scenario == "one run, later first":
            exports.reverse()
        runs = [[e] for e in exports] if scenario == "two runs" else [exports]
        for files in runs:
            run_ingest(files, d / "split.duckdb", fmt=audit)
        want = raw_rows(d / "clean.duckdb", seq=False)
        assert want[2] == 0
        assert raw_rows(d / "split.duckdb", seq=False) == want, scenario
        assert kpis(d / "split.duckdb") == kpis(d / "clean.duckdb"), scenario
