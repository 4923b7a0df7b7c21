"""eventlog: a case's partner from its first event in time, its other ticket fields
from its last, whatever the file order or split; columns named in [eventlog]."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from pipelines.config import Config, ConfigError, load_config
from pipelines.errors import InputError
from pipelines.ingest.job import run_ingest
from tests.adapters.exports import (
    VOLVO_HEADER,
    ingest_runs,
    kpis,
    raw_rows,
    volvo_rows,
    write_csv,
)
from tests.adapters.helpers import rows

TICKET = "select ticket_id, partner, client, priority, category from raw.tickets order by 1"
# case 1-500 moves from Org line A2 to Org line C halfway: its partner is A2 (first in
# time), its client fr, impact High (P2), product PROD1 (last in time)
CASE = [("l1", 0, "Org line A2")]


def test_overlapping_exports_keep_the_partner_of_the_first_event(db, tmp_path):
    lines = [r for _, r in volvo_rows(CASE)]
    # the later export holds only the last event; given first, and in reverse line order
    later = write_csv(tmp_path / "later.csv", VOLVO_HEADER, lines[1:])
    earlier = write_csv(tmp_path / "earlier.csv", VOLVO_HEADER, lines[::-1])
    run_ingest([later], db, fmt="eventlog")
    run_ingest([earlier], db, fmt="eventlog")
    assert rows(db, TICKET) == [("1-500", "Org line A2", "fr", "P2", "PROD1")]


def test_column_names_come_from_the_eventlog_section(db, tmp_path):
    toml = tmp_path / "tierlens.toml"
    toml.write_text('[eventlog]\ncase_id = "Case ID"\ntimestamp = "Time"\nstatus = "Activity"\n'
                    'sub_status = ""\ngroup = "Team"\ntier = ""\nagent = ""\npartner = "Org"\n'
                    'priority = ""\ncategory = ""\nclient = ""\n')
    log = write_csv(tmp_path / "log.csv", "Case ID,Time,Activity,Team,Org",
                    ["c1,2024-03-04 10:00,Completed/Resolved,Desk,Acme",
                     "c1,2024-03-04 09:00,Accepted/In Progress,Desk,Initech"])
    result = run_ingest([log], db, load_config(toml), fmt="eventlog")
    assert result.rows_rejected == 0
    assert rows(db, "select ticket_id, partner from raw.tickets") == [("c1", "Initech")]
    assert rows(db, "select status from raw.events order by event_at") == [
        ("Accepted/In Progress",), ("Completed/Resolved",)]
    with pytest.raises(InputError, match=r"log\.csv: not an event log .*'sr number'.*\[eventlog\]"):
        run_ingest([log], tmp_path / "other.duckdb", Config(), fmt="eventlog")
    toml.write_text('[eventlog]\ncase_id = ""\n')
    with pytest.raises(ConfigError, match=r"eventlog\.case_id: needs the name of a column"):
        load_config(toml)


CASES = st.lists(st.tuples(st.sampled_from(sorted(["l1", "escalated", "bounced"])),
                           st.integers(0, 120), st.sampled_from(["Org line A2", "Org line B"])),
                 min_size=1, max_size=4)


@settings(max_examples=8)
@given(CASES, st.data())
def test_two_overlapping_exports_give_the_clean_figures(cases, data):
    lines = [r for _, r in volvo_rows(cases)]
    b = data.draw(st.integers(1, len(lines)))
    a = data.draw(st.integers(0, b - 1))
    parts = [data.draw(st.permutations(p)) for p in (lines[:b], lines[a:])]
    scenario = data.draw(st.sampled_from(["one run", "one run, later first", "two runs",
                                          "two runs, later first"]))
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        ingest_runs(d / "clean.duckdb", [[write_csv(d / "all.csv", VOLVO_HEADER, lines)]],
                    "eventlog")
        exports = [[write_csv(d / f"part{i}.csv", VOLVO_HEADER, p)] for i, p in enumerate(parts)]
        if "later first" in scenario:
            exports.reverse()
        runs = exports if "two runs" in scenario else [exports[0] + exports[1]]
        ingest_runs(d / "split.duckdb", runs, "eventlog")
        # (seq is the line number in each file: the log has none)
        want = raw_rows(d / "clean.duckdb", seq=False)
        assert raw_rows(d / "split.duckdb", seq=False) == want, scenario
        assert kpis(d / "split.duckdb") == kpis(d / "clean.duckdb"), scenario
