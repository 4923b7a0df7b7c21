"""Input formats: each turns one file into staged canonical varchar tables.

This is the base of the source adapters (ServiceNow, Zendesk, event logs, mapped):
what an adapter returns (Staged), its signature (FormatReader) and the reader of
the canonical files. It imports no adapter; pipelines/ingest/registry.py names
them (`run_ingest(..., fmt=NAME)`). An adapter reads the file however it likes and
creates, for each kind it produces ("tickets" and/or "events"), a DuckDB temp table
or view with

  - any of the canonical columns of that kind (see schema.CONTRACTS), as varchar,
    named as in the canonical files (e.g. `group`, not `group_name`);
  - _line bigint and _raw_line varchar (where the row came from, for rejects and
    lineage); or, without _raw_line, Staged.lines naming a table (ln, raw) of the
    file's lines to look the text up in;
  - optionally _reject_reason varchar (a problem the adapter found; null if none).

Validation (types, missing values, timestamps and date order, reasons) and loading
(upsert, dedupe, lineage, meta.batches/meta.rejects) are then shared.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePath

import duckdb

from pipelines.config import Config
from pipelines.errors import InputError
from pipelines.ingest.readers import FileInfo, read_file
from pipelines.ingest.schema import CONTRACTS, KINDS, normalise_name


@dataclass(frozen=True)
class Staged:
    """One staged table of canonical varchar columns (+ _line, _raw_line)."""

    kind: str
    table: str
    ignored_columns: tuple[str, ...] = field(default_factory=tuple)
    # a temp table (ln, raw) with the text of each line, when `table` has no
    # _raw_line (rejects look their text up there)
    lines: str | None = None
    # when `table` is a temp view: the temp table it reads, dropped after the view
    # (see readers.read_file's as_view)
    view_of: str | None = None


# (con, file, config, kind given by the user or None, unique table-name prefix)
#   -> staged tables by kind
FormatReader = Callable[
    [duckdb.DuckDBPyConnection, FileInfo, Config, str | None, str], dict[str, Staged]
]


def detect_kind(columns: list[str], file_name: str, label: str) -> str:
    """events if there is an event_at column, else tickets if a ticket_id column;
    else the file name (tickets*, events*) decides."""
    if "event_at" in columns:
        return "events"
    if "ticket_id" in columns:
        return "tickets"
    stem = PurePath(file_name).name.lower()
    for kind in KINDS:
        if stem.startswith((kind, kind.rstrip("s"))):
            return kind
    raise InputError(
        f"{label}: cannot tell whether this is a tickets or an events file "
        "(no event_at or ticket_id column); use --kind tickets|events"
    )


def read_canonical(
    con: duckdb.DuckDBPyConnection, info: FileInfo, config: Config, kind: str | None, name: str
) -> dict[str, Staged]:
    """The canonical CSV / JSON Lines / Parquet files."""
    del config  # the canonical files need no settings to be read
    # validation trims every value, and reads the fields once: a view splits them
    raw = read_file(con, info, name, as_view=True, trim=False)
    kind = kind or detect_kind(raw.columns, info.path.name, info.label)
    known = set(CONTRACTS[kind].names)
    twice = [c for c in raw.duplicated if c in known]
    if twice:
        at = [str(i) for i, h in enumerate(raw.header, start=1) if normalise_name(h) == twice[0]]
        raise InputError(
            f"{info.label}: column '{twice[0]}' appears twice in the header (columns "
            f"{', '.join(at[:-1])} and {at[-1]}): keep one, Tierlens cannot tell which is meant"
        )
    ignored = tuple(c for c in raw.columns if c not in known)
    return {kind: Staged(kind, raw.table, ignored, view_of=raw.lines)}
