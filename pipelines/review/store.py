"""Reading samples back with their verdicts, for the CLI, the dashboard and the report."""

from __future__ import annotations

import duckdb
import polars as pl

from pipelines.db import polars_frame

SAMPLE_ITEMS_SQL = """
with latest as (
    select * from meta.review_verdicts
    qualify row_number() over (
        partition by escalation_id order by reviewed_at desc, verdict_id desc
    ) = 1
)
select
    items.sample_id,
    items.position,
    items.escalation_id,
    items.ticket_id,
    items.stratum,
    items.is_suspicious,
    items.suspicion_reasons,
    items.stratum_population,
    items.stratum_sample,
    items.weight,
    candidates.partner,
    candidates.category,
    candidates.from_tier,
    candidates.to_tier,
    candidates.escalating_agent,
    candidates.is_rule_unnecessary,
    latest.reviewer,
    latest.reviewed_at,
    latest.should_escalate,
    latest.timing,
    latest.l1_need,
    latest.l1_need_text,
    latest.kb_article_to_write,
    case latest.should_escalate when 'no' then 1 when 'yes' then 0 end as is_unnecessary
from meta.review_sample_items as items
left join analytics.review_candidates as candidates
    on candidates.escalation_id = items.escalation_id
left join latest on latest.escalation_id = items.escalation_id
where items.sample_id = $sample_id
order by items.position
"""


def sample_items(con: duckdb.DuckDBPyConnection, sample_id: str) -> pl.DataFrame:
    return polars_frame(con.sql(SAMPLE_ITEMS_SQL, params={"sample_id": sample_id}))


def samples(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return polars_frame(con.sql(
        """select s.*, count(v.verdict_id) as n_verdicts
           from meta.review_samples s
           left join meta.review_sample_items i using (sample_id)
           left join meta.review_verdicts v on v.escalation_id = i.escalation_id
           group by all order by s.week_start desc, s.created_at desc"""
    ))
