"""Data shown as text: a partner, agent, note or ticket id read from an export (or a
value typed into the page address) is never taken for Markdown, HTML or a chart's
markup, wherever the dashboard or the report puts it.

- `md(text)`: for every Streamlit element that renders Markdown (st.markdown,
  st.title/header/subheader, st.caption, st.info/warning/success/error, the labels
  of radios, tabs, expanders and metrics, metric values, help tooltips). Every ASCII
  punctuation character is backslash-escaped, which stops emphasis, links, images,
  code, headings, tables, HTML, LaTeX (`$`), Streamlit's colour and badge directives
  (`:red[...]`) and its `:emoji:` and `:material/icon:` shortcodes. What escapes
  cannot stop is GitHub's autolinking of bare addresses (`https://...`, `www.`,
  `name@host`), which Streamlit applies to the text after unescaping: an invisible
  WORD JOINER (U+2060) after every `:` and `@` and between `www` and `.` breaks
  those patterns without changing what the reader sees. Line breaks and other ASCII
  whitespace read as one space (the text stays one line: no list, heading or code
  block can start). Checked in Chromium by tests/dashboard/test_payloads_browser.py.
- `plot_text(text)` and `plot_text_expr(expr)`: for Plotly (trace names, axis
  categories, hover text, labels), which reads a subset of HTML (`<b>`, `<br>`,
  `<a href>`, ...) in every string it draws. `&`, `<` and `>` become entities, which
  Plotly turns back into the characters. Quotes are left alone: Plotly decodes
  `&#39;` but not `&quot;`, and without a tag a quote is plain text.

Selectbox and multiselect options (format_func), text inputs, st.text, st.code and
the cells of st.dataframe are plain text already: they take the data as it is (an
escaped option would show its backslashes). The report's HTML escapes with
pipelines.report.html.esc.
"""

from __future__ import annotations

import html
import re
import string

import polars as pl

WORD_JOINER = "\u2060"
MARKDOWN_PUNCTUATION = frozenset(string.punctuation)
# After these, a word joiner: "https://", "mailto:", "name@host" are no longer addresses.
_JOIN_AFTER = frozenset(":@")
_WHITESPACE = re.compile(r"[ \t\n\r\f\v]+")
# "www." (any case) starts an address; its dot is escaped ("\.") by then.
_WWW_DOT = re.compile(r"(?i)(www)(\\\.)")


def md(text: object) -> str:
    """`text` (any value: str() of it) as Streamlit Markdown that shows exactly that
    text, on one line. Put it inside your own Markdown: f"**Partner:** {md(name)}"."""
    flat = _WHITESPACE.sub(" ", str(text))
    escaped = "".join(
        ("\\" + char if char in MARKDOWN_PUNCTUATION else char)
        + (WORD_JOINER if char in _JOIN_AFTER else "")
        for char in flat
    )
    return _WWW_DOT.sub(lambda m: m.group(1) + WORD_JOINER + m.group(2), escaped)


def plot_text(text: object) -> str:
    """`text` (str() of it) for a Plotly figure: shown as it is, never as markup."""
    return html.escape(str(text), quote=False)


def plot_texts(values: list[str | None], missing: str = "") -> list[str]:
    """A column's values for a Plotly figure (None as `missing`)."""
    return [plot_text(missing if v is None else v) for v in values]


def plot_text_expr(expr: pl.Expr) -> pl.Expr:
    """`plot_text` on a string column, vectorised."""
    return (
        expr.str.replace_all("&", "&amp;", literal=True)
        .str.replace_all("<", "&lt;", literal=True)
        .str.replace_all(">", "&gt;", literal=True)
    )
