-- Every change of tier up to the final resolution, with the change that follows it.
-- A rise is an escalation, a drop a de-escalation.
-- incremental: by ticket_id
-- test unique: ticket_id, event_index
-- test not_null: from_tier, to_tier
-- test expression: from_tier <> to_tier

with events as (
    select * from int_ticket_events
),

changes as (
    select
        ticket_id,
        partner,
        event_index,
        event_at,
        business_clock,
        final_resolution_index,
        n_ticket_events,
        prev_held_tier as from_tier,
        held_tier as to_tier,
        prev_held_group as from_group,
        held_group as to_group,
        prev_held_agent as from_agent,
        is_tier_rise
    from events
    where is_in_scope and is_tier_change
),

final as (
    select
        *,
        row_number() over ticket_changes as change_number,
        lag(event_index) over ticket_changes as prev_change_index,
        lead(event_index) over ticket_changes as next_change_index,
        lead(event_at) over ticket_changes as next_change_at,
        lead(to_tier) over ticket_changes as next_to_tier
    from changes
    window ticket_changes as (partition by ticket_id order by event_index)
)

select * from final
