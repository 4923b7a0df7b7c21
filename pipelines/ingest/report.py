"""Printing an ingest result: one table of files, then notes per file and the main
reject reasons. File names and values come from the user's data: printed as text."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from pipelines.ingest.job import IngestResult


def _say(console: Console, text: str) -> None:
    console.print(text, highlight=False, markup=False, soft_wrap=True)


def print_ingest_report(result: IngestResult, console: Console) -> None:
    table = Table(title="ingest", title_justify="left")
    table.add_column("file", overflow="fold")
    table.add_column("kind")
    table.add_column("batch", justify="right")
    for name in ("read", "loaded", "rejected", "new"):
        table.add_column(name, justify="right")
    for f in result.files:
        if f.already_loaded_batch is not None:
            table.add_row(
                Text(f.file), f.kind or "", f"already loaded in batch {f.already_loaded_batch}",
                "", "", "", "",
            )
            continue
        if f.skipped is not None:
            table.add_row(Text(f.file), "", "skipped", "", "", "", "")
            continue
        table.add_row(
            Text(f.file), f.kind or "", str(f.batch_id), f"{f.rows_read:,}",
            f"{f.rows_loaded:,}",
            Text(f"{f.rows_rejected:,}", style="red") if f.rows_rejected else "0",
            f"{f.rows_new:,}",
        )
    if len(result.files) > 1:
        table.add_row(
            "total", "", "", f"{result.rows_read:,}", f"{result.rows_loaded:,}",
            f"{result.rows_rejected:,}", f"{result.rows_new:,}", style="bold",
        )
    console.print(table)

    for f in result.files:
        if f.already_loaded_batch is not None:
            _say(console, f"{f.file}: already loaded in batch {f.already_loaded_batch}")
        if f.skipped is not None:
            _say(console, f"{f.file}: skipped: {f.skipped}")
        if f.ignored_columns:
            _say(console, f"{f.file}: ignored columns: {', '.join(f.ignored_columns)}")
        if f.recoded_lines:
            _say(console, f"{f.file}: {f.recoded_lines:,} line(s) had bytes that are not "
                          f"UTF-8, read as Windows-1252 (first: line {f.first_recoded_line}); "
                          "listed in meta.notices")
        if f.date_order:
            first = "day-first" if f.date_order == "dmy" else "month-first"
            _say(console, f"{f.file}: dates read {first} ({f.date_order})")

    reasons = result.reject_reasons
    if reasons:
        _say(console, f"rejected rows: {result.rows_rejected:,} (see meta.rejects); top reasons:")
        for r in reasons:
            _say(console, f"  {r.count:>8,}  {r.reason}  (e.g. {r.file} line {r.line}: "
                          f"{r.example})")
