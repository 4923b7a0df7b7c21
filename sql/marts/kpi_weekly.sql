-- The KPI table by week of final resolution: overall and by each dimension
-- (partner, client, category, priority, group, agent), one row per metric, with
-- numerator, denominator, 95% Wilson interval, target and status. Partner rows are
-- judged against that partner's own targets where the config sets them.
-- test unique: week_start, dimension, dimension_value, metric
-- test not_null: dimension, metric, status
-- test accepted_values: status in ('green', 'amber', 'red', 'insufficient', 'n/a', 'no target')
-- test expression: stat not in ('rate', 'share') or numerator <= denominator
-- test expression: ci_low is null or (ci_low <= value + 1e-9 and value <= ci_high + 1e-9)

with facts as (
    select * from kpi_facts
),

metric_facts as (
    select * from config.metric_facts
),

targets as (
    select * from config.targets
),

settings as (
    select * from config.settings
),

aggregated as (
    select
        facts.week_start,
        case
            when grouping(facts.partner) = 0 then 'partner'
            when grouping(facts.client) = 0 then 'client'
            when grouping(facts.category) = 0 then 'category'
            when grouping(facts.priority) = 0 then 'priority'
            when grouping(facts.group_name) = 0 then 'group'
            when grouping(facts.agent) = 0 then 'agent'
            else 'overall'
        end as dimension,
        case
            when grouping(facts.partner) = 0 then facts.partner
            when grouping(facts.client) = 0 then coalesce(facts.client, '(none)')
            when grouping(facts.category) = 0 then coalesce(facts.category, '(none)')
            when grouping(facts.priority) = 0 then coalesce(facts.priority, '(none)')
            when grouping(facts.group_name) = 0 then coalesce(facts.group_name, '(none)')
            when grouping(facts.agent) = 0 then coalesce(facts.agent, '(none)')
            else 'all'
        end as dimension_value,
        metric_facts.metric,
        metric_facts.stat,
        kpi_value(
            metric_facts.stat, facts.numerator, facts.denominator, facts.measure, metric_facts.is_base
        ) as value,
        sum(facts.numerator) filter (where not metric_facts.is_base) as numerator,
        sum(facts.denominator) filter (where not metric_facts.is_base) as denominator,
        kpi_sample(metric_facts.stat, facts.denominator, facts.measure, metric_facts.is_base) as sample
    from facts
    inner join metric_facts on metric_facts.fact = facts.fact
    group by grouping sets (
        (facts.week_start, metric_facts.metric, metric_facts.stat),
        (facts.week_start, metric_facts.metric, metric_facts.stat, facts.partner),
        (facts.week_start, metric_facts.metric, metric_facts.stat, facts.client),
        (facts.week_start, metric_facts.metric, metric_facts.stat, facts.category),
        (facts.week_start, metric_facts.metric, metric_facts.stat, facts.priority),
        (facts.week_start, metric_facts.metric, metric_facts.stat, facts.group_name),
        (facts.week_start, metric_facts.metric, metric_facts.stat, facts.agent)
    )
),

final as (
    select
        aggregated.*,
        case when aggregated.stat = 'rate' then wilson_low(aggregated.numerator, aggregated.denominator) end
            as ci_low,
        case when aggregated.stat = 'rate' then wilson_high(aggregated.numerator, aggregated.denominator) end
            as ci_high,
        target.label as target,
        kpi_status(
            aggregated.value,
            aggregated.sample,
            case when aggregated.stat = 'count' then 0 else settings.min_sample end,
            target.green_min,
            target.green_max,
            target.red_below,
            target.red_above
        ) as status
    from aggregated
    cross join settings
    left join targets as target
        on target.metric = aggregated.metric
        and (
            target.partner = aggregated.dimension_value and aggregated.dimension = 'partner'
            or target.partner is null and not exists (
                select 1 from targets as own
                where own.metric = aggregated.metric
                    and own.partner = aggregated.dimension_value
                    and aggregated.dimension = 'partner'
            )
        )
)

select * from final
