-- What each source system can tell: whether it carries escalation notes at all,
-- KB articles at all, and whether it signals first contact resolution. Metrics that need a signal the
-- source does not carry are n/a for its tickets, never guessed.
-- test unique: source

with tickets as (
    select * from int_tickets
),

events as (
    select * from int_ticket_events
),

first_contact_statuses as (
    select * from config.first_contact_statuses
),

event_signals as (
    select
        tickets.source,
        bool_or(events.note_text is not null and events.note_kind is not null) as has_notes,
        bool_or(events.status_key in (select status_key from first_contact_statuses))
            as has_first_contact_status
    from events
    inner join tickets on tickets.ticket_id = events.ticket_id
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
            or ticket_signals.has_first_contact_flag as has_first_contact_signal
    from ticket_signals
    left join event_signals on event_signals.source = ticket_signals.source
)

select * from final
