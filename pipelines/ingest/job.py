"""One ingest run: files in, one all-or-nothing transaction out.

    result = run_ingest([Path("exports/")], db_path="tierlens.duckdb", config=Config())

Steps: list the files (folders give their data files, sorted by name); hash each
file and skip the ones already loaded (same bytes in meta.batches); read each file
into staged varchar tables through its format (registry.READERS); then, tickets
before events, validate and load each one as a batch. Any error rolls back the
whole run, so the database is exactly as before.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from pipelines.config import Config
from pipelines.db import DEFAULT_DB, connect, quote_ident
from pipelines.errors import InputError
from pipelines.ingest import load
from pipelines.ingest.formats import FormatReader, Staged
from pipelines.ingest.mapping_file import Mapping
from pipelines.ingest.readers import FileInfo, inspect_file, list_inputs, sql_str
from pipelines.ingest.registry import reader_for
from pipelines.ingest.schema import CONTRACTS, KINDS, MISSING_TOKENS
from pipelines.ingest.validate import validate

DEFAULT_SOURCE = "canonical"
TOP_REASONS = 10
RECODED_NOTICE = "bytes that are not UTF-8 on this line were read as Windows-1252"
_PROGRESS_BYTES = 20 << 20  # show a progress bar when the input is larger than this


@dataclass(frozen=True)
class ReasonCount:
    """Rejects sharing a reason once the quoted values are blanked out."""

    reason: str  # e.g. "unparseable timestamp '…' in event_at"
    count: int
    example: str  # the first such reason, with its value
    file: str
    line: int


@dataclass
class FileResult:
    file: str
    kind: str | None
    batch_id: int | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    rows_new: int = 0
    already_loaded_batch: int | None = None
    skipped: str | None = None  # a folder entry not read, and why
    recoded_lines: int = 0  # lines with bytes that are not UTF-8, read as Windows-1252
    first_recoded_line: int | None = None
    ignored_columns: list[str] = field(default_factory=list)
    date_order: str | None = None
    reject_reasons: list[ReasonCount] = field(default_factory=list)


@dataclass
class IngestResult:
    files: list[FileResult]

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files)

    @property
    def rows_loaded(self) -> int:
        return sum(f.rows_loaded for f in self.files)

    @property
    def rows_rejected(self) -> int:
        return sum(f.rows_rejected for f in self.files)

    @property
    def rows_new(self) -> int:
        return sum(f.rows_new for f in self.files)

    @property
    def reject_reasons(self) -> list[ReasonCount]:
        """The most frequent reasons over all files (reasons of different files merged)."""
        merged: dict[str, ReasonCount] = {}
        for f in self.files:
            for r in f.reject_reasons:
                seen = merged.get(r.reason)
                merged[r.reason] = (
                    r if seen is None else
                    ReasonCount(r.reason, seen.count + r.count, seen.example, seen.file, seen.line)
                )
        return sorted(merged.values(), key=lambda r: -r.count)[:TOP_REASONS]


def run_ingest(
    paths: Sequence[Path | str],
    db_path: Path | str = DEFAULT_DB,
    config: Config | None = None,
    source: str | None = None,
    kind: str | None = None,
    fmt: str | FormatReader = "canonical",
    progress: bool | None = None,
    mapping: Path | str | Mapping | None = None,
) -> IngestResult:
    """Load the files into `db_path` as one transaction; see the module docstring.

    `fmt`: a format name (pipelines.ingest.registry.READERS) or a reader; `mapping`:
    the mapping file (or loaded mapping) of the `mapped` format.
    `progress`: show a progress bar on stderr (default: only for large inputs).
    """
    config = config or Config()
    if kind is not None and kind not in KINDS:
        raise InputError(f"--kind must be tickets or events, not {kind!r}")
    reader = fmt if callable(fmt) else reader_for(fmt, mapping)
    if not paths:
        raise InputError("no files given")
    listed = list_inputs([Path(p) for p in paths])
    skipped = [FileResult(e.label, None, skipped=e.skipped) for e in listed if e.skipped]
    with tempfile.TemporaryDirectory(prefix="tierlens-ingest-") as work:
        files = [inspect_file(e.path, e.label, Path(work)) for e in listed if not e.skipped]
        if progress is None:
            progress = sum(f.size for f in files) > _PROGRESS_BYTES

        new_db = not Path(db_path).exists()
        con = connect(db_path)
        try:
            load.apply_memory_limit(con)
            con.execute("set TimeZone = 'UTC'")
            con.begin()
            try:
                with _progress(progress, len(files)) as step:
                    results = _run(con, files, config, source or DEFAULT_SOURCE, kind, reader, step)
                con.commit()
            except BaseException:
                con.rollback()
                con.close()
                if new_db:  # a failed first ingest leaves no empty database behind
                    for leftover in (Path(db_path), Path(f"{db_path}.wal")):
                        leftover.unlink(missing_ok=True)
                raise
        finally:
            con.close()
    return IngestResult(results + skipped)


class _Step:
    def __init__(self, bar: Progress | None, task: TaskID | None) -> None:
        self._bar, self._task = bar, task

    def __call__(self, text: str, advance: int = 1) -> None:
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, advance=advance, description=text)


@contextmanager
def _progress(show: bool, n_files: int) -> Iterator[_Step]:
    if not show:
        yield _Step(None, None)
        return
    bar = Progress(
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
        console=Console(stderr=True), transient=True,
    )
    with bar:
        yield _Step(bar, bar.add_task("ingest", total=n_files * 3))


def _run(
    con: duckdb.DuckDBPyConnection,
    files: list[FileInfo],
    config: Config,
    source: str,
    kind: str | None,
    reader: FormatReader,
    step: _Step,
) -> list[FileResult]:
    results: list[FileResult] = []
    staged: list[tuple[int, FileInfo, Staged]] = []
    for i, info in enumerate(files):
        done = load.find_loaded_batch(con, info.content_hash)
        if done is not None:
            results.append(FileResult(info.label, kind, already_loaded_batch=done))
            step(f"{info.label}: already loaded", 3)
            continue
        step(f"reading {info.label}")
        tables = reader(con, info, config, kind, f"_ingest_{i}")
        if not tables:
            results.append(FileResult(info.label, kind, skipped="no rows to load (a lookup "
                                      "such as Zendesk groups, or an empty page)"))
        for st in tables.values():
            staged.append((i, info, st))

    staged.sort(key=lambda s: (KINDS.index(s[2].kind), s[0]))
    noted: set[str] = set()
    for i, info, st in staged:
        # the same bytes twice in this run (an adapter may stage two kinds from one file)
        done = load.find_loaded_batch(con, info.content_hash, st.kind)
        if done is not None:
            results.append(FileResult(info.label, st.kind, already_loaded_batch=done))
            step(f"{info.label}: already loaded", 2)
            _drop_staged(con, st)
            if st.lines is not None:
                con.execute(f"drop table if exists {st.lines}")
            continue
        results.append(
            _load_one(con, info, st, config, source, f"_typed_{i}_{st.kind}", step, noted)
        )
    return results


def _load_one(
    con: duckdb.DuckDBPyConnection,
    info: FileInfo,
    st: Staged,
    config: Config,
    source: str,
    typed: str,
    step: _Step,
    noted: set[str],
) -> FileResult:
    started = datetime.now(UTC)
    step(f"validating {info.label}")
    if not con.execute(f"select exists (select 1 from {st.table})").fetchall()[0][0]:
        raise InputError(f"{info.label}: empty file, no rows")
    # events are inserted, never merged; tickets merge only into stored ones
    merging = st.kind == "tickets" and con.execute(
        "select exists (select 1 from raw.tickets)").fetchall()[0][0]
    present = _columns_with_values(con, st.table, CONTRACTS[st.kind].names) if merging else None
    checked = validate(con, st.table, st.kind, config, info.label, typed)
    _drop_staged(con, st)
    step(f"loading {info.label}")
    batch = load.BatchInfo(
        batch_id=load.next_batch_id(con), source=source, kind=st.kind, file_path=info.label,
        content_hash=info.content_hash, started_at=started,
    )
    counts = load.load_batch(con, typed, batch, st.lines, present)
    # lines read as Windows-1252: noted once per file (an adapter may stage two kinds)
    text = info.text
    recoded = text.recoded_count if text is not None and info.content_hash not in noted else 0
    if recoded and text is not None:
        noted.add(info.content_hash)
        load.insert_notices(con, batch, text.recoded, RECODED_NOTICE)
    reasons = _top_reasons(con, typed, info.label)
    for table in (typed, st.lines):
        if table is not None:
            con.execute(f"drop table if exists {table}")
    return FileResult(
        file=info.label, kind=st.kind, batch_id=batch.batch_id, rows_read=counts.rows_read,
        rows_loaded=counts.rows_loaded, rows_rejected=counts.rows_rejected,
        rows_new=counts.rows_new, ignored_columns=list(st.ignored_columns),
        date_order=checked.date_order, reject_reasons=reasons,
        recoded_lines=recoded,
        first_recoded_line=text.recoded[0] if recoded and text is not None else None,
    )


def _drop_staged(con: duckdb.DuckDBPyConnection, st: Staged) -> None:
    """Drop the staged table, or the staged view and then the table it reads."""
    if st.view_of is None:
        con.execute(f"drop table if exists {st.table}")
        return
    con.execute(f"drop view if exists {st.table}")
    con.execute(f"drop table if exists {st.view_of}")


def _columns_with_values(
    con: duckdb.DuckDBPyConnection, staged: str, names: tuple[str, ...]
) -> list[str]:
    """The contract columns the staged file has with at least one value: only these
    may change a stored ticket (a column a file lacks, or leaves blank throughout,
    never erases what is stored)."""
    have = {str(r[0]) for r in con.execute(f"describe {staged}").fetchall()}
    cols = [c for c in names if c in have]
    if not cols:
        return []

    def blank(c: str) -> str:
        v = f"trim({quote_ident(c)})"
        return "coalesce(" + " or ".join(f"{v} = {sql_str(t)}" for t in MISSING_TOKENS) + ", true)"

    row = con.execute(
        "select " + ", ".join(f"count(*) filter (where not {blank(c)})" for c in cols)
        + f" from {staged}"
    ).fetchone()
    return [c for c, n in zip(cols, row or (), strict=True) if n]


def _top_reasons(con: duckdb.DuckDBPyConnection, typed: str, label: str) -> list[ReasonCount]:
    rows = con.execute(
        f"""select regexp_replace(_reject_reason, '''[^'']*''', '''…''', 'g') as pattern,
                count(*) as n, arg_min(_reject_reason, _line), min(_line)
            from {typed} where _reject_reason is not null
            group by pattern order by n desc, min(_line) limit {TOP_REASONS}"""
    ).fetchall()
    return [ReasonCount(str(p), int(n), str(ex), label, int(ln)) for p, n, ex, ln in rows]
