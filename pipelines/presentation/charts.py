"""Pure chart functions: a polars frame of aggregates in, a Plotly figure out.

Figures use transparent backgrounds and the colours below, which read on light
and dark themes; titles say what good looks like. No Streamlit here.

Plotly reads a subset of HTML in every string it draws, so every text that comes
from the data (partners, groups, statuses, ...) goes through safe_text.plot_text.
"""

from __future__ import annotations

import textwrap
from datetime import date, timedelta
from typing import Any

import plotly.graph_objects as go
import polars as pl

from pipelines.presentation.control import FULL, PARTIAL, pct_text, week_kinds, weekly_p_chart
from pipelines.presentation.format import (
    STATUS_COLOURS,
    TIER_COLOURS,
    UNKNOWN_TIER_COLOUR,
    goodness,
    label,
    unit,
)
from pipelines.presentation.safe_text import plot_text, plot_text_expr, plot_texts

# Partners and other series: no red, green or amber (those mean a status), readable
# on light and dark pages (see format.TIER_COLOURS). A line chart with more series
# than colours draws the next ones dashed (SERIES_DASHES).
SERIES_COLOURS = (
    "#3b6fd8",
    "#c24fb0",
    "#1c9bb8",
    "#7c4dd6",
    "#6e7fa6",
    "#a35b8f",
)
SERIES_DASHES = ("solid", "dash", "dot")
GREEN_BAND = "rgba(46, 158, 91, 0.15)"
GRID = "rgba(128, 128, 128, 0.25)"
GREY = STATUS_COLOURS["insufficient"]  # not judged: as the scorecard's tiles say it
ALL_TICKETS = "All tickets"
TITLE_WIDTH = 40
MAX_WEEK_TICKS = 16
TREND_HEIGHT = 400
# The trend legend's order: the lines first, then what is drawn around them.
TIMELINE_BASE_HEIGHT = 220
TIMELINE_ROW_HEIGHT = 45
LEGEND_RANKS = {"series": 100, "band": 200, "signal": 300, "few": 400, "limits": 500}


def _base(fig: go.Figure, title: str, *, height: int = 360) -> go.Figure:
    # wrapped: Plotly never wraps a title, and a phone shows about 40 characters;
    # the top margin grows with the lines, so none is cut off
    lines = textwrap.wrap(title, TITLE_WIDTH) or [""]
    fig.update_layout(
        title={
            "text": "<br>".join(plot_text(line) for line in lines),
            "x": 0,
            "xanchor": "left",
            "y": 1,
            "yref": "container",
            "yanchor": "top",
            "pad": {"t": 18},
            "font": {"size": 15},
        },
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        height=height + 20 * (len(lines) - 1),
        margin={"l": 10, "r": 10, "t": 40 + 20 * len(lines), "b": 10},
        legend={"orientation": "h", "y": -0.24},  # below the x axis and its title
        hovermode="closest",
    )
    fig.update_xaxes(gridcolor=GRID, zeroline=False)
    fig.update_yaxes(gridcolor=GRID, zeroline=False)
    return fig


def _value_axis(fig: go.Figure, unit_: str) -> None:
    if unit_ == "%":
        fig.update_yaxes(tickformat=".0%", rangemode="tozero")
    elif unit_ == "min":
        fig.update_yaxes(ticksuffix=" min", rangemode="tozero")
    elif unit_ == "x":
        fig.update_yaxes(ticksuffix="x", rangemode="tozero")
    else:
        fig.update_yaxes(rangemode="tozero")


def trend_chart(
    weekly: pl.DataFrame,
    metric: str,
    target: dict[str, float | None] | None = None,
    *,
    split_label: str | None = None,
    min_sample: int = 0,
    complete_until: date | None = None,
    hide_few: bool = False,
    signals: bool = True,
) -> go.Figure:
    """Weekly lines of one KPI. `weekly` has week_start and value, and optionally:
    split (one line per value); sample and status (a week with fewer than
    `min_sample` cases or a status of 'insufficient', or after `complete_until`, the
    last complete week, is a hollow grey point off the line, or left out with
    `hide_few`); ci_low and ci_high (a shaded 95% band); numerator and
    denominator (for a rate KPI, a p-chart of the full weeks, control.p_chart: its
    signals marked, and with one line its centre line and 3-sigma limits). The
    target's green band is shaded."""
    unit_ = unit(metric)
    frame = _trend_frame(weekly, min_sample, complete_until)
    names = frame["split"].unique(maintain_order=True).to_list()
    chart = weekly_p_chart(frame, metric) if signals else None
    fig = go.Figure()
    for i, name in enumerate(names):
        part = frame.filter(pl.col("split") == name).sort("week_start")
        colour, dash = _series_style(i)
        _add_band(fig, part, colour, name, alone=len(names) == 1)
        _add_line(fig, part, (colour, dash), name, unit_)
        if not hide_few:
            _add_few(fig, part, name, unit_)
        if chart is not None:
            _add_signals(fig, chart.filter(pl.col("split") == name), colour, name, unit_)
    if chart is not None and len(names) == 1:
        _add_limits(fig, chart, unit_)
    band = _green_band(target)
    if band is not None:
        fig.add_hrect(
            y0=band[0],
            y1=band[1],
            fillcolor=GREEN_BAND,
            line_width=0,
            layer="below",
            annotation_text="target",
            annotation_position="top left",
        )
    split_text = f" by {split_label}" if split_label else ""
    good = f"{goodness(metric)}; green band = target" if band else goodness(metric)
    _base(fig, "", height=TREND_HEIGHT)
    _two_line_title(fig, f"{label(metric)}{split_text}, weekly", good)
    _legend_below(fig)
    _value_axis(fig, unit_)
    _week_axis(fig, frame["week_start"].unique().sort().to_list())
    return fig


def _trend_frame(
    weekly: pl.DataFrame, min_sample: int, complete_until: date | None
) -> pl.DataFrame:
    """The weekly rows with a split column (one value when not split) and week_kind."""
    frame = weekly if "split" in weekly.columns else weekly.with_columns(split=pl.lit(ALL_TICKETS))
    frame = frame.with_columns(pl.col("split").cast(pl.String).fill_null("(none)"))
    return week_kinds(frame, min_sample, complete_until)


def _series_style(i: int) -> tuple[str, str]:
    """Colour and dash of the i-th line: every colour solid, then dashed, then dotted."""
    n = len(SERIES_COLOURS)
    return SERIES_COLOURS[i % n], SERIES_DASHES[(i // n) % len(SERIES_DASHES)]


def _hover_format(unit_: str) -> str:
    """A d3 format for a value in the unit (hover templates): 41.2%, 1,234 min, 2.5x."""
    return {"%": ".1%", "min": ",.0f min", "x": ".1fx"}.get(unit_, ",.0f")


def _rgba(colour: str, alpha: float) -> str:
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red}, {green}, {blue}, {alpha})"


def _first_of(fig: go.Figure, meta: str) -> bool:
    """No trace of this kind yet: the one to show in the legend."""
    return not any(trace.meta == meta for trace in fig.data)


def _cases_text(part: pl.DataFrame) -> pl.Expr:
    """"1 case", "341 cases" (empty without a sample column)."""
    if "sample" not in part.columns:
        return pl.lit("")
    noun = pl.when(pl.col("sample") == 1).then(pl.lit("case")).otherwise(pl.lit("cases"))
    return pl.format("{} {}", pl.col("sample"), noun)


def _week_details(part: pl.DataFrame, unit_: str) -> pl.Expr:
    """Hover text of a week: its cases, and a rate's 95% interval."""
    text = _cases_text(part)
    if unit_ == "%" and {"ci_low", "ci_high"} <= set(part.columns):
        interval = pl.format("; 95% interval {}–{}", pct_text("ci_low"), pct_text("ci_high"))
        text = text.fill_null("") + interval.fill_null("")
    return text.fill_null("")


def _band_path(part: pl.DataFrame) -> tuple[list[Any], list[Any]]:
    """The outline of the 95% band over each run of consecutive full weeks, as
    Plotly's fill="toself" wants it (x, y; None between runs). A lone week's band is
    four days wide so that it shows."""
    pad = timedelta(days=2)
    first = pl.col("x").list.first()
    runs = (
        part.with_columns(run=(pl.col("week_kind") != FULL).cum_sum())
        .filter(
            (pl.col("week_kind") == FULL)
            & pl.col("ci_low").is_not_null()
            & pl.col("ci_high").is_not_null()
        )
        .group_by("run", maintain_order=True)
        .agg(x=pl.col("week_start"), low=pl.col("ci_low"), high=pl.col("ci_high"))
        .with_columns(alone=pl.col("x").list.len() == 1)
        .with_columns(
            x=pl.when("alone").then(pl.concat_list(first - pad, first + pad)).otherwise("x"),
            low=pl.when("alone").then(pl.concat_list("low", "low")).otherwise("low"),
            high=pl.when("alone").then(pl.concat_list("high", "high")).otherwise("high"),
        )
        .select(
            x=pl.concat_list("x", pl.col("x").list.reverse(), pl.lit(None, dtype=pl.Date)),
            y=pl.concat_list("high", pl.col("low").list.reverse(), pl.lit(None, pl.Float64)),
        )
    )
    return runs["x"].explode().to_list(), runs["y"].explode().to_list()


def _add_band(fig: go.Figure, part: pl.DataFrame, colour: str, name: str, *, alone: bool) -> None:
    """The 95% interval of the full weeks as a shaded band (not error bars)."""
    if not {"ci_low", "ci_high"} <= set(part.columns):
        return
    x, y = _band_path(part)
    if not x:
        return
    fig.add_trace(
        go.Scatter(
            x=x,
            y=y,
            fill="toself",
            fillcolor=_rgba(colour, 0.2 if alone else 0.1),
            line={"width": 0},
            mode="lines",
            hoverinfo="skip",
            name="95% interval" if alone else f"{plot_text(name)}: 95% interval",
            legendgroup=plot_text(name),
            legendrank=LEGEND_RANKS["band"],
            showlegend=alone,
            meta="band",
        )
    )


def _add_line(
    fig: go.Figure, part: pl.DataFrame, style: tuple[str, str], name: str, unit_: str
) -> None:
    """The line through the full weeks; a week that is not full breaks it."""
    colour, dash = style
    shown = part.select(
        y=pl.when(pl.col("week_kind") == FULL).then(pl.col("value")),
        details=_week_details(part, unit_),
    )
    fig.add_trace(
        go.Scatter(
            x=part["week_start"].to_list(),
            y=shown["y"].to_list(),
            name=plot_text(name),
            legendgroup=plot_text(name),
            legendrank=LEGEND_RANKS["series"],
            mode="lines+markers",
            connectgaps=False,
            line={"color": colour, "width": 2, "dash": dash},
            marker={"color": colour, "size": 7},
            customdata=shown["details"].to_list(),
            hovertemplate=f"week of %{{x|%d %b %Y}}: %{{y:{_hover_format(unit_)}}}"
            f"<br>%{{customdata}}<extra>{plot_text(name)}</extra>",
            meta="series",
        )
    )


def _add_few(fig: go.Figure, part: pl.DataFrame, name: str, unit_: str) -> None:
    """Weeks too small to judge, or not over: hollow grey points, off the line."""
    few = part.filter(pl.col("week_kind") != FULL, pl.col("value").is_not_null())
    if few.is_empty():
        return
    cases = _cases_text(few)
    why = (
        pl.when(pl.col("week_kind") == PARTIAL)
        .then(pl.concat_str(pl.lit("partial week, not over yet"), cases, separator=": "))
        .otherwise(pl.concat_str(pl.lit("too few cases to judge"), cases, separator=": "))
    )
    fig.add_trace(
        go.Scatter(
            x=few["week_start"].to_list(),
            y=few["value"].to_list(),
            mode="markers",
            marker={"symbol": "circle-open", "size": 9, "color": GREY, "line": {"width": 2}},
            name="Not judged: few cases or week under way",
            legendgroup="few",
            legendrank=LEGEND_RANKS["few"],
            showlegend=_first_of(fig, "few"),
            customdata=few.select(why).to_series().to_list(),
            hovertemplate=f"week of %{{x|%d %b %Y}}: %{{y:{_hover_format(unit_)}}}"
            f"<br>%{{customdata}}<extra>{plot_text(name)}</extra>",
            meta="few",
        )
    )


def _add_signals(fig: go.Figure, chart: pl.DataFrame, colour: str, name: str, unit_: str) -> None:
    """The weeks the p-chart signals, ringed by a hollow diamond."""
    signalled = chart.filter(pl.col("signal").is_not_null())
    if signalled.is_empty():
        return
    fig.add_trace(
        go.Scatter(
            x=signalled["week_start"].to_list(),
            y=signalled["rate"].to_list(),
            mode="markers",
            marker={
                "symbol": "diamond-open",
                "size": 18,
                "color": colour,
                "line": {"width": 2.5, "color": colour},
            },
            name="Signal",
            legendgroup="signal",
            legendrank=LEGEND_RANKS["signal"],
            showlegend=_first_of(fig, "signal"),
            customdata=signalled["signal"].to_list(),
            hovertemplate=f"week of %{{x|%d %b %Y}}: %{{y:{_hover_format(unit_)}}}"
            f"<br>signal: %{{customdata}}<extra>{plot_text(name)}</extra>",
            meta="signal",
        )
    )


def _add_limits(fig: go.Figure, chart: pl.DataFrame, unit_: str) -> None:
    """The p-chart's centre line (pooled rate) and each week's 3-sigma limits."""
    if chart.is_empty():
        return
    weeks = chart["week_start"].to_list()
    fig.add_trace(
        go.Scatter(
            x=weeks,
            y=chart["centre"].to_list(),
            mode="lines",
            line={"color": GREY, "width": 1, "dash": "dash"},
            name=f"Average {chart.head(1).select(pct_text('centre')).item()}",
            legendrank=LEGEND_RANKS["limits"],
            hoverinfo="skip",
            meta="centre",
        )
    )
    for column, first in (("upper", True), ("lower", False)):
        fig.add_trace(
            go.Scatter(
                x=weeks,
                y=chart[column].to_list(),
                mode="lines",
                line={"color": GREY, "width": 1, "dash": "dot", "shape": "hvh"},
                name="Control limits (3σ)",
                legendgroup="limits",
                legendrank=LEGEND_RANKS["limits"] + 1,
                showlegend=first,
                hovertemplate=f"{column} limit: %{{y:{_hover_format(unit_)}}}<extra></extra>",
                meta="limits",
            )
        )


def _two_line_title(fig: go.Figure, title: str, subtitle: str) -> None:
    """A short title (wrapped past TITLE_WIDTH characters: Plotly never wraps, and a
    phone shows about 40) over a smaller line saying what good looks like."""
    lines = textwrap.wrap(title, TITLE_WIDTH) or [""]
    fig.update_layout(
        title={
            "text": "<br>".join(plot_text(line) for line in lines),
            "subtitle": {"text": plot_text(subtitle), "font": {"size": 12}},
            "x": 0,
            "xanchor": "left",
            "font": {"size": 15},
            "automargin": True,
        },
        margin={"t": 30},
    )


def _legend_below(fig: go.Figure) -> None:
    """The legend at the foot of the figure, under the axis labels, so that it never
    covers the title or the plot, however narrow the screen."""
    fig.update_layout(
        legend={
            "orientation": "h",
            "traceorder": "normal",  # grouped would start a row per group
            "yref": "container",
            "y": 0,
            "yanchor": "bottom",
            "x": 0,
            "xanchor": "left",
        }
    )


def _week_axis(fig: go.Figure, weeks: list[date]) -> None:
    """A date axis with one tick per week ("03 Mar") when there are few enough."""
    fig.update_xaxes(type="date", tickformat="%d %b", hoverformat="%d %b %Y")
    if 0 < len(weeks) <= MAX_WEEK_TICKS:
        fig.update_xaxes(
            tickmode="array",
            tickvals=weeks,
            ticktext=pl.Series(weeks, dtype=pl.Date).dt.strftime("%d %b").to_list(),
        )


def _green_band(target: dict[str, float | None] | None) -> tuple[float, float] | None:
    if not target:
        return None
    low, high = target.get("green_min"), target.get("green_max")
    if low is None and high is None:
        return None
    return (low if low is not None else 0.0, high if high is not None else 1.0)


def partner_chart(compared: pl.DataFrame, metric: str) -> go.Figure:
    """Partners side by side on one rate KPI: the observed rate with its 95%
    Wilson interval and the case-mix adjusted rate (indirect standardisation,
    stats.indirect_standardise) with its 95% interval; a partner with too few cases
    has no adjusted bar (a null adjusted_rate).

    `compared` has partner, value, ci_low, ci_high, adjusted_rate, adjusted_low,
    adjusted_high."""
    frame = compared.sort("partner")
    partners = plot_texts(frame["partner"].to_list(), "(none)")
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            x=partners,
            y=frame["value"].to_list(),
            name="Observed (95% Wilson interval)",
            marker_color=SERIES_COLOURS[0],
            error_y={
                "type": "data",
                "symmetric": False,
                "array": (frame["ci_high"] - frame["value"]).to_list(),
                "arrayminus": (frame["value"] - frame["ci_low"]).to_list(),
            },
        )
    )
    if "adjusted_rate" in frame.columns:
        fig.add_trace(
            go.Bar(
                x=partners,
                y=frame["adjusted_rate"].to_list(),
                name="Case-mix adjusted, where enough cases (95% interval)",
                marker_color=SERIES_COLOURS[1],
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": (frame["adjusted_high"] - frame["adjusted_rate"]).to_list(),
                    "arrayminus": (frame["adjusted_rate"] - frame["adjusted_low"]).to_list(),
                },
            )
        )
    fig.update_layout(barmode="group")
    _base(fig, f"{label(metric)} by partner, observed and adjusted ({goodness(metric)})")
    _value_axis(fig, unit(metric))
    return fig


def sankey_chart(nodes: pl.DataFrame, links: pl.DataFrame) -> go.Figure:
    """Tier paths: nodes (label, tier) and links (source, target, value)."""
    colours = [TIER_COLOURS.get(t, "#8c8c8c") for t in nodes["tier"].to_list()]
    fig = go.Figure(
        go.Sankey(
            arrangement="snap",
            node={
                "label": plot_texts(nodes["label"].to_list()),
                "color": colours,
                "pad": 18,
                "thickness": 16,
            },
            link={
                "source": links["source"].to_list(),
                "target": links["target"].to_list(),
                "value": links["value"].to_list(),
                "color": "rgba(128, 128, 128, 0.35)",
            },
        )
    )
    return _base(
        fig,
        "Tier paths of resolved tickets (good: most stop at L1; thin flows back down)",
        height=420,
    )


def pingpong_chart(pairs: pl.DataFrame) -> go.Figure:
    """Top ping-pong pairs (group_a, group_b, n_tickets), largest at the top."""
    frame = pairs.sort("n_tickets")
    group_a, group_b = plot_text_expr(pl.col("group_a")), plot_text_expr(pl.col("group_b"))
    names = frame.select(
        pl.concat_str(group_a, group_b, group_a, separator=" → ", ignore_nulls=False)
    ).to_series()
    fig = go.Figure(
        go.Bar(
            x=frame["n_tickets"].to_list(),
            y=names.to_list(),
            orientation="h",
            marker_color=SERIES_COLOURS[3],
        )
    )
    _base(fig, "Tickets bounced A → B → A, by group pair (fewer is better)", height=380)
    fig.update_xaxes(title="tickets")
    return fig


# status_class -> legend text, Plotly pattern and opacity of its segments: the tier is
# the colour, what the ticket was doing is the fill.
SEGMENT_STYLES: dict[str, tuple[str, str, float]] = {
    "work": ("Worked on (solid)", "", 1.0),
    "queue": ("In a queue (hatched)", "/", 1.0),
    "wait": ("Waiting on user or vendor (dotted)", ".", 0.7),
}
OTHER_SEGMENT = ("Resolved, or other (faint)", "", 0.3)
TIMELINE_KEY_COLOUR = "#7f8794"  # the legend's swatches of the fills: a neutral grey
COMPRESSED_TICKS = 5


def timeline_chart(
    events: pl.DataFrame, handoffs: pl.DataFrame | None = None, *, compressed: bool = False
) -> go.Figure:
    """One ticket's timeline: `events` (queries.ticket_events) has start, held_group,
    held_tier, status, status_class and minutes (minutes held), and optionally
    event_index, held_agent, business_minutes, is_paused, is_handoff, note_kind,
    note_text. Each bar is one step: who held the ticket (a row per group), its
    tier (the colour) and what it was doing (the fill: solid work, hatched queue,
    dotted wait, faint after resolution). With `compressed`, every step's width is
    1 + ln(1 + minutes) instead of its length, so a two-year wait no longer hides
    the minutes around it. Each handoff is marked; `handoffs`
    (queries.ticket_handoffs: event_index, kind, from_tier, to_tier, from_group,
    to_group, note) gives its hover text and escalation note."""
    segments = timeline_segments(events, compressed=compressed)
    fig = go.Figure()
    _add_segments(fig, segments)
    _add_timeline_keys(fig, segments)
    _add_handoffs(fig, segments, handoffs)
    fig.update_layout(barmode="overlay")
    fig.update_yaxes(autorange="reversed", title=None)
    if compressed:
        _compressed_axis(fig, segments)
    else:
        fig.update_xaxes(type="date")
    n_rows = max(segments["group"].n_unique(), 1)
    _base(fig, "", height=TIMELINE_BASE_HEIGHT + TIMELINE_ROW_HEIGHT * n_rows)
    _two_line_title(
        fig,
        "Who held the ticket, over time",
        "colour = tier; good: one short stay per tier",
    )
    _legend_below(fig)
    return fig


def timeline_segments(events: pl.DataFrame, *, compressed: bool = False) -> pl.DataFrame:
    """One row per step, in order: group (as Plotly shows it), tier, status_class,
    x0 and width (a start and a length in milliseconds, or on the compressed scale),
    is_handoff, event_index and the hover text. A step lasts its minutes held, at
    least a minute (the last one, the resolution, holds none)."""
    optional: dict[str, pl.Expr] = {
        "event_index": pl.int_range(pl.len()) + 1,
        "status_class": pl.lit(None, pl.String),
        "held_agent": pl.lit(None, pl.String),
        "business_minutes": pl.lit(None, pl.Float64),
        "is_paused": pl.lit(False),
        "is_handoff": pl.lit(False),
        "note_kind": pl.lit(None, pl.String),
        "note_text": pl.lit(None, pl.String),
    }
    frame = events.with_columns(
        expr.alias(name) for name, expr in optional.items() if name not in events.columns
    ).sort("start", "event_index")
    minutes = pl.max_horizontal(pl.col("minutes").fill_null(0.0), pl.lit(1.0))
    log_width = 1 + (1 + pl.col("minutes").fill_null(0.0)).log()
    return frame.select(
        "event_index",
        "start",
        "is_handoff",
        group=plot_text_expr(pl.col("held_group").fill_null("(no group)")),
        tier=pl.col("held_tier").fill_null("unknown tier"),
        status_class=pl.col("status_class").fill_null("unknown"),
        x0=(log_width.cum_sum() - log_width) if compressed else pl.col("start"),
        width=log_width if compressed else minutes * 60_000,
        hover=_segment_hover(),
    )


def _segment_hover() -> pl.Expr:
    """A step's hover text: group (tier), status (class), agent, start, minutes and
    business minutes, paused or not; data escaped for Plotly."""
    business = pl.when(pl.col("business_minutes").is_not_null()).then(
        pl.format(
            ", {} business min{}",
            pl.col("business_minutes").round(0).cast(pl.Int64),
            pl.when(pl.col("is_paused")).then(pl.lit(", clock paused")).otherwise(pl.lit("")),
        )
    )
    return pl.concat_str(
        plot_text_expr(pl.col("held_group").fill_null("(no group)")),
        pl.format(" ({})", plot_text_expr(pl.col("held_tier").fill_null("no tier"))),
        pl.format(
            "<br>{} ({})",
            plot_text_expr(pl.col("status").fill_null("no status")),
            pl.col("status_class").fill_null("unknown"),
        ),
        pl.format("<br>agent {}", plot_text_expr(pl.col("held_agent"))).fill_null(""),
        pl.format(
            "<br>from {}: {} min",
            pl.col("start").dt.strftime("%d %b %Y %H:%M"),
            pl.col("minutes").fill_null(0.0).round(0).cast(pl.Int64),
        ),
        business.fill_null(""),
    )


def _segment_style(status_class: str) -> tuple[str, str, float]:
    return SEGMENT_STYLES.get(status_class, OTHER_SEGMENT)


def _add_segments(fig: go.Figure, segments: pl.DataFrame) -> None:
    """A bar per step, one trace per tier and status class (legend keys apart)."""
    for (tier, status_class), part in segments.partition_by(
        "tier", "status_class", as_dict=True, maintain_order=True
    ).items():
        colour = TIER_COLOURS.get(str(tier), UNKNOWN_TIER_COLOUR)
        _, shape, opacity = _segment_style(str(status_class))
        fig.add_trace(
            go.Bar(
                base=part["x0"].to_list(),
                x=part["width"].to_list(),
                y=part["group"].to_list(),
                orientation="h",
                name=f"{plot_text(tier)} · {status_class}",
                showlegend=False,
                opacity=opacity,
                marker={
                    "color": colour,
                    "line": {"color": colour, "width": 1},
                    "pattern": {"shape": shape, "fillmode": "replace", "fgcolor": colour},
                },
                customdata=part["hover"].to_list(),
                hovertemplate="%{customdata}<extra></extra>",
                meta="segment",
            )
        )


def _add_timeline_keys(fig: go.Figure, segments: pl.DataFrame) -> None:
    """The legend: a swatch per tier (its colour) and per fill (what the step was)."""
    tiers = segments["tier"].unique(maintain_order=True).to_list()
    fills = [
        _segment_style(c) for c in segments["status_class"].unique(maintain_order=True).to_list()
    ]
    keys = [(plot_text(t), TIER_COLOURS.get(t, UNKNOWN_TIER_COLOUR), "", 1.0) for t in tiers] + [
        (text, TIMELINE_KEY_COLOUR, shape, opacity)
        for text, shape, opacity in dict.fromkeys(fills)
    ]
    for name, colour, shape, opacity in keys:
        fig.add_trace(
            go.Bar(
                x=[None],
                y=[None],
                orientation="h",
                name=name,
                opacity=opacity,
                marker={
                    "color": colour,
                    "line": {"color": colour, "width": 1},
                    "pattern": {"shape": shape, "fillmode": "replace", "fgcolor": colour},
                },
                hoverinfo="skip",
                meta="key",
            )
        )


def _add_handoffs(
    fig: go.Figure, segments: pl.DataFrame, handoffs: pl.DataFrame | None
) -> None:
    """A marker where each handoff lands, its hover the step and the note handed over
    (the escalation note of an escalation, else the event's own note)."""
    marks = segments.filter(pl.col("is_handoff"))
    if marks.is_empty():
        return
    if handoffs is not None and handoffs.height:
        marks = marks.join(
            handoffs.select("event_index", "kind", "from_tier", "to_tier", "note"),
            on="event_index",
            how="left",
        )
    else:
        marks = marks.with_columns(
            kind=pl.lit("handoff"),
            from_tier=pl.lit(None, pl.String),
            to_tier=pl.lit(None, pl.String),
            note=pl.lit(None, pl.String),
        )
    fig.add_trace(
        go.Scatter(
            x=marks["x0"].to_list(),
            y=marks["group"].to_list(),
            mode="markers",
            marker={"symbol": "triangle-right", "size": 12, "color": TIMELINE_KEY_COLOUR},
            name="Handoff (hover: the note)",
            customdata=marks.select(_handoff_hover()).to_series().to_list(),
            hovertemplate="%{customdata}<extra></extra>",
            meta="handoff",
        )
    )


NOTE_PREVIEW = 400  # characters of a note in a hover box; the list under the chart has all


def _handoff_hover() -> pl.Expr:
    """'Escalation L1 → L2 to IAM-L2' and the note, wrapped in lines of about 60
    characters (Plotly never wraps a hover box), escaped for Plotly."""
    kind = pl.col("kind").fill_null("handoff")
    step = pl.concat_str(
        kind.str.slice(0, 1).str.to_uppercase() + kind.str.slice(1),
        pl.format(" {} → {}", pl.col("from_tier"), pl.col("to_tier")).fill_null(""),
        pl.format(" to {}", pl.col("group")),
    )
    flat = pl.col("note").str.replace_all(r"\s+", " ")
    short = pl.when(flat.str.len_chars() > NOTE_PREVIEW).then(
        flat.str.slice(0, NOTE_PREVIEW) + "…"
    ).otherwise(flat)
    wrapped = plot_text_expr(short).str.replace_all(r"(.{60,}?) ", "${1}<br>")
    return pl.concat_str(
        step,
        pl.format("<br><i>note:</i> {}", wrapped).fill_null("<br>no note handed over"),
    )


def _compressed_axis(fig: go.Figure, segments: pl.DataFrame) -> None:
    """The compressed scale's ticks: the start of a step in each fifth of the width,
    labelled with its date and time."""
    total = (pl.col("x0").last() + pl.col("width").last()).clip(lower_bound=1.0)
    ticks = (
        segments.with_columns(bucket=(pl.col("x0") / total * COMPRESSED_TICKS).floor())
        .unique("bucket", keep="first", maintain_order=True)
        .select("x0", text=pl.col("start").dt.strftime("%d %b %Y<br>%H:%M"))
    )
    fig.update_xaxes(
        type="linear",
        tickmode="array",
        tickvals=ticks["x0"].to_list(),
        ticktext=ticks["text"].to_list(),
        showgrid=False,
        title={
            "text": "compressed: a step's width grows with the log of its length",
            "font": {"size": 11},
        },
    )


def review_rate_chart(figures: pl.DataFrame) -> go.Figure:
    """The unnecessary-escalation rate as the rules see it and as the reviewers'
    weighted sample estimates it, each with its 95% interval. `figures` has
    figure (the row's label), value, ci_low, ci_high (nulls for no interval)."""
    frame = figures.filter(pl.col("value").is_not_null())
    fig = go.Figure(
        go.Scatter(
            x=frame["value"].to_list(),
            y=plot_texts(frame["figure"].to_list()),
            mode="markers",
            marker={"size": 14, "color": SERIES_COLOURS[: frame.height]},
            error_x={
                "type": "data",
                "symmetric": False,
                "array": (frame["ci_high"] - frame["value"]).fill_null(0).to_list(),
                "arrayminus": (frame["value"] - frame["ci_low"]).fill_null(0).to_list(),
                "thickness": 2,
                "width": 8,
            },
            hovertemplate="%{y}: %{x:.1%}<extra></extra>",
        )
    )
    _base(fig, "Unnecessary escalations: rules vs reviewed sample (95% intervals)", height=220)
    fig.update_xaxes(tickformat=".0%", rangemode="tozero")
    fig.update_yaxes(autorange="reversed")
    return fig


def action_trend_chart(weeks: list[date], counts: pl.DataFrame) -> go.Figure:
    """Weekly counts of the review's action kinds: `counts` has kind and trend (a
    list of counts aligned with `weeks`, oldest first)."""
    fig = go.Figure()
    for i, row in enumerate(counts.select("kind", "trend").rows()):
        fig.add_trace(
            go.Bar(
                x=weeks,
                y=row[1],
                name=plot_text(row[0]),
                marker_color=SERIES_COLOURS[i % len(SERIES_COLOURS)],
            )
        )
    fig.update_layout(barmode="group")
    _base(fig, "Review findings per week (fewer is better)", height=300)
    fig.update_xaxes(type="date", tickformat="%d %b")
    return fig


# A funnel point's colour, size and symbol by its tone: where it falls.
FUNNEL_TONES: dict[str, dict[str, Any]] = {
    "within": {"color": "#3b6fd8", "size": 11, "symbol": "circle"},
    "watch": {"color": "#e0a100", "size": 12, "symbol": "circle"},
    "better": {"color": "#2e9e5b", "size": 13, "symbol": "circle"},
    "worse": {"color": "#d64545", "size": 13, "symbol": "circle"},
    "outside": {"color": "#8e5bd6", "size": 13, "symbol": "circle"},
    "peer": {"color": "#9aa5b1", "size": 10, "symbol": "circle"},
    "own": {"color": "#3b6fd8", "size": 14, "symbol": "diamond"},
}
FUNNEL_NAMED = ("watch", "better", "worse", "outside")  # tones whose points carry their name
FUNNEL_LINE = "#8c8c8c"


def _add_funnel_limits(fig: go.Figure, limits: pl.DataFrame) -> None:
    for low, high, name, dash in (
        ("lower998", "upper998", "99.8% limits", "dot"),
        ("lower95", "upper95", "95% limits", "dash"),
    ):
        for col, shown in ((low, True), (high, False)):
            fig.add_trace(
                go.Scatter(
                    x=limits["cases"].to_list(),
                    y=limits[col].to_list(),
                    mode="lines",
                    line={"color": FUNNEL_LINE, "dash": dash, "width": 1},
                    name=name,
                    legendgroup=name,
                    showlegend=shown,
                    hoverinfo="skip",
                )
            )


def _add_funnel_points(fig: go.Figure, part: pl.DataFrame) -> None:
    tone = str(part["tone"][0])
    hover = part.select(
        plot_text_expr(pl.col("name").fill_null(""))
        + "<br>"
        + plot_text_expr(pl.col("detail").fill_null("")).str.replace_all("\n", "<br>", literal=True)
    ).to_series()
    fig.add_trace(
        go.Scatter(
            x=part["x"].to_list(),
            y=part["y"].to_list(),
            mode="markers+text" if tone in FUNNEL_NAMED else "markers",
            text=plot_texts(part["name"].to_list()) if tone in FUNNEL_NAMED else None,
            textposition="top center",
            marker=FUNNEL_TONES.get(tone, FUNNEL_TONES["within"]),
            name=plot_text(part["group"][0]),
            hovertext=hover.to_list(),
            hovertemplate="%{hovertext}<extra></extra>",
            customdata=part["key"].to_list(),
        )
    )


def funnel_chart(
    points: pl.DataFrame,
    pooled: float,
    metric: str,
    *,
    title: str,
    x_title: str = "cases (log scale)",
) -> go.Figure:
    """A funnel plot (Spiegelhalter 2005) of one rate KPI: each point's rate (y)
    against its cases (x, log scale), the pooled rate as a line and the 95% and
    99.8% limits around it (stats.funnel_limits: exact binomial). Inside the
    funnel a point differs from the pooled rate by no more than chance gives a unit
    of its size.

    `points`: name, x, y, group (one trace per group, legend name, in order of first
    appearance), tone (a key of FUNNEL_TONES: its colour; points outside the limits
    also show their name), detail (hover lines after the name, split by newlines)
    and key (customdata, for a click handler: the partner as it is in the data, or
    null for a point that must not be named; never put it in a template). Names,
    groups and details are shown as text (plot_text)."""
    from pipelines.presentation.stats import funnel_limits

    top = 1.2 * max(points.select(pl.col("x").max()).item() or 1.0, 1.0)
    fig = go.Figure()
    _add_funnel_limits(fig, funnel_limits(pooled, top))
    fig.add_hline(y=pooled, line={"color": FUNNEL_LINE, "width": 1})
    for part in points.partition_by("group", maintain_order=True):
        _add_funnel_points(fig, part)
    fig.update_xaxes(type="log", title_text=x_title)
    _base(fig, title, height=420)
    _value_axis(fig, unit(metric))
    return fig


def peer_funnel_chart(own: pl.DataFrame, peers: pl.DataFrame, metric: str) -> go.Figure:
    """A partner against its unnamed peers on one rate KPI, as a funnel plot: each
    desk's rate against its number of cases, with the 95% and 99.8% limits around the
    pooled rate. `own` has partner, numerator, denominator; `peers` has peer,
    numerator, denominator (one row each); a peer is never named (not even in the
    figure's data)."""
    both = pl.concat(
        [own.select("numerator", "denominator"), peers.select("numerator", "denominator")]
    )
    pooled = float(both["numerator"].sum()) / float(both["denominator"].sum())
    rows = [
        peers.select(
            pl.lit("another partner").alias("name"),
            pl.lit("Other partners (unnamed)").alias("group"),
            pl.lit("peer").alias("tone"),
            pl.lit(None, dtype=pl.String).alias("key"),
            "numerator",
            "denominator",
        ),
        own.head(1).select(
            pl.col("partner").cast(pl.String).alias("name"),
            pl.col("partner").cast(pl.String).alias("group"),
            pl.lit("own").alias("tone"),
            pl.col("partner").cast(pl.String).alias("key"),
            "numerator",
            "denominator",
        ),
    ]
    points = pl.concat(rows, how="vertical_relaxed").select(
        "name",
        "group",
        "tone",
        "key",
        pl.col("denominator").alias("x"),
        (pl.col("numerator") / pl.col("denominator")).alias("y"),
        pl.format(
            "{}% of {} cases",
            (pl.col("numerator") / pl.col("denominator") * 100).round(1),
            pl.col("denominator").round(0).cast(pl.Int64),
        ).alias("detail"),
    )
    return funnel_chart(
        points,
        pooled,
        metric,
        title=f"{label(metric)}: this partner among the others ({goodness(metric)})",
    )
