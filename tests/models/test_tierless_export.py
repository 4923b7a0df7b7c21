"""An export whose groups no tier rule matches and that has no tier column (a
HaloPSA-style team list: Desktop, Network) builds, but the build warns and
`tierlens kpis` says which KPIs are missing and why, instead of printing 3 of 47
silently. Through the real command line.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from pipelines.metrics import METRICS
from tests.cli_run import tierlens

# A1: Desktop -> Network, resolved. A2: resolved, reopened, resolved. A3: open.
EVENTS = """\
ticket_id,event_at,group,agent,status
A1,2024-03-04 09:00,Desktop,ann,New
A1,2024-03-04 09:10,Desktop,ann,In Progress
A1,2024-03-04 10:00,Network,bob,In Progress
A1,2024-03-04 11:00,Network,bob,Resolved
A2,2024-03-04 09:00,Desktop,ann,New
A2,2024-03-04 09:30,Desktop,ann,Resolved
A2,2024-03-04 10:00,Desktop,ann,In Progress
A2,2024-03-04 10:30,Desktop,ann,Resolved
A3,2024-03-04 09:00,Desktop,ann,New
"""

TIERS = """\
[[tier_map]]
group = "Desktop"
tier = "L1"
[[tier_map]]
group = "Network"
tier = "L2"
"""


def _load(tmp_path: Path) -> Path:
    (tmp_path / "events.csv").write_text(EVENTS, encoding="utf-8")
    db = tmp_path / "t.duckdb"
    run = tierlens("ingest", "--db", db, "--kind", "events", "events.csv", cwd=tmp_path)
    assert run.code == 0, run.describe()
    return db


def test_build_warns_and_kpis_say_what_is_missing(tmp_path):
    db = _load(tmp_path)
    build = tierlens("build", "--db", db, cwd=tmp_path)
    assert build.code == 0, build.describe()
    assert ("warning: no event has a tier: none of the 2 groups matched the tier map and the "
            "export has no tier column") in build.text
    assert "docs/configuration.md#tier-map" in build.text

    run = tierlens("kpis", "--db", db, "--format", "csv", cwd=tmp_path)
    assert run.code == 0, run.describe()
    shown = [r["metric"] for r in csv.DictReader(io.StringIO(run.out))]  # stdout stays CSV
    # without tiers: ping-pong (A1 has a handoff), reopen (A2) and the backlog (A3)
    assert shown == ["pingpong_rate", "reopen_rate", "backlog_open_tickets"]
    need_tiers = [m.name for m in METRICS if m.needs_tiers]
    assert len(METRICS) == 64 and len(need_tiers) == 59
    assert (f"59 KPIs need tiers: no group matched the tier map and the export has no tier "
            f"column; see docs/configuration.md#tier-map ({', '.join(need_tiers)})") in run.err
    # the two tier-free KPIs that have no value: no first-contact or SLA data in the export
    assert ("2 KPIs have no value: the export has no data for them (no SLA verdicts, knowledge "
            "flag or first-contact status, no escalation) or no case in the period "
            "(first_contact_resolution_rate, sla_breach_rate_not_escalated)") in run.err


def test_with_a_tier_map_there_is_no_warning(tmp_path):
    db = _load(tmp_path)
    (tmp_path / "tierlens.toml").write_text(TIERS, encoding="utf-8")
    build = tierlens("build", "--db", db, cwd=tmp_path)
    assert build.code == 0, build.describe()
    assert "no event has a tier" not in build.text
    run = tierlens("kpis", "--db", db, cwd=tmp_path)
    assert run.code == 0, run.describe()
    assert "need tiers" not in run.text
    assert "escalation_rate" in run.out
