"""The report's opening paragraph: the week in a few sentences, written from the
figures. Which KPIs are red or amber, which moved since the previous week by more
than chance would move them, and which partners sit outside their funnel limits.

A rate "moved" when the two weeks' proportions differ by a two-proportion z-test
at 95% (pooled standard error); other KPIs (medians, ratios) are not tested, so
they are never said to have moved. Pure: frames in, text out.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from pipelines.presentation.format import fmt_value, label, unit

Z95 = 1.959964


@dataclass(frozen=True)
class Outlier:
    """A partner outside the 99.8% funnel limits of a KPI (or the 95% ones)."""

    partner: str
    metric: str
    side: str  # "above" or "below"
    limit: str  # "95%" or "99.8%"


def moves(this_week: pl.DataFrame, previous: pl.DataFrame) -> pl.DataFrame:
    """The rate KPIs that moved beyond chance between two weeks: metric, value,
    previous_value, z, ordered by how far they moved (|z|).

    Both frames: metric, stat, value, numerator, denominator (one row per metric)."""
    both = this_week.join(previous, on="metric", suffix="_previous").filter(
        (pl.col("stat") == "rate")
        & (pl.col("denominator") > 0)
        & (pl.col("denominator_previous") > 0)
    )
    pooled = (pl.col("numerator") + pl.col("numerator_previous")) / (
        pl.col("denominator") + pl.col("denominator_previous")
    )
    se = (
        pooled * (1 - pooled) * (1 / pl.col("denominator") + 1 / pl.col("denominator_previous"))
    ).sqrt()
    return (
        both.with_columns(
            z=pl.when(se > 0).then(
                (
                    pl.col("numerator") / pl.col("denominator")
                    - pl.col("numerator_previous") / pl.col("denominator_previous")
                )
                / se
            )
        )
        .filter(pl.col("z").abs() >= Z95)
        .sort(pl.col("z").abs(), descending=True)
        .select("metric", "value", previous_value="value_previous", z="z")
    )


def _joined(parts: list[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _figure(metric: str, value: float | None) -> str:
    return fmt_value(value, unit(metric)) if value is not None else "n/a"


def summary_text(
    *,
    week_label: str,
    who: str,
    n_resolved: int,
    tiles: pl.DataFrame,
    moved: pl.DataFrame,
    outliers: list[Outlier],
    max_listed: int = 4,
) -> str:
    """The paragraph. `tiles`: metric, value, status of the KPIs with a target;
    `moved`: moves(); `outliers`: partners outside their funnel limits."""
    sentences = [f"In the week of {week_label}, {n_resolved:,} tickets were resolved ({who})."]
    red = tiles.filter(pl.col("status") == "red").rows(named=True)
    amber = tiles.filter(pl.col("status") == "amber").height
    if red:
        listed = [f"{label(r['metric'])} ({_figure(r['metric'], r['value'])})" for r in red]
        noun = "KPI is" if len(red) == 1 else "KPIs are"
        tail = f"; {amber} amber" if amber else ""
        sentences.append(f"{len(red)} {noun} red: {_joined(listed)}{tail}.")
    elif amber:
        sentences.append(f"No KPI is red; {amber} amber.")
    elif tiles.filter(pl.col("status") == "green").height:
        sentences.append("Every KPI with a target that can be judged is green.")
    if moved.height:
        said = []
        for r in moved.head(max_listed).rows(named=True):
            way = "rose" if r["value"] > r["previous_value"] else "fell"
            said.append(
                f"{label(r['metric'])} {way} from {_figure(r['metric'], r['previous_value'])} "
                f"to {_figure(r['metric'], r['value'])}"
            )
        more = f" (and {moved.height - max_listed} more)" if moved.height > max_listed else ""
        sentences.append(
            f"Moved beyond chance since the previous week: {_joined(said)}{more}; the other "
            "changes are within what chance gives a week of this size."
        )
    else:
        sentences.append("No rate moved beyond chance since the previous week.")
    if outliers:
        said = [
            f"{o.partner} on {label(o.metric)} ({o.side} the {o.limit} limit)"
            for o in outliers[:max_listed]
        ]
        more = f" (and {len(outliers) - max_listed} more)" if len(outliers) > max_listed else ""
        sentences.append(f"Outside the funnel limits: {_joined(said)}{more}.")
    return " ".join(sentences)
