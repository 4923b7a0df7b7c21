-- Every ticket seen in either input, with its attributes and its source system.
-- A ticket known only from events belongs to the default partner. Tickets the
-- build quarantined (quarantined_tickets, the build's own list beside its models:
-- they failed a data test) are left out here, so that no model after this one
-- sees them.
-- incremental: by ticket_id
-- test unique: ticket_id
-- test not_null: ticket_id, partner

with tickets as (
    select * from stg_tickets
),

events as (
    select * from stg_events
),

batches as (
    select * from meta.batches
),

settings as (
    select * from config.settings
),

quarantine as (
    select * from quarantined_tickets
),

event_tickets as (
    select
        ticket_id,
        count(*) as n_events,
        arg_min(batch_id, batch_id) as first_batch_id
    from events
    group by ticket_id
),

all_ids as (
    select ticket_id from tickets
    union
    select ticket_id from event_tickets
),

kept_ids as (
    select ticket_id from all_ids
    where ticket_id not in (select ticket_id from quarantine)
),

final as (
    select
        kept_ids.ticket_id,
        coalesce(tickets.partner, settings.default_partner) as partner,
        tickets.client,
        tickets.opened_at,
        tickets.priority,
        tickets.category,
        tickets.category_key,
        tickets.subcategory,
        tickets.channel,
        tickets.resolution_code,
        tickets.resolution_code_key,
        tickets.kb_article_id,
        tickets.kb_article_key,
        tickets.sla_due_at,
        tickets.sla_met,
        tickets.reported_reassignment_count,
        tickets.reported_reopen_count,
        tickets.first_contact_resolved,
        coalesce(event_tickets.n_events, 0) as n_events,
        coalesce(batches.source, 'unknown') as source
    from kept_ids
    cross join settings
    left join tickets on tickets.ticket_id = kept_ids.ticket_id
    left join event_tickets on event_tickets.ticket_id = kept_ids.ticket_id
    left join batches
        on batches.batch_id = coalesce(event_tickets.first_batch_id, tickets.batch_id)
)

select * from final
