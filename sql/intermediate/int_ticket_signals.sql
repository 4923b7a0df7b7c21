-- What each ticket's events can tell (int_source_capabilities gathers them by
-- source): whether its group / status history spans two or more lines of the
-- export (a history, not one incident row made into events), whether an event
-- carries a note, and whether one has a first-contact status.
-- incremental: by ticket_id
-- test unique: ticket_id
-- test not_null: ticket_id, has_group_history, has_status_history, has_notes, has_first_contact_status

with events as (
    select * from int_ticket_events
),

first_contact_statuses as (
    select * from config.first_contact_statuses
),

lines as (
    select
        ticket_id,
        -- two or more distinct lines: the first and the last differ
        min((batch_id, source_line)) filter (where group_name is not null)
            <> max((batch_id, source_line)) filter (where group_name is not null)
            as has_group_history,
        min((batch_id, source_line)) filter (where status_class is not null)
            <> max((batch_id, source_line)) filter (where status_class is not null)
            as has_status_history,
        bool_or(note_text is not null and note_kind is not null) as has_notes,
        bool_or(status_key in (select status_key from first_contact_statuses))
            as has_first_contact_status
    from events
    group by ticket_id
),

final as (
    select
        ticket_id,
        coalesce(has_group_history, false) as has_group_history,
        coalesce(has_status_history, false) as has_status_history,
        coalesce(has_notes, false) as has_notes,
        coalesce(has_first_contact_status, false) as has_first_contact_status
    from lines
)

select * from final
