"""What the verdicts ask for: the review's action list, as pure polars functions.

Verdict rows in, action tables out (no SQL, no files), so the dashboard's review
page and `tierlens report` show the same list and tests check it on hand-made
frames:

* `latest`: the standing verdict per escalation (a later one supersedes).
* `with_verdicts`: sample items with their standing verdict and `is_unnecessary`.
* `kb_articles`: KB articles to write, by category, with the tickets that asked.
* `access_tooling`: access or tooling L1 lacked, with the reviewers' free text.
* `coaching`: escalating agents with too-early, too-late or needless escalations.

The action functions take "action rows": standing verdicts joined with the
escalation's week_start, category and escalating_agent (see `action_rows`).
Every action table carries `count` and `trend`: the count per week, over every
week that has verdicts (`trend_weeks`), oldest first.
"""

from __future__ import annotations

from datetime import date

import polars as pl

VERDICT_SCHEMA: dict[str, pl.DataType] = {
    "verdict_id": pl.String(),
    "escalation_id": pl.String(),
    "ticket_id": pl.String(),
    "sample_id": pl.String(),
    "reviewer": pl.String(),
    "reviewed_at": pl.Datetime("us", "UTC"),
    "should_escalate": pl.String(),
    "timing": pl.String(),
    "l1_need": pl.String(),
    "l1_need_text": pl.String(),
    "kb_article_to_write": pl.String(),
}
VERDICT_FIELDS = ("reviewer", "reviewed_at", "should_escalate", "timing", "l1_need")
VERDICT_TEXTS = ("l1_need_text", "kb_article_to_write")
CONTEXT_COLUMNS = ("escalation_id", "week_start", "category", "escalating_agent")
NO_CATEGORY = "(none)"
NO_AGENT = "(unknown agent)"


def empty_verdicts() -> pl.DataFrame:
    return pl.DataFrame(schema=VERDICT_SCHEMA)


def latest(verdicts: pl.DataFrame) -> pl.DataFrame:
    """The standing verdict per escalation: the latest reviewed_at (then verdict_id)
    wins; the same verdict seen twice (database and journal) counts once."""
    return (
        verdicts.unique("verdict_id", keep="first")
        .sort(["reviewed_at", "verdict_id"], descending=True, nulls_last=True)
        .unique("escalation_id", keep="first", maintain_order=True)
    )


def with_verdicts(items: pl.DataFrame, verdicts: pl.DataFrame) -> pl.DataFrame:
    """Sample items with their escalation's standing verdict (null when none) and
    is_unnecessary: 1 for 'no', 0 for 'yes', null for 'unsure' or not reviewed,
    as pipelines.review.store does in SQL."""
    standing = latest(verdicts).select("escalation_id", *VERDICT_FIELDS, *VERDICT_TEXTS)
    return (
        items.drop([c for c in (*VERDICT_FIELDS, *VERDICT_TEXTS) if c in items.columns])
        .join(standing, on="escalation_id", how="left")
        .with_columns(
            is_unnecessary=pl.col("should_escalate").replace_strict(
                {"no": 1, "yes": 0}, default=None, return_dtype=pl.Int32
            )
        )
    )


def action_rows(verdicts: pl.DataFrame, context: pl.DataFrame) -> pl.DataFrame:
    """Standing verdicts with their escalation's week_start, category and agent.

    `context` has escalation_id, week_start, category, escalating_agent (e.g. from
    analytics.review_candidates); a verdict on an escalation it lacks is left out
    (it cannot be placed in a week)."""
    known = context.select(CONTEXT_COLUMNS).unique("escalation_id", keep="first")
    return (
        latest(verdicts)
        .join(known, on="escalation_id", how="inner")
        .with_columns(
            category=pl.col("category").fill_null(NO_CATEGORY),
            escalating_agent=pl.col("escalating_agent").fill_null(NO_AGENT),
            l1_need_text=_text("l1_need_text"),
            kb_article_to_write=_text("kb_article_to_write"),
        )
    )


def _text(column: str) -> pl.Expr:
    """Trimmed free text; empty is null."""
    value = pl.col(column).str.strip_chars()
    return pl.when(value.str.len_chars() > 0).then(value)


def trend_weeks(rows: pl.DataFrame) -> list[date]:
    """The weeks a trend counts over: every week with a verdict, oldest first."""
    return rows.select(pl.col("week_start").unique().sort())["week_start"].to_list()


def _with_trend(
    table: pl.DataFrame, hits: pl.DataFrame, rows: pl.DataFrame, keys: list[str]
) -> pl.DataFrame:
    """`table` plus trend: hits per key and week over trend_weeks(rows), 0 when none."""
    weeks = rows.select(pl.col("week_start").unique().sort())
    counts = hits.group_by([*keys, "week_start"]).agg(n=pl.len())
    trend = (
        table.select(keys)
        .join(weeks, how="cross")
        .join(counts, on=[*keys, "week_start"], how="left")
        .with_columns(pl.col("n").fill_null(0).cast(pl.Int64))
        .sort("week_start")
        .group_by(keys, maintain_order=True)
        .agg(trend=pl.col("n"))
    )
    return table.join(trend, on=keys, how="left").with_columns(
        trend=pl.col("trend").fill_null(pl.lit([], dtype=pl.List(pl.Int64)))
    )


def kb_articles(rows: pl.DataFrame) -> pl.DataFrame:
    """KB articles to write, by category: count (escalations that needed one),
    tickets, articles (the names reviewers suggested) and trend; most asked first."""
    hits = rows.filter(
        (pl.col("l1_need") == "kb article") | pl.col("kb_article_to_write").is_not_null()
    )
    table = hits.group_by("category").agg(
        count=pl.len().cast(pl.Int64),
        tickets=pl.col("ticket_id").unique().sort(),
        articles=pl.col("kb_article_to_write").drop_nulls().unique().sort(),
    )
    return _with_trend(table, hits, rows, ["category"]).sort(
        ["count", "category"], descending=[True, False]
    )


def access_tooling(rows: pl.DataFrame) -> pl.DataFrame:
    """Access or tooling L1 lacked, by need and category: count, tickets, requests
    (the reviewers' free text) and trend; most frequent first."""
    hits = rows.filter(pl.col("l1_need").is_in(["access", "tooling"])).rename({"l1_need": "need"})
    table = hits.group_by("need", "category").agg(
        count=pl.len().cast(pl.Int64),
        tickets=pl.col("ticket_id").unique().sort(),
        requests=pl.col("l1_need_text").drop_nulls().unique().sort(),
    )
    return _with_trend(table, hits, rows, ["need", "category"]).sort(
        ["count", "need", "category"], descending=[True, False, False]
    )


def coaching(rows: pl.DataFrame) -> pl.DataFrame:
    """Escalating agents whose reviewed escalations were too early, too late or not
    needed: reviewed, too_early, too_late, not_needed, training (L1 needs
    training), count (escalations with any of the first three), pattern and trend."""
    flagged = rows.with_columns(
        too_early=pl.col("timing") == "too early",
        too_late=pl.col("timing") == "too late",
        not_needed=pl.col("should_escalate") == "no",
        training=pl.col("l1_need") == "training",
    ).with_columns(issue=pl.col("too_early") | pl.col("too_late") | pl.col("not_needed"))
    table = (
        flagged.group_by("escalating_agent")
        .agg(
            reviewed=pl.len().cast(pl.Int64),
            too_early=pl.col("too_early").sum().cast(pl.Int64),
            too_late=pl.col("too_late").sum().cast(pl.Int64),
            not_needed=pl.col("not_needed").sum().cast(pl.Int64),
            training=pl.col("training").sum().cast(pl.Int64),
            count=pl.col("issue").sum().cast(pl.Int64),
        )
        .filter((pl.col("count") > 0) | (pl.col("training") > 0))
        .with_columns(pattern=_pattern())
    )
    hits = flagged.filter(pl.col("issue"))
    return _with_trend(table, hits, rows, ["escalating_agent"]).sort(
        ["count", "escalating_agent"], descending=[True, False]
    )


def _pattern() -> pl.Expr:
    """The agent's most frequent problem, in words."""
    early, late, needless = pl.col("too_early"), pl.col("too_late"), pl.col("not_needed")
    return (
        pl.when((needless >= early) & (needless >= late) & (needless > 0))
        .then(pl.lit("escalates what L1 could solve"))
        .when((early >= late) & (early > 0))
        .then(pl.lit("escalates too early"))
        .when(late > 0)
        .then(pl.lit("escalates too late"))
        .otherwise(pl.lit("needs training"))
    )


def trend_text(column: str = "trend") -> pl.Expr:
    """A trend list as text, oldest week first: '1 · 0 · 3'."""
    return pl.col(column).list.eval(pl.element().cast(pl.String)).list.join(" · ")


FINDING_KINDS: dict[str, str] = {
    "kb": "KB article to write",
    "access_tooling": "Access or tooling",
    "coaching": "Coaching (too early, too late, not needed)",
}


def weekly_findings(rows: pl.DataFrame) -> pl.DataFrame:
    """One row per kind of action (FINDING_KINDS, in that order): kind, count and
    trend (escalations asking for it per week over trend_weeks(rows))."""
    flagged = rows.select(
        "week_start",
        kb=(pl.col("l1_need") == "kb article") | pl.col("kb_article_to_write").is_not_null(),
        access_tooling=pl.col("l1_need").is_in(["access", "tooling"]),
        coaching=pl.col("timing").is_in(["too early", "too late"])
        | (pl.col("should_escalate") == "no"),
    )
    long = flagged.unpivot(index="week_start", variable_name="key", value_name="hit").filter(
        pl.col("hit").fill_null(False)
    )
    kinds = pl.DataFrame(
        {"key": list(FINDING_KINDS), "kind": list(FINDING_KINDS.values())}
    ).with_row_index("order")
    table = kinds.join(
        long.group_by("key").agg(count=pl.len().cast(pl.Int64)), on="key", how="left"
    )
    return (
        _with_trend(table.with_columns(pl.col("count").fill_null(0)), long, rows, ["key"])
        .sort("order")
        .select("kind", "count", "trend")
    )
