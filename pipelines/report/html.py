"""HTML building blocks of the report: tables from polars frames, Plotly figures
without their library, and the page template with its print stylesheet.

Plotly's JavaScript is inlined once in the page head (no network: the file opens
offline and prints the same anywhere); every figure is a <div> plus a call to
Plotly.newPlot.
"""

from __future__ import annotations

import html
import os
from pathlib import Path
from string import Template

import plotly.graph_objects as go
import plotly.offline
import polars as pl

from pipelines.presentation.tiles import TILE_STYLE

# The printable width of A4 with 12 mm margins, in CSS pixels (96 per inch).
FIGURE_WIDTH = 700


def esc(text: object) -> str:
    return html.escape("" if text is None else str(text), quote=True)


def _escaped(expr: pl.Expr) -> pl.Expr:
    return (
        expr.str.replace_all("&", "&amp;", literal=True)
        .str.replace_all("<", "&lt;", literal=True)
        .str.replace_all(">", "&gt;", literal=True)
        .str.replace_all('"', "&quot;", literal=True)
    )


def _as_text(frame: pl.DataFrame) -> pl.DataFrame:
    """Every column as text: lists joined with ', ', nulls empty."""
    return frame.select(
        (
            pl.col(name).list.eval(pl.element().cast(pl.String)).list.join(", ")
            if isinstance(dtype, pl.List)
            else pl.col(name).cast(pl.String)
        ).fill_null("")
        for name, dtype in frame.schema.items()
    )


def table(frame: pl.DataFrame, *, numeric: tuple[str, ...] = (), css: str = "") -> str:
    """An HTML table of `frame` (cells escaped; `numeric` columns right-aligned)."""
    if frame.is_empty():
        return ""
    text = _as_text(frame)
    cells = [
        pl.lit('<td class="num">' if name in numeric else "<td>") + _escaped(pl.col(name)) + "</td>"
        for name in text.columns
    ]
    rows = text.select(row=pl.concat_str([pl.lit("<tr>"), *cells, pl.lit("</tr>")]))
    head = "".join(
        f'<th class="num">{esc(c)}</th>' if c in numeric else f"<th>{esc(c)}</th>"
        for c in frame.columns
    )
    body = "\n".join(rows["row"].to_list())
    return f'<table class="{esc(css)}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def figure(fig: go.Figure, div_id: str, *, width: int = FIGURE_WIDTH) -> str:
    """The figure as a <div> drawn by the page's one Plotly bundle."""
    fig.update_layout(width=width, autosize=False)
    fig.update_xaxes(automargin=True)
    fig.update_yaxes(automargin=True)
    body = fig.to_html(
        full_html=False,
        include_plotlyjs=False,
        div_id=div_id,
        config={"displayModeBar": False, "responsive": False},
    )
    return f'<div class="chart">{body}</div>'


CSS = """
:root { --green: #2e9e5b; --amber: #e0a100; --red: #d64545; --grey: #8c8c8c; --blue: #5b8def; }
* { box-sizing: border-box; }
body { font: 10.5pt/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue",
       Arial, sans-serif; color: #1f2328; margin: 0 auto; padding: 16px; max-width: 760px; }
header { border-bottom: 2px solid #1f2328; margin-bottom: 12px; }
h1 { font-size: 20pt; margin: 0 0 4px; }
h2 { font-size: 14pt; margin: 18px 0 6px; border-bottom: 1px solid #d0d7de; }
h3 { font-size: 11pt; margin: 12px 0 4px; }
.meta, .note { color: #57606a; font-size: 9pt; }
.headline { font-size: 12pt; font-weight: 600; margin: 6px 0 10px; }
.headline.red { color: var(--red); } .headline.amber { color: #9a6b00; }
.headline.green { color: var(--green); }
.figures { display: grid; grid-template-columns: repeat(3, 1fr); gap: 6px; margin: 6px 0; }
.figures div { border: 1px solid #d0d7de; border-radius: 4px; padding: 6px 8px; }
.figures b { font-size: 14pt; display: block; }
table { border-collapse: collapse; width: 100%; font-size: 8.5pt; margin: 4px 0 10px; }
th, td { border-bottom: 1px solid #d0d7de; padding: 3px 5px; text-align: left;
         vertical-align: top; }
th { background: #f6f8fa; } td.num, th.num { text-align: right; }
tr { break-inside: avoid; }
.chart { break-inside: avoid; margin: 4px 0; }
section { break-before: page; }
section:first-of-type { break-before: auto; }
code { background: #f6f8fa; padding: 1px 4px; border-radius: 3px; }
@page { size: A4; margin: 12mm; }
@media print {
  body { padding: 0; max-width: none; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""

PAGE = Template(
    """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="tierlens report">
<title>$title</title>
<style>$css</style>
<script type="text/javascript">$plotlyjs</script>
</head>
<body>
<header>
<h1>$title</h1>
<p class="meta">$meta</p>
</header>
$sections
<footer class="note"><p>$footer</p></footer>
</body>
</html>
"""
)


def section(anchor: str, title: str, body: str) -> str:
    return f'<section id="{esc(anchor)}">\n<h2>{esc(title)}</h2>\n{body}\n</section>'


def page(title: str, meta: str, sections: list[str], footer: str) -> str:
    """The whole document; title, meta and footer are plain text (escaped here)."""
    return PAGE.substitute(
        title=esc(title),
        meta=esc(meta),
        footer=esc(footer),
        css=CSS + TILE_STYLE,
        plotlyjs=plotly.offline.get_plotlyjs(),
        sections="\n".join(sections),
    )


def write_atomic(path: Path, content: str | bytes) -> None:
    """Write `path` whole or not at all (temp file in the same folder, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        if isinstance(content, bytes):
            tmp.write_bytes(content)
        else:
            tmp.write_text(content, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
