"""Every row accounted for on hostile CSV files, generated rather than listed.

Each example writes events as a real exporter would (Python's csv writer: quotes
where needed, notes with line breaks), then damages some records the ways real
exports are damaged, and checks what the ingest must guarantee:

- read = loaded + rejected = the records in the file (nothing swallowed, nothing
  invented), whatever the damage, line ends, BOM or encoding;
- each damaged record is rejected alone, or loaded with the value it carries
  (a stray quote inside a field is text; a Latin-1 byte is read as Windows-1252 on
  its own line, with a notice), and every other record loads with its exact values;
- the loaded events do not depend on the order of the rows nor on how they are
  split across files, and ingesting again changes nothing.

Run more examples with `pytest --hypothesis-profile=slow` (see tests/conftest.py).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
from hypothesis import HealthCheck, given, settings, strategies as st

from pipelines.ingest.job import run_ingest

HEADER = ["ticket_id", "event_at", "group", "tier", "agent", "status", "note_kind", "note_text"]
N_FIELDS = len(HEADER)
BASE = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
# Text a value may hold: delimiters, quotes, non-ASCII, spaces; no control characters
# (NUL is a damage of its own) and nothing validation reads as "no value".
ALPHABET = list("abcXYZ019 ,;:-/'\"äöüßé€日本")
MISSING = {"", "?", "NULL", "null", "N/A"}
DAMAGES = ("none", "stray_quote", "unclosed_quote", "nul", "latin1")


@dataclass(frozen=True)
class Event:
    ticket_id: str
    minute: int
    agent: str
    status: str
    note: str  # may hold line breaks, quotes and commas
    damage: str

    @property
    def event_at(self) -> str:
        return (BASE + timedelta(minutes=self.minute)).strftime("%Y-%m-%d %H:%M:%S")

    @property
    def loads(self) -> bool:
        return self.damage not in ("unclosed_quote", "nul")

    @property
    def stored_agent(self) -> str:
        """The agent as the ingest must store it."""
        if self.damage == "stray_quote":
            return f'{self.agent} 24" monitor'
        if self.damage == "latin1":
            return f"{self.agent} Müller"
        return self.agent

    def line(self, newline: str) -> bytes:
        """The record as an exporter writes it, then damaged."""
        note = "" if self.damage == "unclosed_quote" else self.note
        fields = [self.ticket_id, self.event_at, "SD", "L1", self.agent, self.status,
                  "public", note]
        text = ",".join(_csv_field(v) for v in fields) + newline
        if self.damage == "stray_quote":  # a quote inside an unquoted field: text
            return text.replace(f",{self.agent},", f',{self.agent} 24" monitor,', 1).encode()
        if self.damage == "unclosed_quote":  # an opening quote that never closes
            return (text.removesuffix(newline) + '"broken note' + newline).encode()
        if self.damage == "nul":
            return text.replace(f",{self.agent},", f",{self.agent}\x00,", 1).encode()
        if self.damage == "latin1":  # one value written by a Latin-1 tool
            before, after = text.split(f",{self.agent},", 1)
            return (before.encode() + f",{self.agent} Müller,".encode("latin-1")
                    + after.encode())
        return text.encode()


def _csv_field(value: str) -> str:
    """A field as RFC 4180 writes it (Python's csv writer leaves a bare \\n unquoted
    when the line terminator is \\r)."""
    if any(c in value for c in ',"\n\r'):
        return '"' + value.replace('"', '""') + '"'
    return value


def _value(max_size: int = 8) -> st.SearchStrategy[str]:
    return st.text(alphabet=ALPHABET, min_size=1, max_size=max_size).map(
        lambda s: s.strip(" ")
    ).filter(lambda s: s not in MISSING)


def _note() -> st.SearchStrategy[str]:
    # a note may span lines; no line of it may look like a whole record by itself
    # (N_FIELDS - 1 delimiters), which no reader can tell from a real one
    return st.lists(_value(10), min_size=1, max_size=3).map("\n".join).filter(
        lambda s: all(line.count(",") < N_FIELDS - 1 for line in s.split("\n"))
    )


@st.composite
def events(draw: st.DrawFn) -> list[Event]:
    n = draw(st.integers(min_value=1, max_value=25))
    out = []
    for i in range(n):
        agent = draw(st.sampled_from(["ann", "bob", "li wei", "zoë"]))
        out.append(Event(
            ticket_id=f"T{i:03d}", minute=i, agent=agent,
            status=draw(st.sampled_from(["New", "In Progress", "Resolved"])),
            note=draw(_note()), damage=draw(st.sampled_from(DAMAGES)),
        ))
    return out


def _file_bytes(rows: list[Event], newline: str, bom: bool) -> bytes:
    head = (",".join(HEADER) + newline).encode()
    return (b"\xef\xbb\xbf" if bom else b"") + head + b"".join(r.line(newline) for r in rows)


def _loaded(db: Path) -> list[tuple[str, ...]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        con.execute("set TimeZone = 'UTC'")
        return con.sql(
            "select ticket_id, strftime(event_at, '%Y-%m-%d %H:%M:%S'), agent, status, "
            "note_text from raw.events order by ticket_id"
        ).fetchall()
    finally:
        con.close()


def _expected(rows: list[Event]) -> list[tuple[str, ...]]:
    return sorted(
        (r.ticket_id, r.event_at, r.stored_agent, r.status, r.note) for r in rows if r.loads
    )


SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                           HealthCheck.too_slow])


@SETTINGS
@given(rows=events(), newline=st.sampled_from(["\n", "\r\n", "\r"]), bom=st.booleans())
def test_every_record_is_loaded_or_rejected_alone(
    tmp_path_factory, rows: list[Event], newline: str, bom: bool
) -> None:
    folder = tmp_path_factory.mktemp("hostile")
    path = folder / "events.csv"
    path.write_bytes(_file_bytes(rows, newline, bom))
    result = run_ingest([path], db_path=folder / "t.duckdb", kind="events")

    (f,) = result.files
    rejected = sum(not r.loads for r in rows)
    assert (f.rows_read, f.rows_loaded, f.rows_rejected) == (
        len(rows), len(rows) - rejected, rejected
    )
    assert _loaded(folder / "t.duckdb") == _expected(rows)
    assert f.recoded_lines == sum(r.damage == "latin1" for r in rows)


@SETTINGS
@given(rows=events(), seed=st.integers(0, 2**16), cuts=st.integers(1, 4),
       newline=st.sampled_from(["\n", "\r\n"]))
def test_order_and_split_do_not_matter_and_reingest_changes_nothing(
    tmp_path_factory, rows: list[Event], seed: int, cuts: int, newline: str
) -> None:
    folder = tmp_path_factory.mktemp("split")
    whole = folder / "whole.csv"
    whole.write_bytes(_file_bytes(rows, newline, bom=False))
    run_ingest([whole], db_path=folder / "one.duckdb", kind="events")

    shuffled = list(rows)
    random.Random(seed).shuffle(shuffled)
    bounds = sorted(random.Random(seed + 1).sample(range(len(rows) + 1), min(cuts, len(rows))))
    parts, start = [], 0
    for i, end in enumerate([*bounds, len(rows)]):
        if end > start:
            part = folder / f"part_{i}.csv"
            part.write_bytes(_file_bytes(shuffled[start:end], newline, bom=False))
            parts.append(part)
        start = end
    many = folder / "many.duckdb"
    split = run_ingest(parts, db_path=many, kind="events")
    assert split.rows_read == len(rows)
    assert _loaded(many) == _loaded(folder / "one.duckdb") == _expected(rows)

    # the same files again are skipped; the whole file on top adds no event
    again = run_ingest([*parts, whole], db_path=many, kind="events")
    assert all(f.already_loaded_batch is not None for f in again.files[:-1])
    assert again.files[-1].rows_new == 0
    assert _loaded(many) == _expected(rows)
