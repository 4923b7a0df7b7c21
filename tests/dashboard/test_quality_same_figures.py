"""The data-quality page and `tierlens reconcile` show the same figures (one query,
pipelines.data_quality), on the real Volvo log and on a plain ServiceNow incident list.

The Volvo log's groups match no default tier rule in the hundreds, but every event
carries its own tier (ST Level), so no group needs a rule: the CLI said 0 unmapped
groups and the page 337 before both ran the same query.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.config import Config
from pipelines.ingest.job import run_ingest
from pipelines.models.runner import run_build
from pipelines.reconcile import reconcile, unmapped_groups
from tests.dashboard.conftest import app_test, open_page

SHARED = Path(__file__).resolve().parents[3] / "shared" / "datasets"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "adapters"


@pytest.fixture(scope="module")
def volvo(tmp_path_factory) -> Path:
    log = SHARED / "bpic2013_incidents.csv.gz"
    if not log.exists():
        pytest.fail(f"{log} is missing: the shared datasets must sit beside the project")
    db = tmp_path_factory.mktemp("volvo") / "bpic.duckdb"
    run_ingest([log], db_path=db, config=Config(), source="bpic2013", fmt="eventlog")
    run_build(db, Config())
    return db


def test_volvo_groups_all_have_a_tier_on_both(volvo: Path, monkeypatch: pytest.MonkeyPatch):
    assert unmapped_groups(volvo).height == 0
    at = open_page(app_test(volvo, monkeypatch), "quality")
    assert not at.exception, [e.value for e in at.exception]
    assert "Every group maps to a tier." in [s.value for s in at.success]
    assert not any("match no tier rule" in w.value for w in at.warning)


def test_incident_list_counters_not_measurable_on_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    db = tmp_path / "list.duckdb"
    run_ingest([FIXTURES / "servicenow_incidents.csv"], db, Config(),
               fmt="servicenow-incident", source="servicenow-incident")
    run_build(db, Config())
    at = open_page(app_test(db, monkeypatch), "quality")
    assert not at.exception, [e.value for e in at.exception]
    page = next(df.value for df in at.dataframe if "agree share" in df.value.columns)
    cli = reconcile(db).summary
    for counter in ("reassignments", "reopens"):
        row = page[page["counter"] == counter].iloc[0]
        mine = cli.filter(counter=counter).row(0, named=True)
        assert (row["tickets"], row["agree"], row["disagree"], row["not measurable"]) == (
            mine["n_tickets"], mine["n_agree_all"], mine["n_disagree_all"],
            mine["n_not_measurable"]) == (3, 0, 0, 3)
        assert row["agree share"] == "not measurable from this export"
    infos = [i.value for i in at.info]
    assert "Reassignments: not measurable from this export (3 tickets report it; there is no " \
           "agreement share)." in infos
    support = next(df.value for df in at.dataframe if "tickets reporting it" in df.value.columns)
    assert support["measurable"].str.startswith("no: its events hold no history").all()


def test_lines_read_as_windows_1252_are_listed_on_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Lines 3 and 5 of the events carry a Latin-1 byte: loaded, and listed with their
    numbers by `tierlens reconcile` and on the page, from the snapshot."""
    from pipelines.reconcile import notices

    events = tmp_path / "events.csv"
    rows = [
        "ticket_id,event_at,group,tier,status,note_text",
        "T1,2025-03-03 08:00,SD,L1,New,printer",
        "T1,2025-03-03 08:05,SD,L1,Resolved,M\xfcller fixed it",
        "T2,2025-03-03 09:00,SD,L1,New,vpn",
        "T2,2025-03-03 09:30,SD,L1,Resolved,Z\xfcrich office",
    ]
    events.write_bytes("\n".join(rows).encode("latin-1") + b"\n")
    db = tmp_path / "n.duckdb"
    run_ingest([events], db, Config())
    run_build(db, Config())
    cli = notices(db)
    assert cli.rows() == [(str(events), cli["notice"][0], 2, "3, 5")]
    at = open_page(app_test(db, monkeypatch), "quality")
    assert not at.exception, [e.value for e in at.exception]
    page = next(df.value for df in at.dataframe if "first_lines" in df.value.columns)
    assert page.values.tolist() == [list(r) for r in cli.rows()]
