-- Each ticket's ping-pong: the pairs of groups it went A -> B -> A between (in
-- scope, consecutive runs of the group holding it), with how many times.
-- pingpong_pairs counts them by week and dimension.
-- incremental: by ticket_id
-- test unique: ticket_id, group_a, group_b
-- test not_null: ticket_id, group_a, group_b, n_bounces

with events as (
    select * from int_ticket_events
),

group_runs as (
    select
        ticket_id,
        event_index,
        held_group,
        lag(held_group) over (partition by ticket_id order by event_index) as prev_group
    from events
    where is_in_scope and held_group is not null
),

group_sequence as (
    select
        ticket_id,
        held_group,
        lag(held_group) over ticket_order as middle_group,
        lag(held_group, 2) over ticket_order as first_group
    from group_runs
    where prev_group is null or held_group <> prev_group
    window ticket_order as (partition by ticket_id order by event_index)
),

final as (
    select
        ticket_id,
        held_group as group_a,
        middle_group as group_b,
        count(*) as n_bounces
    from group_sequence
    where first_group = held_group
    group by all
)

select * from final
