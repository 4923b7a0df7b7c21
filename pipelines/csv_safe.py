"""CSV for people: a text cell a spreadsheet would run as a formula is written as text.

The OWASP rule for CSV injection: a cell that starts with `=`, `+`, `-`, `@`, a tab
or a carriage return gets a single quote in front (`'=HYPERLINK(...)`), which
Excel, LibreOffice and Google Sheets show as text and never evaluate. Only text
columns change: a negative number in a numeric column stays a number.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # polars is loaded by the frame functions alone (`tierlens kpis` has none)
    import polars as pl

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"
_FORMULA_START = r"^([=+\-@\t\r])"


def neutralise_text(value: str) -> str:
    """One text cell with a quote before it when it starts like a formula."""
    return QUOTE + value if value.startswith(FORMULA_STARTS) else value


def neutralise_expr(expr: pl.Expr) -> pl.Expr:
    """A string column with a quote before every cell that starts like a formula."""
    return expr.str.replace(_FORMULA_START, QUOTE + "${1}")


def neutralise_formulas(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` with its text columns (string, categorical, enum) neutralised, vectorised;
    other columns as they are."""
    import polars as pl
    import polars.selectors as cs

    text = frame.select(cs.string(include_categorical=True)).columns
    return frame.with_columns(neutralise_expr(pl.col(name).cast(pl.String)) for name in text)
