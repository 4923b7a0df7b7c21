"""`tierlens metrics`: print the catalogue, write the files generated from it."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from pipelines.errors import TierlensError
from pipelines.metrics import METRICS
from pipelines.metrics.docs import DIRECTION, with_catalogue
from pipelines.metrics.sql import GENERATED_MODELS
from pipelines.sql_files import SQL_DIR

PROJECT = SQL_DIR.parent
DOCS_PAGE = PROJECT / "docs" / "metrics.md"


def generated_files() -> dict[Path, str]:
    """Every generated file and the text it should hold."""
    files = {SQL_DIR / relative: make() for relative, make in GENERATED_MODELS.items()}
    if not DOCS_PAGE.exists():
        raise TierlensError(f"{DOCS_PAGE}: missing (the catalogue table is written into it)")
    try:
        files[DOCS_PAGE] = with_catalogue(DOCS_PAGE.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise TierlensError(f"{DOCS_PAGE}: {exc}") from exc
    return files


def generate(*, check: bool = False) -> list[Path]:
    """Write (or with `check`, only compare) the generated files; the changed ones."""
    changed = []
    for path, text in generated_files().items():
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        changed.append(path)
        if not check:
            path.write_text(text, encoding="utf-8")
    return changed


def print_catalogue(console: Console) -> None:
    table = Table(header_style="bold")
    table.add_column("metric", no_wrap=True)
    for col in ("label", "statistic", "direction", "default target"):
        table.add_column(col)
    for m in METRICS:
        table.add_row(
            m.name,
            Text(m.label),
            f"{m.stat} ({m.unit})",
            DIRECTION[m.direction],
            Text(m.target.label if m.target else "-"),
        )
    wide = console if console.width >= 160 else Console(width=160, file=console.file)
    wide.print(table)
