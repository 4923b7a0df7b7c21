"""Printing an ingest result: one table of files, then the main reject reasons."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from pipelines.ingest.job import IngestResult


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
        table.add_row(  # a file name is text, never markup
            Text(f.file), f.kind or "", str(f.batch_id), f"{f.rows_read:,}", f"{f.rows_loaded:,}",
            f"[red]{f.rows_rejected:,}[/]" if f.rows_rejected else "0", f"{f.rows_new:,}",
        )
    if len(result.files) > 1:
        table.add_row(
            "total", "", "", f"{result.rows_read:,}", f"{result.rows_loaded:,}",
            f"{result.rows_rejected:,}", f"{result.rows_new:,}", style="bold",
        )
    console.print(table)

    for f in result.files:
        if f.already_loaded_batch is not None:
            console.print(f"{f.file}: already loaded in batch {f.already_loaded_batch}",
                          highlight=False, markup=False, soft_wrap=True)
        if f.ignored_columns:
            console.print(f"{f.file}: ignored columns: {', '.join(f.ignored_columns)}",
                          highlight=False, markup=False, soft_wrap=True)
        if f.date_order:
            first = "day-first" if f.date_order == "dmy" else "month-first"
            console.print(f"{f.file}: dates read {first} ({f.date_order})",
                          highlight=False, markup=False, soft_wrap=True)

    reasons = result.reject_reasons
    if reasons:
        console.print(f"rejected rows: {result.rows_rejected:,} (see meta.rejects); top reasons:")
        for r in reasons:
            console.print(
                f"  {r.count:>8,}  {r.reason}  (e.g. {r.file} line {r.line}: {r.example})",
                highlight=False, markup=False, soft_wrap=True,
            )
