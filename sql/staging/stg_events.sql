-- Canonical events: one row per change of a ticket, with the source's tier label
-- parsed (an ambiguous label such as 'L2/L3' keeps its lowest tier) and the
-- status keyed for the status map.
-- incremental: by ticket_id
-- test not_null: ticket_id, event_at, seq
-- test accepted_values: tier_from_label in ('L1', 'L2', 'L3', 'L4')
-- test accepted_values: note_kind in ('public', 'internal', 'escalation')

with source as (
    select * from raw.events
),

cleaned as (
    select
        ticket_id,
        event_at,
        seq,
        nullif(nullif(trim(group_name), ''), '?') as group_name,
        nullif(nullif(upper(trim(tier)), ''), '?') as tier_label,
        nullif(trim(agent), '') as agent,
        status,
        lower(trim(status)) as status_key,
        lower(trim(note_kind)) as note_kind,
        note_text,
        _batch_id as batch_id,
        _line as source_line
    from source
),

final as (
    select
        * exclude (tier_label),
        tier_label,
        case
            when regexp_full_match(tier_label, 'L[1-4](\s*/\s*L?[1-4])*')
                then 'L' || list_min(regexp_extract_all(tier_label, '[1-4]'))
        end as tier_from_label,
        coalesce(regexp_full_match(tier_label, 'L[1-4](\s*/\s*L?[1-4])+'), false)
            as is_tier_label_ambiguous
    from cleaned
)

select * from final
