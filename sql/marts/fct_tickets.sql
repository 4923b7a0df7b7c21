-- One row per ticket: its path through the tiers, its state (resolved, open,
-- cancelled, or 'no events' for a ticket without a timeline), the week of its final
-- resolution and every ticket-level KPI flag. The clock starts at opened_at or the
-- first event, whichever is earlier (a ticket has no events before it is opened).
-- Every duration has a business-time twin (business_minutes_*), read from the
-- ticket's business clock (int_ticket_events, business_clock); the business minutes
-- at each tier leave out the paused spans. The timing rules read the clock [clocks]
-- names for them.
-- incremental: by ticket_id
-- test unique: ticket_id
-- test not_null: ticket_id, partner, state
-- test accepted_values: state in ('resolved', 'open', 'cancelled', 'no events')
-- test accepted_values: entry_tier in ('L1', 'L2', 'L3', 'L4')
-- test expression: state <> 'resolved' or (resolved_at is not null and week_start is not null)
-- test expression: not (is_l1_resolved and is_escalated)
-- test expression: n_escalations >= 0 and n_handoffs >= 0
-- test expression: n_handoffs_all >= n_handoffs and n_reopens_all >= n_reopens
-- test expression: business_minutes_to_resolve is null or business_minutes_to_resolve between 0 and minutes_to_resolve + 1e-6

with tickets as (
    select * from int_tickets
),

events as (
    select * from int_ticket_events
),

escalations as (
    select * from int_escalations
),

capabilities as (
    select * from int_source_capabilities
),

verdicts as (
    select * from meta.review_verdicts
),

settings as (
    select * from config.settings
),

l1_scope as (
    select * from config.l1_scope
),

late_thresholds as (
    select * from config.late_escalation_thresholds
),

clocks as (
    select * from config.clocks
),

ticket_calendars as (
    select * from int_ticket_calendars
),

calendar_days as (
    select * from config.calendar_days
),

first_contact_statuses as (
    select * from config.first_contact_statuses
),

opened_clocks as (
    select
        tickets.ticket_id,
        ticket_calendars.calendar,
        business_clock(
            tickets.opened_at,
            ticket_calendars.clock_calendar,
            calendar_days.minutes_before,
            calendar_days.starts,
            calendar_days.ends
        ) as opened_business_clock
    from tickets
    inner join ticket_calendars on ticket_calendars.ticket_id = tickets.ticket_id
    left join calendar_days
        on calendar_days.calendar = ticket_calendars.clock_calendar
        and calendar_days.day = utc_day(tickets.opened_at)
),

escalation_summary as (
    select
        ticket_id,
        count(*) as n_escalations,
        bool_or(is_bounceback) as is_bounced_back,
        max(escalation_number) as last_escalation_number
    from escalations
    group by ticket_id
),

first_escalation as (
    select * from escalations where escalation_number = 1
),

last_escalation as (
    select
        escalations.ticket_id,
        escalations.to_tier,
        escalations.picked_up_at,
        escalations.picked_up_business_clock,
        escalations.event_index
    from escalations
    inner join escalation_summary
        on escalation_summary.ticket_id = escalations.ticket_id
        and escalation_summary.last_escalation_number = escalations.escalation_number
),

-- One pass over the timeline: the figures of the events in scope (up to the final
-- resolution), and for reconciling with the source's own counters (which count
-- over the incident's whole life) the whole timeline's group changes, reopens, and
-- whether its events come from two or more lines of the export (one line = no
-- history, nothing to compare).
timeline as (
    select
        events.ticket_id,
        min(events.event_at) filter (where events.is_in_scope) as first_event_at,
        any_value(events.last_status_class) filter (where events.is_in_scope)
            as last_status_class,
        max(case when events.event_index = events.final_resolution_index then events.event_at end)
            filter (where events.is_in_scope) as resolved_at,
        max(case when events.event_index = events.final_resolution_index then events.status_key end)
            filter (where events.is_in_scope) as resolution_status_key,
        arg_min(events.held_tier, events.event_index)
            filter (where events.is_in_scope and events.held_tier is not null) as entry_tier,
        arg_min(events.held_group, events.event_index)
            filter (where events.is_in_scope and events.held_group is not null) as entry_group,
        arg_min(events.held_agent, events.event_index)
            filter (where events.is_in_scope and events.held_agent is not null) as entry_agent,
        arg_max(events.held_tier, events.event_index) filter (where events.is_in_scope)
            as resolving_tier,
        arg_max(events.held_group, events.event_index) filter (where events.is_in_scope)
            as resolving_group,
        arg_max(events.held_agent, events.event_index) filter (where events.is_in_scope)
            as resolving_agent,
        max(tier_rank(events.held_tier)) filter (where events.is_in_scope) as highest_tier_rank,
        count(*) filter (where events.is_in_scope and events.is_handoff) as n_handoffs,
        count(distinct events.held_group) filter (where events.is_in_scope) as n_distinct_groups,
        count(*) filter (where events.is_in_scope and events.is_tier_drop) as n_deescalations,
        count(*) filter (where events.is_in_scope and events.is_reopen) as n_reopens,
        sum(events.minutes_held) filter (where events.is_in_scope and events.held_tier = 'L1')
            as minutes_at_l1,
        sum(events.minutes_held) filter (where events.is_in_scope and events.held_tier = 'L2')
            as minutes_at_l2,
        sum(events.minutes_held) filter (where events.is_in_scope and events.held_tier = 'L3')
            as minutes_at_l3,
        sum(events.minutes_held) filter (where events.is_in_scope and events.held_tier = 'L4')
            as minutes_at_l4,
        min(events.business_clock) filter (where events.is_in_scope) as first_event_business_clock,
        max(
            case when events.event_index = events.final_resolution_index
                then events.business_clock end
        )
            filter (where events.is_in_scope) as resolved_business_clock,
        sum(events.business_minutes_held)
            filter (where events.is_in_scope and events.held_tier = 'L1' and not events.is_paused)
            as business_minutes_at_l1,
        sum(events.business_minutes_held)
            filter (where events.is_in_scope and events.held_tier = 'L2' and not events.is_paused)
            as business_minutes_at_l2,
        sum(events.business_minutes_held)
            filter (where events.is_in_scope and events.held_tier = 'L3' and not events.is_paused)
            as business_minutes_at_l3,
        sum(events.business_minutes_held)
            filter (where events.is_in_scope and events.held_tier = 'L4' and not events.is_paused)
            as business_minutes_at_l4,
        count(*) filter (
            where events.is_in_scope
            and events.is_handoff
            and events.event_index > last_escalation.event_index
        ) as n_handoffs_after,
        count(*) filter (where events.is_handoff) as n_handoffs_all,
        count(*) filter (where events.is_reopen) as n_reopens_all,
        -- two or more distinct lines: the first and the last differ
        min((events.batch_id, events.source_line)) <> max((events.batch_id, events.source_line))
            as has_event_lines
    from events
    left join last_escalation on last_escalation.ticket_id = events.ticket_id
    group by events.ticket_id
),

latest_verdicts as (
    select * from verdicts
    where should_escalate in ('yes', 'no', 'unsure')
    qualify row_number() over (
        partition by escalation_id order by reviewed_at desc, verdict_id desc
    ) = 1
),

reviewed as (
    select
        ticket_id,
        bool_or(should_escalate = 'no') as is_unnecessary_reviewed
    from latest_verdicts
    where should_escalate in ('yes', 'no')
    group by ticket_id
),

joined as (
    select
        tickets.*,
        timeline.* exclude (
            ticket_id, n_handoffs, n_distinct_groups, n_deescalations, n_reopens,
            n_handoffs_after, n_handoffs_all, n_reopens_all, has_event_lines
        ),
        coalesce(timeline.n_handoffs, 0) as n_handoffs,
        coalesce(timeline.n_distinct_groups, 0) as n_distinct_groups,
        coalesce(timeline.n_deescalations, 0) as n_deescalations,
        coalesce(timeline.n_reopens, 0) as n_reopens,
        coalesce(escalation_summary.n_escalations, 0) as n_escalations,
        coalesce(escalation_summary.is_bounced_back, false) as is_bounced_back,
        first_escalation.escalated_at as first_escalated_at,
        first_escalation.escalated_business_clock as first_escalated_business_clock,
        first_escalation.from_tier as first_escalation_from_tier,
        first_escalation.has_internal_note as first_escalation_has_internal_note,
        last_escalation.to_tier as last_escalation_to_tier,
        last_escalation.picked_up_at as last_escalation_picked_up_at,
        last_escalation.picked_up_business_clock as last_escalation_picked_up_business_clock,
        case
            when last_escalation.ticket_id is not null then coalesce(timeline.n_handoffs_after, 0)
        end as n_handoffs_after_last_escalation,
        reviewed.is_unnecessary_reviewed,
        coalesce(timeline.n_handoffs_all, 0) as n_handoffs_all,
        coalesce(timeline.n_reopens_all, 0) as n_reopens_all,
        coalesce(capabilities.has_group_history, false)
        and coalesce(timeline.has_event_lines, false) as can_count_reassignments,
        coalesce(capabilities.has_status_history, false)
        and coalesce(timeline.has_event_lines, false) as can_count_reopens,
        capabilities.has_first_contact_signal,
        capabilities.has_kb_articles as source_has_kb_articles,
        least(tickets.opened_at, timeline.first_event_at) as clock_start_at,
        opened_clocks.calendar,
        least(opened_clocks.opened_business_clock, timeline.first_event_business_clock)
            as clock_start_business_clock,
        settings.reporting_timezone,
        settings.week_start_offset,
        settings.quick_fix_minutes,
        settings.early_escalation_minutes,
        clocks.late_escalation_clock,
        clocks.early_escalation_clock,
        clocks.quick_fix_clock
    from tickets
    cross join settings
    cross join clocks
    inner join opened_clocks on opened_clocks.ticket_id = tickets.ticket_id
    left join timeline on timeline.ticket_id = tickets.ticket_id
    left join escalation_summary on escalation_summary.ticket_id = tickets.ticket_id
    left join first_escalation on first_escalation.ticket_id = tickets.ticket_id
    left join last_escalation on last_escalation.ticket_id = tickets.ticket_id
    left join reviewed on reviewed.ticket_id = tickets.ticket_id
    left join capabilities on capabilities.source = tickets.source
),

flagged as (
    select
        *,
        case
            when n_events = 0 then 'no events'
            when last_status_class in ('resolved', 'closed') then 'resolved'
            when last_status_class = 'cancelled' then 'cancelled'
            else 'open'
        end as state,
        n_escalations > 0 as is_escalated,
        n_reopens > 0 as is_reopened,
        n_handoffs >= 1 and n_handoffs + 1 > n_distinct_groups as is_pingpong,
        'L' || highest_tier_rank as highest_tier,
        minutes_between(clock_start_at, resolved_at) as minutes_to_resolve,
        case
            when entry_tier = 'L1' and first_escalation_from_tier = 'L1'
                then minutes_between(clock_start_at, first_escalated_at)
        end as minutes_to_escalate,
        resolved_business_clock - clock_start_business_clock as business_minutes_to_resolve,
        case
            when entry_tier = 'L1' and first_escalation_from_tier = 'L1'
                then first_escalated_business_clock - clock_start_business_clock
        end as business_minutes_to_escalate,
        coalesce(category_key in (select value_key from l1_scope where kind = 'category'), false)
        or coalesce(
            resolution_code_key in (select value_key from l1_scope where kind = 'resolution_code'),
            false
        ) as is_in_l1_scope,
        kb_article_key is not null
        and (
            kb_article_key in (select value_key from l1_scope where kind = 'kb_article')
            or exists (select 1 from l1_scope where kind = 'kb_article' and value_key = '*')
        ) as has_l1_kb_article,
        coalesce(
            (
                select threshold_minutes from late_thresholds
                where late_thresholds.category_key = joined.category_key
            ),
            (select threshold_minutes from late_thresholds where category_key = '*')
        ) as late_threshold_minutes
    from joined
),

final as (
    select
        * exclude (
            reporting_timezone, week_start_offset, quick_fix_minutes, early_escalation_minutes,
            first_escalation_has_internal_note, late_escalation_clock, early_escalation_clock,
            quick_fix_clock, first_event_business_clock, resolved_business_clock,
            clock_start_business_clock, first_escalated_business_clock,
            last_escalation_picked_up_business_clock
        ),
        case
            when state = 'resolved'
                then reporting_week(resolved_at, reporting_timezone, week_start_offset)
        end as week_start,
        entry_tier = 'L1' and not is_escalated and not is_reopened as is_l1_resolved,
        case
            when source_has_kb_articles then resolving_tier = 'L1' and kb_article_id is not null
        end as is_kb_deflected,
        case
            when first_contact_resolved is not null then first_contact_resolved
            when has_first_contact_signal
                then coalesce(
                    resolution_status_key in (select status_key from first_contact_statuses),
                    false
                )
        end as is_first_contact_resolution,
        case late_escalation_clock
            when 'business' then business_minutes_to_escalate
            else minutes_to_escalate
        end > late_threshold_minutes as is_late_escalation,
        case early_escalation_clock
            when 'business' then business_minutes_to_escalate
            else minutes_to_escalate
        end < early_escalation_minutes
        and not first_escalation_has_internal_note as is_early_escalation,
        is_escalated and is_in_l1_scope as is_unnecessary_by_scope,
        is_escalated and coalesce(has_l1_kb_article, false) as is_unnecessary_by_kb,
        coalesce(
            is_escalated
            and last_escalation_to_tier = resolving_tier
            and n_handoffs_after_last_escalation = 0
            and case quick_fix_clock
                when 'business'
                    then resolved_business_clock - last_escalation_picked_up_business_clock
                else minutes_between(last_escalation_picked_up_at, resolved_at)
            end <= quick_fix_minutes,
            false
        ) as is_unnecessary_by_quick_fix,
        is_unnecessary_by_scope or is_unnecessary_by_kb or is_unnecessary_by_quick_fix
            as is_unnecessary_rules,
        coalesce(is_unnecessary_reviewed, is_unnecessary_rules) as is_unnecessary,
        case
            when sla_met is not null then not sla_met
            when sla_due_at is not null and resolved_at is not null then resolved_at > sla_due_at
        end as is_sla_breached
    from flagged
)

select * from final
