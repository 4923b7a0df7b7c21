"""The escapes that keep data text (pipelines/presentation/safe_text.py): what the
reader sees is the data, and no Markdown, Streamlit directive, autolink or Plotly
markup is left to interpret. The real rendering is checked in Chromium by
tests/dashboard/test_payloads_browser.py."""

from __future__ import annotations

import html
import re
import string

import polars as pl
from hypothesis import example, given, strategies as st

from pipelines.presentation.safe_text import (
    WORD_JOINER,
    md,
    plot_text,
    plot_text_expr,
    plot_texts,
)
from tests.dashboard.payloads import PAYLOADS as DASHBOARD_PAYLOADS

PUNCTUATION = string.punctuation
# Any text, with ASCII punctuation, whitespace and Markdown words drawn often.
texts = st.lists(
    st.one_of(
        st.sampled_from(PUNCTUATION + " \t\n\r\f\v"),
        st.sampled_from(["www", "WwW", "https", "mailto", "material", "red", "smile", "x.y"]),
        st.characters(codec="utf-8"),
    )
).map("".join)
# the dashboard payload test's payloads, and mixed-case bare addresses
PAYLOADS = [*DASHBOARD_PAYLOADS, "WWW.evil.example x@evil.example"]


def seen(markdown: str) -> str:
    """What a Markdown renderer shows of `md`'s output: each escape resolved, the
    invisible word joiners left out."""
    return re.sub(r"\\([" + re.escape(PUNCTUATION) + "])", r"\1", markdown).replace(WORD_JOINER, "")


def one_line(text: str) -> str:
    """`text` as the reader sees it on one line (a word joiner is invisible)."""
    return re.sub(r"[ \t\n\r\f\v]+", " ", text).replace(WORD_JOINER, "")


@given(texts)
@example("".join(PAYLOADS))
@example(PUNCTUATION)
def test_the_reader_sees_the_text_on_one_line(text: str):
    assert seen(md(text)) == one_line(text)


@given(texts)
@example(PUNCTUATION * 2)
@example("\\" * 3 + "*")
def test_every_ascii_punctuation_character_is_escaped(text: str):
    out = md(text)
    i = 0
    while i < len(out):  # read it as a Markdown parser does: an escape, or a plain character
        if out[i] == "\\":
            assert i + 1 < len(out) and out[i + 1] in PUNCTUATION, (out, i)
            i += 2
        else:
            assert out[i] not in PUNCTUATION, (out, i)
            i += 1


@given(texts)
@example("see https://evil.example or WWW.evil.example, mail x@evil.example")
@example(":smile: :material/home: :red[x] mailto:x@y.z xmpp:a@b.c http://a.b")
def test_no_address_or_shortcode_is_left_to_link(text: str):
    # Markdown resolves the escapes, then GitHub's autolinks and Streamlit's shortcodes
    # look at the text: none of their patterns may match it.
    unescaped = re.sub(r"\\(.)", r"\1", md(text), flags=re.S)
    assert not re.search(r"(?i)https?://|www\.|(mailto|xmpp):(?!\u2060)", unescaped)
    assert not re.search(r"@[-\w]", unescaped, flags=re.A)
    assert not re.search(r":[\w+/-]+:", unescaped, flags=re.A)  # :smile:, :material/home:
    assert not re.search(r":[\w-]+\[", unescaped, flags=re.A)  # :red[...], :blue-badge[...]
    assert not re.search(r"[\n\r\t\f\v]", unescaped)


def test_plain_words_pass_unchanged():
    assert md("Acme Northwind 42 é 中文") == "Acme Northwind 42 é 中文"
    assert md("a_b") == "a\\_b"
    assert md(None) == "None" and md(3) == "3"


@given(texts)
@example("".join(PAYLOADS))
@example("&amp;lt; &#39; &quot;")
def test_plotly_text_decodes_to_the_text_and_holds_no_tag(text: str):
    out = plot_text(text)
    assert html.unescape(out) == text
    assert "<" not in out and ">" not in out
    # every '&' starts one of the entities Plotly decodes (it has no &quot;)
    assert re.fullmatch(r"(?:[^&]|&amp;|&lt;|&gt;)*", out, flags=re.S)


@given(st.lists(st.one_of(st.none(), texts), max_size=8))
def test_plotly_text_of_a_column_matches_one_by_one(values: list[str | None]):
    frame = pl.DataFrame({"v": values}, schema={"v": pl.String})
    vectorised = frame.select(plot_text_expr(pl.col("v")))["v"].to_list()
    assert vectorised == [None if v is None else plot_text(v) for v in values]
    assert plot_texts(values, "(none)") == [plot_text("(none)" if v is None else v) for v in values]
