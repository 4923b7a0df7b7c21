"""The canonical input contracts: which columns a tickets or events file has, and how
each column is parsed.

A contract is plain data; `validate.py` turns it into SQL. Column names in files are
matched case-insensitively after trimming (see `normalise_name`), and a few aliases
are accepted (`group_name` for `group`).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

Kind = Literal["tickets", "events"]
KINDS: tuple[Kind, ...] = ("tickets", "events")

ColumnType = Literal["text", "timestamp", "integer", "boolean", "priority", "note_kind"]
# Which plausible window a timestamp column is checked against (plausibility.windows):
# "event" for what has happened (up to about now), "due" for deadlines, which may lie
# ahead (ingest.sla_due_days_ahead more days).
TimestampWindow = Literal["event", "due"]

# Values that mean "no value" in every column, compared after trimming.
MISSING_TOKENS: tuple[str, ...] = ("", "?", "NULL", "null", "N/A")

# Data files taken from a folder (matched on the lower-cased name).
DATA_SUFFIXES: tuple[str, ...] = (
    ".csv", ".csv.gz", ".tsv", ".tsv.gz", ".parquet", ".pq", ".jsonl", ".jsonl.gz",
    ".ndjson", ".ndjson.gz",
)
# Read when named, but not taken from a folder, where such files are usually notes or
# metadata (a README.txt, the generator's planted.json); a folder ingest says so.
NAMED_ONLY_SUFFIXES: tuple[str, ...] = (".txt", ".txt.gz", ".json", ".json.gz")

# Priorities are read through Config.priority_map (built-in scales + [priority_map]).
NOTE_KINDS: tuple[str, ...] = ("public", "internal", "escalation")
TRUE_TOKENS: tuple[str, ...] = ("true", "t", "yes", "y", "1")
FALSE_TOKENS: tuple[str, ...] = ("false", "f", "no", "n", "0")


class ColumnRule(BaseModel):
    """One input column: its name in files, its raw.* column, and how to parse it."""

    model_config = ConfigDict(frozen=True)

    name: str
    target: str
    type: ColumnType = "text"
    required: bool = False
    # a helper column (e.g. updated_at): a value that cannot be read is left out
    # (null) instead of rejecting the row
    soft: bool = False
    window: TimestampWindow = "event"


class Contract(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: Kind
    columns: tuple[ColumnRule, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)


TICKETS = Contract(
    kind="tickets",
    columns=(
        ColumnRule(name="ticket_id", target="ticket_id", required=True),
        ColumnRule(name="partner", target="partner"),
        ColumnRule(name="client", target="client"),
        ColumnRule(name="opened_at", target="opened_at", type="timestamp"),
        ColumnRule(name="priority", target="priority", type="priority"),
        ColumnRule(name="category", target="category"),
        ColumnRule(name="subcategory", target="subcategory"),
        ColumnRule(name="channel", target="channel"),
        ColumnRule(name="resolution_code", target="resolution_code"),
        ColumnRule(name="kb_article_id", target="kb_article_id"),
        ColumnRule(name="sla_due_at", target="sla_due_at", type="timestamp", window="due"),
        ColumnRule(name="sla_met", target="sla_met", type="boolean"),
        ColumnRule(
            name="reported_reassignment_count", target="reported_reassignment_count",
            type="integer",
        ),
        ColumnRule(name="reported_reopen_count", target="reported_reopen_count", type="integer"),
        ColumnRule(name="first_contact_resolved", target="first_contact_resolved", type="boolean"),
        # the export's own time of the row (e.g. ServiceNow sys_updated_on): the newer
        # row wins when a ticket is loaded twice (see ingest/load.py)
        ColumnRule(name="updated_at", target="updated_at", type="timestamp", soft=True),
    ),
)

EVENTS = Contract(
    kind="events",
    columns=(
        ColumnRule(name="ticket_id", target="ticket_id", required=True),
        ColumnRule(name="event_at", target="event_at", type="timestamp", required=True),
        # Optional tie-breaker; when blank or absent the row's line number is used.
        ColumnRule(name="seq", target="seq", type="integer"),
        ColumnRule(name="group", target="group_name"),
        ColumnRule(name="tier", target="tier"),
        ColumnRule(name="agent", target="agent"),
        ColumnRule(name="status", target="status", required=True),
        ColumnRule(name="note_kind", target="note_kind", type="note_kind"),
        ColumnRule(name="note_text", target="note_text"),
    ),
)

CONTRACTS: dict[str, Contract] = {"tickets": TICKETS, "events": EVENTS}

# Other spellings accepted in headers, mapped to the canonical name.
ALIASES: dict[str, str] = {"group_name": "group"}

# Columns every staged (varchar) table carries besides the data columns.
LINE_COLUMN = "_line"
RAW_LINE_COLUMN = "_raw_line"
PARSE_ERROR_COLUMN = "_reject_reason"


def normalise_name(name: str) -> str:
    """Header name as matched against the contract: trimmed, lower case, aliases applied."""
    key = name.strip().lstrip("\ufeff").strip().lower()
    return ALIASES.get(key, key)


def is_data_file(name: str) -> bool:
    return name.lower().endswith(DATA_SUFFIXES)
