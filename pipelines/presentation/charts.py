"""Pure chart functions: a polars frame of aggregates in, a Plotly figure out.

Figures use transparent backgrounds and the colours below, which read on light
and dark themes; titles say what good looks like. No Streamlit here.

Plotly reads a subset of HTML in every string it draws, so every text that comes
from the data (partners, groups, statuses, ...) goes through safe_text.plot_text.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import plotly.graph_objects as go
import polars as pl

from pipelines.presentation.format import TIER_COLOURS, goodness, label, unit
from pipelines.presentation.safe_text import plot_text, plot_text_expr, plot_texts

SERIES_COLOURS = (
    "#4c9be8",
    "#f0a030",
    "#2e9e5b",
    "#d64545",
    "#8e5bd6",
    "#17becf",
    "#e377c2",
    "#8c8c5a",
)
GREEN_BAND = "rgba(46, 158, 91, 0.15)"
GRID = "rgba(128, 128, 128, 0.25)"


def _base(fig: go.Figure, title: str, *, height: int = 360) -> go.Figure:
    fig.update_layout(
        title={"text": plot_text(title), "x": 0, "xanchor": "left", "font": {"size": 15}},
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        height=height,
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
        legend={"orientation": "h", "y": -0.15},
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
) -> go.Figure:
    """Weekly lines of one KPI: `weekly` has week_start, value and optionally
    split (one line per value). The green band of the target is shaded."""
    unit_ = unit(metric)
    fig = go.Figure()
    has_split = "split" in weekly.columns
    groups = (
        weekly.partition_by("split", as_dict=True, maintain_order=True)
        if has_split
        else {("All tickets",): weekly}
    )
    for i, ((name,), part) in enumerate(groups.items()):
        part = part.sort("week_start")
        fig.add_trace(
            go.Scatter(
                x=part["week_start"].to_list(),
                y=part["value"].to_list(),
                name=plot_text(name),
                mode="lines+markers",
                line={"color": SERIES_COLOURS[i % len(SERIES_COLOURS)], "width": 2},
            )
        )
    band = _green_band(target)
    if band is not None:
        low, high = band
        fig.add_hrect(
            y0=low,
            y1=high,
            fillcolor=GREEN_BAND,
            line_width=0,
            layer="below",
            annotation_text="target",
            annotation_position="top left",
        )
    split_text = f" by {split_label}" if split_label else ""
    title = f"{label(metric)}{split_text}, weekly ({goodness(metric)}; green band = target)"
    if band is None:
        title = f"{label(metric)}{split_text}, weekly ({goodness(metric)})"
    _base(fig, title)
    _value_axis(fig, unit_)
    return fig


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


def timeline_chart(events: pl.DataFrame) -> go.Figure:
    """One ticket's timeline: `events` has start, end, held_group, held_tier,
    status. Each bar is the time a group held the ticket, coloured by tier."""
    fig = go.Figure()
    frame = events.with_columns(
        end=pl.max_horizontal(pl.col("end"), pl.col("start") + timedelta(minutes=1))
    )
    for tier, part in frame.partition_by("held_tier", as_dict=True, maintain_order=True).items():
        name = tier[0] or "unknown tier"
        starts = part["start"]
        widths = (part["end"] - starts).dt.total_milliseconds()
        fig.add_trace(
            go.Bar(
                base=starts.to_list(),
                x=widths.to_list(),
                y=part.select(plot_text_expr(pl.col("held_group").fill_null("(no group)")))
                .to_series()
                .to_list(),
                orientation="h",
                name=plot_text(name),
                marker_color=TIER_COLOURS.get(str(name), "#8c8c8c"),
                customdata=part.select(
                    plot_text_expr(pl.col("status").fill_null("")), "minutes"
                ).rows(),
                hovertemplate="%{y}<br>%{customdata[0]}<br>%{customdata[1]:.0f} min<extra></extra>",
            )
        )
    fig.update_layout(barmode="overlay")
    fig.update_xaxes(type="date")
    fig.update_yaxes(autorange="reversed")
    return _base(fig, "Who held the ticket, over time (good: one short stay per tier)")


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
