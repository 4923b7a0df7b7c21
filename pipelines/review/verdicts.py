"""Review verdicts: append-only, never lost, safe beside a running ingest.

A verdict is first appended to a journal file beside the database
(`<db>.verdicts.jsonl`, flushed to disk), then inserted into
`meta.review_verdicts`. When the database is busy (DuckDB allows one writer: an
ingest or build may hold it), the verdict simply waits in the journal; every
`tierlens build` applies the journal first. Verdicts are identified by
`verdict_id`, so applying, importing or exporting twice never duplicates one. A later
verdict on the same escalation supersedes an earlier one; the history is kept.
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import duckdb
import polars as pl
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pipelines.db import DatabaseBusy, connect, register_frame
from pipelines.errors import InputError

Decision = Literal["yes", "no", "unsure"]
Timing = Literal["too early", "right", "too late"]
L1Need = Literal["kb article", "access", "tooling", "training", "nothing"]

COLUMNS = (
    "verdict_id",
    "escalation_id",
    "ticket_id",
    "sample_id",
    "reviewer",
    "reviewed_at",
    "should_escalate",
    "timing",
    "l1_need",
    "l1_need_text",
    "kb_article_to_write",
)


class Verdict(BaseModel):
    """One reviewer's answer to the three questions about one escalation."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    verdict_id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    escalation_id: str = Field(min_length=1)
    ticket_id: str = Field(min_length=1)
    sample_id: str | None = None
    reviewer: str = Field(min_length=1)
    reviewed_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    should_escalate: Decision
    timing: Timing | None = None
    l1_need: L1Need | None = None
    l1_need_text: str | None = None
    kb_article_to_write: str | None = None


def journal_path(db_path: Path | str) -> Path:
    return Path(f"{db_path}.verdicts.jsonl")


def _append(path: Path, verdicts: list[Verdict]) -> None:
    with path.open("a", encoding="utf-8") as fh:
        for v in verdicts:
            fh.write(v.model_dump_json() + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def read_jsonl(path: Path) -> list[Verdict]:
    """Verdicts from a JSON Lines file; a bad line is an error naming file and line."""
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if not path.is_file():
        raise InputError(f"{path}: not a file (give the JSON Lines file `review export` wrote)")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path}: not UTF-8 text (byte {exc.start}); give the JSON Lines file "
            "`review export` wrote"
        ) from None
    verdicts = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            verdicts.append(Verdict.model_validate_json(line))
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'line'}: {e['msg']}" for e in exc.errors()
            )
            raise InputError(f"{path}, line {number}: not a verdict: {problems}") from exc
    return verdicts


def insert(con: duckdb.DuckDBPyConnection, verdicts: list[Verdict]) -> int:
    """Insert the verdicts not stored yet; returns how many were new."""
    if not verdicts:
        return 0
    frame = pl.DataFrame([v.model_dump() for v in verdicts]).select(COLUMNS)
    register_frame(con, "_verdicts", frame)
    try:
        before: int = con.execute("select count(*) from meta.review_verdicts").fetchall()[0][0]
        con.execute(
            f"""insert into meta.review_verdicts ({", ".join(COLUMNS)})
                select {", ".join(COLUMNS)} from _verdicts
                where verdict_id not in (select verdict_id from meta.review_verdicts)
                qualify row_number() over (partition by verdict_id) = 1"""
        )
        after: int = con.execute("select count(*) from meta.review_verdicts").fetchall()[0][0]
    finally:
        con.unregister("_verdicts")
    return after - before


def apply_journal(con: duckdb.DuckDBPyConnection, db_path: Path | str) -> int:
    """Store the journal's verdicts that are not in the database yet (run by every build)."""
    path = journal_path(db_path)
    return insert(con, read_jsonl(path)) if path.exists() else 0


def record(db_path: Path | str, verdict: Verdict, *, wait_seconds: float = 2.0) -> str:
    """Journal the verdict, then store it: 'stored', or 'queued' if the database is busy."""
    _append(journal_path(db_path), [verdict])
    try:
        con = connect(db_path, wait_seconds=wait_seconds)
    except DatabaseBusy:
        return "queued"
    try:
        insert(con, [verdict])
    finally:
        con.close()
    return "stored"


def export(db_path: Path | str, out: Path) -> int:
    """Every verdict (stored and journalled), oldest first, as JSON Lines."""
    con = connect(db_path)
    try:
        apply_journal(con, db_path)
        frame = con.sql(
            f"select {', '.join(COLUMNS)} from meta.review_verdicts "
            "order by reviewed_at, verdict_id"
        ).pl()
    finally:
        con.close()
    tmp = out.with_name(out.name + ".partial")
    verdicts = [Verdict.model_validate(row) for row in frame.iter_rows(named=True)]
    tmp.write_text("".join(v.model_dump_json() + "\n" for v in verdicts), encoding="utf-8")
    tmp.replace(out)
    return len(verdicts)


def import_file(db_path: Path | str, path: Path) -> tuple[int, int]:
    """(read, new): verdicts read from `path` and how many were not stored before."""
    verdicts = read_jsonl(path)
    con = connect(db_path)
    try:
        con.execute("begin transaction")
        try:
            new = insert(con, verdicts)
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
    finally:
        con.close()
    return len(verdicts), new
