-- The tier of each (partner, group) pair, from the tier map. When several rules
-- match: a partner's own rules first, then exact names before patterns, then the
-- most specific pattern (the one whose match covers the longest part of the name:
-- in 'L1 2nd', '2nd' beats 'L1'), then rule order. A group no rule matches keeps a
-- null tier and is reported as unmapped, never dropped. n_events_without_tier counts
-- the group's events that carry no tier label of their own: an unmapped group whose
-- events all carry one (the Volvo log's ST Level) needs no rule.
-- incremental: lookup partner, group_name -> mapped_tier, matched_rule
-- test unique: partner, group_name
-- test accepted_values: mapped_tier in ('L1', 'L2', 'L3', 'L4')

with events as (
    select * from stg_events
),

tickets as (
    select * from int_tickets
),

rules as (
    select * from config.tier_rules
),

groups as (
    select
        tickets.partner,
        events.group_name,
        count(*) as n_events,
        count(*) filter (where events.tier_from_label is null) as n_events_without_tier
    from events
    inner join tickets on tickets.ticket_id = events.ticket_id
    where events.group_name is not null
    group by all
),

matches as (
    select
        groups.partner,
        groups.group_name,
        rules.tier,
        rules.rule_order,
        rules.partner is null as is_global_rule,
        rules.group_exact is null as is_pattern_rule,
        case
            when rules.group_exact is null
                then length(regexp_extract(groups.group_name, rules.pattern))
        end as match_length
    from groups
    inner join rules
        on (rules.partner is null or rules.partner = groups.partner)
        and (
            rules.group_exact = lower(trim(groups.group_name))
            or regexp_matches(groups.group_name, rules.pattern)
        )
),

best_match as (
    select * from matches
    qualify row_number() over (
        partition by partner, group_name
        order by is_global_rule, is_pattern_rule, match_length desc nulls last, rule_order
    ) = 1
),

final as (
    select
        groups.partner,
        groups.group_name,
        groups.n_events,
        groups.n_events_without_tier,
        best_match.tier as mapped_tier,
        best_match.rule_order as matched_rule
    from groups
    left join best_match
        on best_match.partner = groups.partner
        and best_match.group_name = groups.group_name
)

select * from final
