"""The scorecard's KPI tiles as one block of HTML, for the dashboard and the report.

A tile: the KPI's name, its value for the week, the change since the previous week
(coloured by whether it is an improvement), a status badge, the target and a
sparkline of the last weeks, on a fixed scale (`spark_scale`: 0-100% for a rate),
without the weeks too small to judge or not over (`trusted_sparks`). The sparkline
is a small SVG glyph drawn here (no axes, no interaction): fourteen Plotly charts
plus their Streamlit elements made the scorecard's first render a second slower in
the browser than one HTML block.

Pure functions: the `scorecard_tiles` frame in (pipelines.presentation.stats), HTML out.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import date, timedelta
from html import escape
from typing import Any

import polars as pl

from pipelines.presentation.control import FULL, week_kinds
from pipelines.presentation.format import (
    METRIC_DEFS,
    STATUS_COLOURS,
    fmt_delta,
    fmt_value,
    label,
    unit,
)

SPARK_WIDTH = 120.0
SPARK_HEIGHT = 28.0
SPARK_PAD = 3.0
GOOD, BAD = STATUS_COLOURS["green"], STATUS_COLOURS["red"]

# Theme-neutral: text inherits the page's colour, greys are translucent, so the same
# tiles read in Streamlit's light and dark themes and on paper.
TILE_STYLE = """
.tl-tiles { display: grid; grid-template-columns: repeat(4, minmax(0, 1fr)); gap: 10px; }
.tl-tile { position: relative; }
.tl-cover { position: absolute; inset: 0; border-radius: inherit; }
.tl-cover:hover { background: rgba(128, 128, 128, 0.08); }
.tl-tile { border: 1px solid rgba(128, 128, 128, 0.35); border-left: 6px solid #8c8c8c;
  border-radius: 8px; padding: 8px 10px; break-inside: avoid; }
.tl-tile.green { border-left-color: #2e9e5b; } .tl-tile.amber { border-left-color: #e0a100; }
.tl-tile.red { border-left-color: #d64545; } .tl-tile.no-target { border-left-color: #5b8def; }
.tl-name { font-size: 0.85em; font-weight: 600; opacity: 0.8; min-height: 2.4em; }
.tl-value { font-size: 1.7em; font-weight: 700; line-height: 1.2; }
.tl-value.tl-muted { font-size: 1.1em; opacity: 0.6; }
.tl-delta, .tl-target, .tl-note { font-size: 0.8em; opacity: 0.85; }
.tl-delta.good { color: #2e9e5b; opacity: 1; } .tl-delta.bad { color: #d64545; opacity: 1; }
.tl-badge { display: inline-block; font-size: 0.75em; font-weight: 700; padding: 0 6px;
  border-radius: 4px; color: #fff; margin-right: 4px; }
.tl-badge.green { background: #2e9e5b; } .tl-badge.amber { background: #e0a100; }
.tl-badge.red { background: #d64545; }
.tl-spark { display: block; width: 100%; height: 28px; margin-top: 4px; }
@media screen and (max-width: 900px) {
  .tl-tiles { grid-template-columns: repeat(2, minmax(0, 1fr)); }
}
"""
TILE_CSS = f"<style>{TILE_STYLE}</style>"


def sparkline_svg(
    values: list[float | None],
    colour: str,
    title: str = "",
    *,
    scale: tuple[float, float] | None = None,
) -> str:
    """The series as an image of an SVG polyline on the fixed `scale` (low, high:
    values outside it sit on its edge), or on its own range without one; a missing
    week breaks the line, the last point gets a dot. Empty string when no value is
    known."""
    known = [v for v in values if v is not None]
    if not known:
        return ""
    low, high = scale if scale is not None else (min(known), max(known))
    span = high - low
    n = len(values)
    width = SPARK_WIDTH - 2 * SPARK_PAD
    height = SPARK_HEIGHT - 2 * SPARK_PAD

    def point(i: int, v: float) -> tuple[float, float]:
        x = SPARK_PAD + (width * i / (n - 1) if n > 1 else width / 2)
        clamped = min(max(v, low), high)
        y = SPARK_PAD + (height / 2 if span == 0 else height * (high - clamped) / span)
        return round(x, 1), round(y, 1)

    runs: list[list[tuple[float, float]]] = [[]]
    for i, v in enumerate(values):
        if v is None:
            runs.append([])
        else:
            runs[-1].append(point(i, v))
    paths = "".join(
        f'<polyline points="{" ".join(f"{x},{y}" for x, y in run)}" fill="none" '
        f'stroke="{colour}" stroke-width="2" stroke-linejoin="round"/>'
        for run in runs
        if len(run) > 1
    )
    last = next(((i, v) for i, v in reversed(list(enumerate(values))) if v is not None))
    x, y = point(*last)
    dot = f'<circle cx="{x}" cy="{y}" r="2.5" fill="{colour}"/>'
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {SPARK_WIDTH:g} {SPARK_HEIGHT:g}" '
        f'preserveAspectRatio="none">{paths}{dot}</svg>'
    )
    # An image, not inline SVG: Streamlit's HTML sanitiser keeps images with data
    # URIs but removes <svg> elements.
    data = base64.b64encode(svg.encode()).decode()
    return (
        f'<img class="tl-spark" alt="{escape(title)}" title="{escape(title)}" '
        f'src="data:image/svg+xml;base64,{data}"/>'
    )


def spark_scale(metric: str, values: list[float | None]) -> tuple[float, float]:
    """The sparkline's fixed scale: 0-100% for a rate, else from zero to the largest
    value of the weeks shown (the same for every week), so a one-point wiggle looks
    like one point and not like a cliff."""
    if unit(metric) == "%":
        return 0.0, 1.0
    top = max((v for v in values if v is not None), default=0.0)
    return 0.0, top if top > 0 else 1.0


def trusted_sparks(
    tiles: pl.DataFrame,
    weekly: pl.DataFrame,
    week: date,
    *,
    min_sample: int,
    complete_until: date | None,
    n_weeks: int,
) -> pl.DataFrame:
    """`tiles` (stats.scorecard_tiles) with the sparkline of each metric redrawn from
    `weekly` (weekly_kpis): the `n_weeks` calendar weeks up to `week`, each in its
    place, and a gap (null) for a week with no rows, with too few cases or after the
    last complete week `complete_until` (control.week_kinds): those weeks would read
    0% or 100% on a ticket or two, or half a week."""
    since = week - timedelta(weeks=n_weeks - 1)
    calendar = pl.DataFrame({"week_start": pl.date_range(since, week, "1w", eager=True)})
    kinds = week_kinds(
        weekly.filter(pl.col("week_start").is_between(since, week)),
        min_sample,
        complete_until,
    ).select("metric", "week_start", "value", "week_kind")
    sparks = (
        tiles.select("metric")
        .join(calendar, how="cross")
        .join(kinds, on=["metric", "week_start"], how="left")
        .sort("week_start")
        .group_by("metric", maintain_order=True)
        .agg(
            spark_weeks=pl.col("week_start"),
            spark_values=pl.when(pl.col("week_kind") == FULL).then(pl.col("value")),
        )
    )
    return tiles.drop("spark_weeks", "spark_values", strict=False).join(
        sparks, on="metric", how="left", maintain_order="left"
    )


def _delta_class(metric: str, change: float | None) -> str:
    better = METRIC_DEFS[metric].higher_is_better if metric in METRIC_DEFS else None
    if change is None or change == 0 or better is None:
        return ""
    return "good" if (change > 0) == better else "bad"


def tile_html(
    row: dict[str, Any], min_sample: int, link: Callable[[str], str] | None = None
) -> str:
    """One tile from a row of `scorecard_tiles`; with `link`, the whole tile is a link
    to the address `link(metric)` gives (the tickets behind the number)."""
    metric, status = row["metric"], row["status"]
    unit_ = unit(metric)
    name = escape(label(metric))
    target = f"target {escape(row['target'])}" if row.get("target") else "no target"
    badge = (
        f'<span class="tl-badge {status}">{status.upper()}</span>'
        if status in ("green", "amber", "red")
        else ""
    )
    if status == "insufficient":
        value = '<div class="tl-value tl-muted">insufficient sample</div>'
        detail = (
            f'<div class="tl-note">{row["sample"]} cases this week; a rate needs at least '
            f"{min_sample}.</div>"
        )
    elif row.get("value") is None:
        value = '<div class="tl-value tl-muted">no cases</div>'
        detail = '<div class="tl-note">Nothing to measure this week.</div>'
    else:
        value = f'<div class="tl-value">{escape(fmt_value(row["value"], unit_))}</div>'
        change = row.get("change")
        delta = fmt_delta(change, unit_)
        detail = (
            f'<div class="tl-delta {_delta_class(metric, change)}">'
            f"{escape(delta)} vs previous week</div>"
            if delta
            else '<div class="tl-delta">no comparable previous week</div>'
        )
    spark_values = row.get("spark_values") or []
    low, high = spark_scale(metric, spark_values)
    spark = sparkline_svg(
        spark_values,
        STATUS_COLOURS.get(status, STATUS_COLOURS["n/a"]),
        title=f"{label(metric)}, last {len(spark_values)} weeks on a scale of "
        f"{fmt_value(low, unit_)} to {fmt_value(high, unit_)}",
        scale=(low, high),
    )
    css_status = escape(status.replace(" ", "-").replace("/", ""))
    cover = (
        f'<a class="tl-cover" href="{escape(link(metric))}" '
        f'aria-label="{escape(f"The tickets behind {label(metric)}")}"></a>'
        if link is not None
        else ""
    )
    return (
        f'<div class="tl-tile {css_status}" data-metric="{escape(metric)}">'
        f'<div class="tl-name">{name}</div>{value}{detail}'
        f'<div class="tl-target">{badge}{target}</div>{spark}{cover}</div>'
    )


def tiles_html(
    tiles: pl.DataFrame, min_sample: int, link: Callable[[str], str] | None = None
) -> str:
    """Every tile of `scorecard_tiles`, in its order, as one grid (TILE_CSS styles it);
    `link`: see tile_html."""
    return (
        '<div class="tl-tiles">'
        + "".join(tile_html(row, min_sample, link) for row in tiles.to_dicts())
        + "</div>"
    )
