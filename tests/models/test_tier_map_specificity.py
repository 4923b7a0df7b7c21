"""Which tier rule wins when several match a group: the most specific pattern.

Real Volvo team names carry an organisation code and the line: `L1 2nd` is a second
line team (its events say ST Level L2), yet the default L1 pattern (`l1`) matches it
as well as the L2 one (`2nd`). The pattern whose match covers the longer part of the
name wins (`2nd`, 3 characters, over `L1`, 2); on a tie, the first listed.
"""

from __future__ import annotations

from pathlib import Path

from pipelines.config import Config, TierRule
from pipelines.ingest.job import run_ingest
from pipelines.models.runner import run_build
from tests.adapters.helpers import rows

# no tier column: every tier comes from the tier map
EVENTS = """\
ticket_id,event_at,group,status
T1,2024-03-04 09:00,L1 2nd,Queued
T2,2024-03-04 09:00,V13 2nd 3rd,Queued
T3,2024-03-04 09:00,Service Desk,Queued
T4,2024-03-04 09:00,Network Ops L3,Queued
T5,2024-03-04 09:00,Network,Queued
"""


def _build(tmp_path: Path, config: Config) -> Path:
    export = tmp_path / "events.csv"
    export.write_text(EVENTS, encoding="utf-8")
    db = tmp_path / "t.duckdb"
    run_ingest([export], db, config, fmt="canonical", kind="events")
    run_build(db, config)
    return db


def test_default_map_prefers_the_longest_match(tmp_path):
    db = _build(tmp_path, Config())
    # L1 2nd: 'L1' (L1 rule, 2 chars) vs '2nd' (L2 rule, 3 chars) -> L2
    # V13 2nd 3rd: '2nd' (L2) vs '3rd' (L3), a tie -> the first listed, L2
    # Service Desk: only the L1 rule. Network Ops L3: only L3. Network: no rule.
    assert rows(db, "select group_name, mapped_tier, matched_rule from analytics.int_group_tiers "
                    "order by group_name") == [
        ("L1 2nd", "L2", 1), ("Network", None, None), ("Network Ops L3", "L3", 2),
        ("Service Desk", "L1", 0), ("V13 2nd 3rd", "L2", 1),
    ]
    assert rows(db, "select ticket_id, entry_tier from analytics.fct_tickets order by 1") == [
        ("T1", "L2"), ("T2", "L2"), ("T3", "L1"), ("T4", "L3"), ("T5", None),
    ]


def test_a_more_specific_user_rule_wins_whatever_its_place(tmp_path):
    config = Config(tier_map=[
        TierRule(pattern="(?i)network", tier="L2"),
        TierRule(pattern="(?i)network ops", tier="L3"),  # listed second, matches more
        TierRule(group="network", tier="L4"),  # an exact name beats any pattern
    ])
    db = _build(tmp_path, config)
    assert rows(db, "select group_name, mapped_tier from analytics.int_group_tiers "
                    "where mapped_tier is not null order by group_name") == [
        ("Network", "L4"), ("Network Ops L3", "L3"),
    ]
