"""mapped: each example mapping loads its hand-made export; mapping errors are clear."""

from __future__ import annotations

import pytest

from pipelines.errors import InputError
from pipelines.ingest.job import run_ingest
from pipelines.ingest.mapped import mapped_reader
from pipelines.ingest.mapping_file import load_mapping
from tests.adapters.helpers import FIXTURES, MAPPINGS, rows

EXAMPLES = {  # name -> (kind, read, loaded)
    "connectwise_tickets": ("tickets", 3, 2),  # 'Priority 9 - Unknown' is rejected
    "connectwise_audit": ("events", 7, 6),  # 13/4/2024 is not in the m/d/Y format
    "autotask_tickets": ("tickets", 2, 2),
    "autotask_audit": ("events", 5, 5),
    "halopsa_tickets": ("tickets", 2, 2),
    "halopsa_audit": ("events", 5, 5),
}


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_each_example_mapping_loads_its_export(db, name):
    fmt = mapped_reader(MAPPINGS / f"{name}.toml")
    result = run_ingest([FIXTURES / f"{name}.csv"], db, fmt=fmt)
    (f,) = result.files
    assert (f.kind, f.rows_read, f.rows_loaded) == EXAMPLES[name]


def test_connectwise_audit_text_is_cut_and_times_zoned(db):
    run_ingest([FIXTURES / "connectwise_audit.csv"], db,
               fmt=mapped_reader(MAPPINGS / "connectwise_audit.toml"))
    assert rows(db, "select strftime(event_at, '%H:%M'), group_name, agent, status "
                    "from raw.events order by _line") == [
        ("14:15", None, None, "New"),  # 9:15 AM New York = 14:15 UTC
        ("14:20", None, None, "In Progress"),
        ("14:30", None, "jdoe", "In Progress"),
        ("14:40", None, None, "Resolved"),
        ("18:05", "Network Operations", None, "New"),
        ("18:30", None, None, "Awaiting User"),
    ]
    assert rows(db, "select line, reason from meta.rejects") == [
        (8, "unparseable timestamp 'not in the format %m/%d/%Y %I:%M %p: 13/4/2024 1:30 PM' "
            "in event_at"),
    ]


def test_autotask_field_rows_and_day_first_dates(db):
    run_ingest([FIXTURES / "autotask_audit.csv"], db,
               fmt=mapped_reader(MAPPINGS / "autotask_audit.toml"))
    assert rows(db, "select strftime(event_at, '%d/%m %H:%M'), group_name, agent, status "
                    "from raw.events order by _line") == [
        ("04/03 09:00", "Service Desk", None, "New"),
        ("04/03 09:05", None, "Ann Lee", "New"),
        ("04/03 09:06", None, None, "In Progress"),
        ("04/03 11:00", "Level II Support", None, "In Progress"),
        ("05/03 16:00", None, None, "Resolved"),
    ]


def test_halopsa_notes_and_tickets(db):
    run_ingest([FIXTURES / "halopsa_audit.csv"], db,
               fmt=mapped_reader(MAPPINGS / "halopsa_audit.toml"))
    assert rows(db, "select note_kind, count(*) from raw.events group by 1 order by 1") == [
        ("internal", 3), ("public", 2),
    ]
    run_ingest([FIXTURES / "halopsa_tickets.csv"], db,
               fmt=mapped_reader(MAPPINGS / "halopsa_tickets.toml"))
    assert rows(db, "select ticket_id, priority, sla_met from raw.tickets order by 1") == [
        ("1042", "P2", True), ("1043", "P4", False),
    ]


def test_both_kind_derives_tickets(db, tmp_path):
    mapping = tmp_path / "log.toml"
    mapping.write_text(
        '[source]\nkind = "both"\n[columns]\nticket_id = "Case"\nevent_at = "When"\n'
        'status = "Activity"\ngroup = "Team"\npriority = "Impact"\n[constants]\n'
        'partner = "Contoso"\n'
    )
    data = tmp_path / "log.csv"
    data.write_text("Case,When,Activity,Team,Impact\nA,2024-01-01 09:00,New,SD,Low\n"
                    "A,2024-01-01 10:00,Resolved,SD,High\nB,2024-01-02 09:00,New,SD,\n")
    result = run_ingest([data], db, fmt=mapped_reader(mapping))
    assert sorted((f.kind, f.rows_loaded) for f in result.files) == [("events", 3), ("tickets", 2)]
    assert rows(db, "select ticket_id, partner, priority, opened_at is null from raw.tickets "
                    "order by 1") == [("A", "Contoso", "P2", True), ("B", "Contoso", None, True)]


def test_mapping_errors_name_the_file_and_key(tmp_path, db):
    bad = tmp_path / "bad.toml"
    bad.write_text('[source]\nkind = "events"\n[columns]\nticket_id = "Id"\nwhen = "At"\n'
                   "status = { column = 'S', pattern = '[' }\n")
    with pytest.raises(InputError, match=r"bad\.toml: invalid mapping") as err:
        load_mapping(bad)
    assert "columns.status.pattern" in str(err.value)
    bad.write_text('[source]\nkind = "events"\n[columns]\nticket_id = "Id"\nwhen = "At"\n'
                   'status = "S"\n')
    with pytest.raises(InputError, match=r"unknown canonical field.*when"):
        load_mapping(bad)
    good = tmp_path / "good.toml"
    good.write_text('[source]\nkind = "tickets"\n[columns]\nticket_id = "Number"\n')
    data = tmp_path / "t.csv"
    data.write_text("Id\n1\n")
    with pytest.raises(InputError, match=r"t\.csv: the mapping's column 'number'"):
        run_ingest([data], db, fmt=mapped_reader(good))
