-- How every KPI is judged, once: one row per metric and partner, and one per
-- metric with no partner (overall and every other dimension), with the target band
-- and the minimum sample. A partner's own target ([partner_targets.NAME]) replaces
-- the default ([targets], starting from the targets declared with the KPIs); a
-- metric's own minimum sample (the backlog's 0) replaces the config's min_sample.
-- kpi_weekly and `tierlens kpis` join this table; neither resolves a target itself.
-- incremental: lookup metric, partner -> label, green_min, green_max, red_below, red_above, min_sample
-- test unique: metric, partner
-- test not_null: metric, min_sample

with metrics as (
    select * from config.metrics
),

targets as (
    select * from config.targets
),

settings as (
    select * from config.settings
),

tickets as (
    select * from fct_tickets
),

partners as (
    select distinct partner from tickets
    union
    select distinct partner from targets where partner is not null
),

judged_groups as (
    select null::varchar as partner
    union all
    select partner from partners
),

final as (
    select
        metrics.metric,
        judged_groups.partner,
        coalesce(own.label, fallback.label) as label,
        case when own.metric is not null then own.green_min else fallback.green_min end
            as green_min,
        case when own.metric is not null then own.green_max else fallback.green_max end
            as green_max,
        case when own.metric is not null then own.red_below else fallback.red_below end
            as red_below,
        case when own.metric is not null then own.red_above else fallback.red_above end
            as red_above,
        coalesce(metrics.min_sample, settings.min_sample) as min_sample
    from metrics
    cross join judged_groups
    cross join settings
    left join targets as own
        on own.metric = metrics.metric and own.partner = judged_groups.partner
    left join targets as fallback
        on fallback.metric = metrics.metric and fallback.partner is null
)

select * from final
