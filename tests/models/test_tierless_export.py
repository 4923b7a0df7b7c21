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
    assert (f"59 KPIs are not measurable from these exports (no tier: no group matches the "
            "tier map and no tier label; see docs/configuration.md#tier-map): "
            f"{', '.join(need_tiers)}") in run.err
    # this export carries none of the other things some KPIs need either: each is said
    for need, what in (
        ("first_contact", "no first-contact flag or first-contact status"),
        ("kb_articles", "no knowledge-base article on any ticket"),
        ("sla", "no SLA due date or SLA verdict"),
        ("notes", "no escalation notes"),
    ):
        names = [m.name for m in METRICS if need in m.needs]
        assert names, need
        assert (f"{len(names)} KPIs are not measurable from these exports ({what}): "
                f"{', '.join(names)}") in run.err
    # every KPI without a value is explained by what the export lacks: none "has no case"
    assert "no case in the period" not in run.err


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
