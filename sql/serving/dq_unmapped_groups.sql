-- Data quality: the groups no tier rule matches whose events carry no tier label
-- either (a source tier label, as in the Volvo log, makes the tier map unnecessary).
-- Read by `tierlens reconcile` and the dashboard's data-quality page.
-- test unique: partner, group_name
-- test expression: n_events_without_tier > 0 and n_events >= n_events_without_tier

with group_tiers as (
    select * from int_group_tiers
),

final as (
    select
        partner,
        group_name,
        n_events,
        n_events_without_tier
    from group_tiers
    where mapped_tier is null and n_events_without_tier > 0
)

select * from final
