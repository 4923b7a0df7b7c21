"""Priorities at ingest: read through the priority map (built-in scales plus
[priority_map] in tierlens.toml), never guessed; a value no map knows is rejected."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import duckdb
import pytest
from hypothesis import given, settings, strategies as st
from ingest_helpers import query, write

from pipelines.config import Config, ConfigError, load_config, priority_key
from pipelines.ingest.job import run_ingest
from pipelines.ingest.schema import MISSING_TOKENS

HINT = "(add it to [priority_map] in tierlens.toml)"


def _tickets(*priorities: str) -> str:
    return "ticket_id,priority\n" + "".join(f"T{i},{p}\n" for i, p in enumerate(priorities))


def _loaded(db: Path) -> dict[str, str | None]:
    return dict(query(db, "select ticket_id, priority from raw.tickets"))


def test_values_that_were_coerced_are_rejected(make, db: Path) -> None:
    path = make("tickets.csv", _tickets("1.5", "4.9", "2-3", "P1 - Low", "1 - High", "P5", "2"))
    result = run_ingest([path], db_path=db)
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (7, 1, 6)
    assert _loaded(db) == {"T6": "P2"}
    assert query(db, "select line, reason from meta.rejects order by line::int") == [
        ("2", f"unknown priority value '1.5' {HINT}"),
        ("3", f"unknown priority value '4.9' {HINT}"),
        ("4", f"unknown priority value '2-3' {HINT}"),
        ("5", f"unknown priority value 'P1 - Low' {HINT}"),
        ("6", f"unknown priority value '1 - High' {HINT}"),
        ("7", f"unknown priority value 'P5' {HINT}"),
    ]


def test_built_in_scales(make, db: Path) -> None:
    values = {
        # Tierlens' own forms
        "P1": "P1", "p2": "P2", "P 3": "P3", "4": "P4", "Critical": "P1", "HIGH": "P2",
        "medium": "P3", "Moderate": "P3", "low": "P4",
        # ServiceNow, spaces and case folded
        "1 - Critical": "P1", "2 - High": "P2", "3  -  moderate": "P3", "4 - Low": "P4",
        "5 - Planning": "P4",
        # Zendesk
        "urgent": "P1", "Normal": "P3",
        # missing
        "": None, "N/A": None,
    }
    path = make("tickets.csv", _tickets(*values))
    result = run_ingest([path], db_path=db)
    assert (result.rows_loaded, result.rows_rejected) == (18, 0)
    assert _loaded(db) == {f"T{i}": p for i, p in enumerate(values.values())}


def test_servicenow_planning_incident_loads_as_p4_with_its_events(make, db: Path) -> None:
    # issue 12: the "5 - Planning" incident was rejected while its events loaded
    path = make("incidents.csv",
                "number,priority,incident_state,assignment_group,opened_at,resolved_at,closed_at\n"
                "INC1,5 - Planning,Closed,Service Desk,2024-03-04 09:00:00,"
                "2024-03-04 10:00:00,2024-03-05 10:00:00\n"
                "INC2,1 - Critical,In Progress,Service Desk,2024-03-04 09:30:00,,\n")
    result = run_ingest([path], db_path=db, fmt="servicenow-incident")
    assert (result.rows_loaded, result.rows_rejected) == (2 + 4, 0)
    assert query(db, "select ticket_id, priority from raw.tickets order by 1") == [
        ("INC1", "P4"), ("INC2", "P1"),
    ]
    assert query(db, "select ticket_id, count(*) from raw.events group by 1 order by 1") == [
        ("INC1", "3"), ("INC2", "1"),
    ]


def test_user_map_adds_and_overrides(tmp_path: Path, make, db: Path) -> None:
    config = load_config(write(tmp_path / "tierlens.toml",
                               '[priority_map]\n"Sev A" = "P1"\n"5 - Planning" = "P3"\n'
                               '" Sev   B " = "P2"\n'))
    path = make("tickets.csv", _tickets("Sev A", "sev a", "SEV B", "5 - Planning", "P4",
                                        "Sev C"))
    result = run_ingest([path], db_path=db, config=config)
    assert (result.rows_loaded, result.rows_rejected) == (5, 1)
    assert _loaded(db) == {"T0": "P1", "T1": "P1", "T2": "P2", "T3": "P3", "T4": "P4"}
    assert query(db, "select line, reason from meta.rejects") == [
        ("7", f"unknown priority value 'Sev C' {HINT}"),
    ]


def test_user_map_applies_to_zendesk_tickets(tmp_path: Path, make, db: Path) -> None:
    config = load_config(write(tmp_path / "tierlens.toml", '[priority_map]\nnormal = "P4"\n'))
    tickets = [{"id": n, "created_at": "2024-03-04T09:00:00Z", "priority": p}
               for n, p in ((1, "urgent"), (2, "normal"), (3, None), (4, "asap"))]
    path = make("tickets.json", json.dumps({"tickets": tickets}))
    result = run_ingest([path], db_path=db, config=config, fmt="zendesk")
    assert (result.rows_loaded, result.rows_rejected) == (3, 1)
    assert _loaded(db) == {"1": "P1", "2": "P4", "3": None}
    assert query(db, "select reason from meta.rejects") == [
        (f"unknown priority value 'asap' {HINT}",),
    ]


def test_priority_map_is_validated(tmp_path: Path) -> None:
    bad = {
        '[priority_map]\n"Sev A" = "P5"\n': r"priority_map\.Sev A: Input should be 'P1', 'P2'",
        '[priority_map]\n"Sev A" = "P1"\n"sev  a" = "P2"\n':
            r"priority_map: 'Sev A' and 'sev  a' are the same priority value",
        '[priority_map]\n"  " = "P1"\n': r"priority_map: an empty priority value",
    }
    for text, message in bad.items():
        with pytest.raises(ConfigError, match=message):
            load_config(write(tmp_path / "tierlens.toml", text))


# --- generated: any text loads exactly when the map knows it, as the map says -------------

_KNOWN = sorted(Config().priority_map)
_SPACE = st.sampled_from([" ", "  ", "\t", " \t "])


@st.composite
def _known_spelling(draw: st.DrawFn) -> str:
    """A key of the built-in map, with its case and spaces changed."""
    key = draw(st.sampled_from(_KNOWN))
    words = [draw(st.sampled_from([w, w.upper(), w.title()])) for w in key.split(" ")]
    gaps = [draw(_SPACE) for _ in words[1:]]
    text = words[0] + "".join(g + w for g, w in zip(gaps, words[1:], strict=True))
    return draw(st.sampled_from(["", " ", "\t"])) + text + draw(st.sampled_from(["", "  "]))


_NOISE = st.text(st.sampled_from(list("Pp12345.-: abcdehilmnortuwAB\t")), max_size=14)


@settings(max_examples=30, deadline=None, database=None)
@given(st.lists(st.one_of(_known_spelling(), _NOISE), min_size=1, max_size=15))
def test_generated_priorities_load_only_as_the_map_says(values: list[str]) -> None:
    mapping = Config().priority_map
    with tempfile.TemporaryDirectory() as tmp:
        lines = "".join(json.dumps({"ticket_id": f"T{i}", "priority": v}) + "\n"
                        for i, v in enumerate(values))
        path = write(Path(tmp) / "tickets.jsonl", lines)
        db = Path(tmp) / "t.duckdb"
        result = run_ingest([path], db_path=db)
        con = duckdb.connect(str(db), read_only=True)
        try:
            loaded = dict(con.execute("select ticket_id, priority from raw.tickets").fetchall())
            rejected = dict(con.execute("select line::int, reason from meta.rejects").fetchall())
        finally:
            con.close()
    assert result.rows_loaded + result.rows_rejected == len(values)
    for i, v in enumerate(values):
        if v.strip(" ") in MISSING_TOKENS:
            assert loaded[f"T{i}"] is None
        elif priority_key(v) in mapping:
            assert loaded[f"T{i}"] == mapping[priority_key(v)], repr(v)
        else:
            assert rejected[i + 1] == f"unknown priority value '{v.strip(' ')}' {HINT}", repr(v)
