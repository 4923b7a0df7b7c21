"""The action list on hand-made verdict frames: supersession, grouping, counts, trends."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl

from pipelines.review.actions import (
    VERDICT_SCHEMA,
    access_tooling,
    action_rows,
    coaching,
    empty_verdicts,
    kb_articles,
    latest,
    trend_text,
    trend_weeks,
    weekly_findings,
    with_verdicts,
)

W1, W2, W3 = date(2025, 3, 3), date(2025, 3, 10), date(2025, 3, 17)


def _verdicts(*rows: tuple) -> pl.DataFrame:
    """(verdict_id, escalation_id, day, should_escalate, timing, l1_need, text, article)"""
    return pl.DataFrame(
        [
            {
                "verdict_id": vid,
                "escalation_id": esc,
                "ticket_id": esc.split("#")[0],
                "sample_id": "s",
                "reviewer": "ana",
                "reviewed_at": datetime(2025, 3, day, 9, tzinfo=UTC),
                "should_escalate": decision,
                "timing": timing,
                "l1_need": need,
                "l1_need_text": text,
                "kb_article_to_write": article,
            }
            for vid, esc, day, decision, timing, need, text, article in rows
        ],
        schema=VERDICT_SCHEMA,
    )


CONTEXT = pl.DataFrame(
    {
        "escalation_id": ["T1#2", "T2#3", "T3#2", "T4#4", "T5#2", "T6#2"],
        "week_start": [W1, W1, W2, W2, W3, W3],
        "category": ["Email", "Email", "Network", "Email", None, "Network"],
        "escalating_agent": ["ana", "bob", "ana", "bob", "ana", None],
    }
)

VERDICTS = _verdicts(
    # T1#2 first judged needed, then superseded: not needed, a KB article
    ("v1", "T1#2", 4, "yes", "right", "nothing", None, None),
    ("v2", "T1#2", 5, "no", "too early", "kb article", None, "Reset a mailbox rule"),
    ("v3", "T2#3", 5, "no", "too early", "kb article", "", "  Shared mailbox access  "),
    ("v4", "T3#2", 11, "yes", "too late", "access", "VPN admin role", None),
    ("v5", "T4#4", 12, "no", "right", "kb article", None, "Reset a mailbox rule"),
    ("v6", "T5#2", 18, "unsure", None, "tooling", "remote tool", None),
    ("v7", "T6#2", 19, "yes", "right", "training", None, None),
    ("v8", "X9#1", 19, "no", None, "access", "not in context", None),
)


def _rows() -> pl.DataFrame:
    return action_rows(VERDICTS, CONTEXT)


def test_latest_verdict_wins_and_duplicates_count_once():
    doubled = pl.concat([VERDICTS, VERDICTS.head(2)])
    standing = latest(doubled)
    assert standing.height == 7
    t1 = standing.filter(pl.col("escalation_id") == "T1#2").row(0, named=True)
    assert t1["verdict_id"] == "v2" and t1["should_escalate"] == "no"


def test_with_verdicts_sets_is_unnecessary():
    items = pl.DataFrame({"escalation_id": ["T1#2", "T3#2", "T5#2", "Z#1"], "weight": [1.0] * 4})
    joined = with_verdicts(items, VERDICTS)
    assert joined["is_unnecessary"].to_list() == [1, 0, None, None]
    assert joined["timing"].to_list() == ["too early", "too late", None, None]
    assert with_verdicts(items, empty_verdicts())["is_unnecessary"].null_count() == 4


def test_action_rows_drop_escalations_without_context_and_fill_names():
    rows = _rows()
    assert sorted(rows["escalation_id"]) == ["T1#2", "T2#3", "T3#2", "T4#4", "T5#2", "T6#2"]
    assert trend_weeks(rows) == [W1, W2, W3]
    t5 = rows.filter(pl.col("escalation_id") == "T5#2").row(0, named=True)
    assert t5["category"] == "(none)"
    t2 = rows.filter(pl.col("escalation_id") == "T2#3").row(0, named=True)
    assert t2["kb_article_to_write"] == "Shared mailbox access" and t2["l1_need_text"] is None


def test_kb_articles_by_category_with_tickets_names_and_trend():
    table = kb_articles(_rows())
    assert table["category"].to_list() == ["Email"]
    row = table.row(0, named=True)
    assert row["count"] == 3
    assert row["tickets"] == ["T1", "T2", "T4"]
    assert row["articles"] == ["Reset a mailbox rule", "Shared mailbox access"]
    assert row["trend"] == [2, 1, 0]
    assert table.select(trend_text())["trend"].to_list() == ["2 · 1 · 0"]


def test_access_and_tooling_requests_keep_the_free_text():
    table = access_tooling(_rows())
    assert table.select("need", "category", "count").rows() == [
        ("access", "Network", 1),
        ("tooling", "(none)", 1),
    ]
    assert table["requests"].to_list() == [["VPN admin role"], ["remote tool"]]
    assert table["trend"].to_list() == [[0, 1, 0], [0, 0, 1]]


def test_coaching_counts_patterns_by_agent():
    table = coaching(_rows())
    by_agent = {r["escalating_agent"]: r for r in table.to_dicts()}
    assert set(by_agent) == {"ana", "bob", "(unknown agent)"}
    ana, bob = by_agent["ana"], by_agent["bob"]
    assert (ana["reviewed"], ana["too_early"], ana["too_late"], ana["not_needed"]) == (3, 1, 1, 1)
    assert ana["count"] == 2 and ana["trend"] == [1, 1, 0]
    assert (bob["too_early"], bob["not_needed"], bob["count"]) == (1, 2, 2)
    assert bob["pattern"] == "escalates what L1 could solve"
    unknown = by_agent["(unknown agent)"]
    assert unknown["training"] == 1 and unknown["count"] == 0
    assert unknown["pattern"] == "needs training" and unknown["trend"] == [0, 0, 0]
    assert table["escalating_agent"].to_list()[-1] == "(unknown agent)"


def test_no_verdicts_give_empty_tables():
    rows = action_rows(empty_verdicts(), CONTEXT)
    for table in (kb_articles(rows), access_tooling(rows), coaching(rows)):
        assert table.is_empty() and "trend" in table.columns and "count" in table.columns


def test_weekly_findings_count_each_kind_per_week():
    table = weekly_findings(_rows())
    assert table.rows() == [
        ("KB article to write", 3, [2, 1, 0]),
        ("Access or tooling", 2, [0, 1, 1]),
        ("Coaching (too early, too late, not needed)", 4, [2, 2, 0]),
    ]
    empty = weekly_findings(action_rows(empty_verdicts(), CONTEXT))
    assert empty["count"].to_list() == [0, 0, 0]
