-- What each source system can tell: whether it carries escalation notes at all,
-- KB articles at all, and whether it signals first contact resolution. Metrics that need a signal the
-- source does not carry are n/a for its tickets, never guessed.
-- has_group_history / has_status_history: whether its events are a history of the
-- group / the status (some ticket has them on events from two or more lines of the
-- export), so that reassignments / reopens can be counted from them. A plain
-- incident list (one row per incident, its dates made into events) has neither:
-- its counters are not measurable, and reconcile says so.
-- incremental: lookup source -> has_notes, has_kb_articles, has_first_contact_signal, has_group_history, has_status_history
-- test unique: source

with tickets as (
    select * from int_tickets
),

signals as (
    select * from int_ticket_signals
),

event_signals as (
    select
        tickets.source,
        bool_or(signals.has_group_history) as has_group_history,
        bool_or(signals.has_status_history) as has_status_history,
        bool_or(signals.has_notes) as has_notes,
        bool_or(signals.has_first_contact_status) as has_first_contact_status
    from signals
    inner join tickets on tickets.ticket_id = signals.ticket_id
    group by tickets.source
),

ticket_signals as (
    select
        source,
        bool_or(first_contact_resolved is not null) as has_first_contact_flag,
        bool_or(kb_article_id is not null) as has_kb_articles
    from tickets
    group by source
),

final as (
    select
        ticket_signals.source,
        coalesce(event_signals.has_notes, false) as has_notes,
        ticket_signals.has_kb_articles,
        coalesce(event_signals.has_first_contact_status, false)
            or ticket_signals.has_first_contact_flag as has_first_contact_signal,
        coalesce(event_signals.has_group_history, false) as has_group_history,
        coalesce(event_signals.has_status_history, false) as has_status_history
    from ticket_signals
    left join event_signals on event_signals.source = ticket_signals.source
)

select * from final
