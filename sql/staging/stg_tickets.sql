-- Canonical tickets: one row per ticket_id (ingest upserts, so the latest batch wins).
-- incremental: by ticket_id
-- test unique: ticket_id
-- test not_null: ticket_id, partner
-- test accepted_values: priority in ('P1', 'P2', 'P3', 'P4')

with source as (
    select * from raw.tickets
),

final as (
    select
        ticket_id,
        partner,
        client,
        opened_at,
        priority,
        category,
        lower(trim(category)) as category_key,
        subcategory,
        channel,
        resolution_code,
        lower(trim(resolution_code)) as resolution_code_key,
        kb_article_id,
        lower(trim(kb_article_id)) as kb_article_key,
        sla_due_at,
        sla_met,
        reported_reassignment_count,
        reported_reopen_count,
        first_contact_resolved,
        _batch_id as batch_id
    from source
)

select * from final
