"""ServiceNow audit log (one row per incident snapshot): two overlapping exports of the
same log, in any order, in one run or two, give the figures of the single clean export.

The rows are the hand-made fixture's (tests/fixtures/adapters/servicenow_audit.csv) and
the first incidents of the real excerpt in ../shared/datasets; hypothesis picks the
split points, the overlap, the row order in each part and how the parts are loaded.
"""

from __future__ import annotations

import gzip
import tempfile
from pathlib import Path

import duckdb
import pytest
from hypothesis import given, settings, strategies as st

from pipelines.config import Config
from tests.adapters.exports import ingest_runs, kpis, raw_rows, write_csv
from tests.adapters.helpers import FIXTURES, SHARED

# The exports write day-first dates; a small part may hold only ambiguous ones
# (1-3-2016), which Tierlens refuses to guess: the setting says it.
DMY = Config.model_validate({"ingest": {"date_order": "dmy"}})
FIXTURE = (FIXTURES / "servicenow_audit.csv").read_text(encoding="utf-8").splitlines()
EXCERPT = SHARED / "servicenow_incident_log_excerpt.csv.gz"


def _excerpt_head(n_incidents: int) -> tuple[str, list[str]]:
    if not EXCERPT.exists():
        pytest.fail(f"{EXCERPT} is missing: the shared datasets must sit beside the project")
    with gzip.open(EXCERPT, "rt", encoding="utf-8") as fh:
        header = fh.readline().rstrip("\n")
        rows, seen = [], []
        for line in fh:
            number = line.split(",", 1)[0]
            if number not in seen:
                if len(seen) == n_incidents:
                    break
                seen.append(number)
            rows.append(line.rstrip("\n"))
    return header, rows


def _check(header: str, lines: list[str], data: st.DataObject) -> None:
    b = data.draw(st.integers(1, len(lines)), label="first export ends")
    a = data.draw(st.integers(0, b - 1), label="second export starts")
    parts = [data.draw(st.permutations(p)) for p in (lines[:b], lines[a:])]
    scenario = data.draw(st.sampled_from(["one run", "one run, later first", "two runs",
                                          "two runs, later first"]))
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        ingest_runs(d / "clean.duckdb", [[write_csv(d / "all.csv", header, lines)]],
                    "servicenow-audit", DMY)
        exports = [[write_csv(d / f"part{i}.csv", header, p)] for i, p in enumerate(parts)]
        if "later first" in scenario:
            exports.reverse()
        runs = exports if "two runs" in scenario else [exports[0] + exports[1]]
        ingest_runs(d / "split.duckdb", runs, "servicenow-audit", DMY)
        # seq is the snapshot's sys_mod_count, the same in every export; a bad row in
        # both exports is rejected in each, so the rejects compare by their text
        split, clean = raw_rows(d / "split.duckdb")[:2], raw_rows(d / "clean.duckdb")[:2]
        assert split == clean, scenario
        assert _rejected(d / "split.duckdb") == _rejected(d / "clean.duckdb"), scenario
        assert kpis(d / "split.duckdb", DMY) == kpis(d / "clean.duckdb", DMY), scenario


def _rejected(db: Path) -> set[tuple[str, str]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return set(con.execute("select raw_line, reason from meta.rejects").fetchall())
    finally:
        con.close()


# each example ingests twice and builds twice: a fifth of the profile's examples
# (4 by default, 80 with --hypothesis-profile=slow)
EXAMPLES = max(3, settings.default.max_examples // 5)


@settings(max_examples=EXAMPLES)
@given(st.data())
def test_fixture_split_in_two_overlapping_exports(data: st.DataObject) -> None:
    _check(FIXTURE[0], FIXTURE[1:], data)


@settings(max_examples=EXAMPLES)
@given(st.data())
def test_real_excerpt_split_in_two_overlapping_exports(data: st.DataObject) -> None:
    header, rows = _excerpt_head(8)
    _check(header, rows, data)
