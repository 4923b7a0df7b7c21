"""The report's sections, built from the reads, statistics and chart functions the
dashboard uses (pipelines.presentation: queries / stats / charts / tiles), so the
report and the app never disagree and no query is written twice.

Sections (stable ids): #scorecard, #trends, #partners, #flow, #review, #actions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import polars as pl

from pipelines.metrics import METRICS, STOCK_METRICS, for_clock, known
from pipelines.presentation import charts, queries as data
from pipelines.presentation.comparison import (
    PartnerComparison,
    compare_partners,
    funnel_points,
    pair_table,
    partner_table,
    untested_pairs,
)
from pipelines.presentation.control import describe_signals, weekly_p_chart
from pipelines.presentation.filters import Filters, week_window
from pipelines.presentation.format import goodness, label
from pipelines.presentation.stats import (
    DIFFERENT,
    sankey_links,
    scorecard_tiles,
    verdict,
)
from pipelines.presentation.tables import kpi_overview
from pipelines.presentation.tiles import tiles_html, trusted_sparks
from pipelines.report.html import esc, figure, section, table
from pipelines.review.actions import (
    access_tooling,
    coaching,
    kb_articles,
    trend_text,
    trend_weeks,
    weekly_findings,
)

TREND_WEEKS = 12
TREND_METRICS = 4
TOP_PATHS = 10
PARTNER_METRIC = known("l1_resolution_rate")[0]


@dataclass(frozen=True)
class Scope:
    """What the report covers: the snapshot, the week and (optionally) one partner."""

    snapshot: str
    week: date
    partner: str | None
    clock: str = "wall"  # durations on the wall clock or in business hours
    client: str | None = None  # a client's report: its snapshot holds only its tickets
    agents: bool = False  # name the agents (coaching); otherwise Agent 1, 2, ...

    @property
    def partners(self) -> tuple[str, ...]:
        return (self.partner,) if self.partner else ()

    def week_filters(self) -> Filters:
        return Filters(since=self.week, until=self.week, partner=self.partners)

    def trend_filters(self) -> Filters:
        since, until = week_window(self.week, TREND_WEEKS)
        return Filters(since=since, until=until, partner=self.partners)

    @property
    def who(self) -> str:
        if self.client:
            return f"client {self.client}"
        return f"partner {self.partner}" if self.partner else "all partners"


def _target_metrics(scope: Scope) -> list[str]:
    targets = data.targets(scope.snapshot)
    return for_clock([m.name for m in METRICS if m.name in targets], scope.clock)


# ---------------------------------------------------------------- scorecard


def scorecard(scope: Scope) -> str:
    weekly = data.weekly_kpis(scope.snapshot, scope.trend_filters())
    tiles = scorecard_tiles(weekly, scope.week, _target_metrics(scope))
    if tiles.filter(pl.col("value").is_not_null()).is_empty():
        body = f"<p>No resolved tickets in the week of {scope.week:%d %b %Y} ({scope.who}).</p>"
        return section("scorecard", "Scorecard", body)
    min_sample = data.min_sample(scope.snapshot)
    tiles = trusted_sparks(
        tiles,
        weekly,
        scope.week,
        min_sample=min_sample,
        complete_until=data.last_complete_week(scope.snapshot),
        n_weeks=TREND_WEEKS,
    )
    line = verdict(tiles)
    tone = "red" if "red:" in line else ("amber" if "amber:" in line else "green")
    body = (
        f'<p class="headline {tone}">{esc(line)}</p>'
        + tiles_html(tiles, min_sample)
        + f'<p class="note">Week of {scope.week:%d %b %Y}, {esc(scope.who)}. Green: on target; '
        "amber: off target, not yet red; red: past the red line; insufficient sample: too few "
        f"cases to judge. Sparklines: the last {TREND_WEEKS} weeks on a fixed scale (0-100% "
        "for a rate, from zero for a duration); a week with fewer than "
        f"{min_sample} cases, or not over yet, is a gap. "
        f"Open tickets now: {data.backlog(scope.snapshot, scope.week_filters()):,}.</p>"
    )
    return section("scorecard", "Scorecard", body)


# ---------------------------------------------------------------- trends


def trends(scope: Scope) -> str:
    weekly = data.weekly_kpis(scope.snapshot, scope.trend_filters())
    targets = data.targets(scope.snapshot)
    min_sample = data.min_sample(scope.snapshot)
    complete_until = data.last_complete_week(scope.snapshot)
    chosen = [m for m in _target_metrics(scope) if METRICS_BY_NAME[m].stat != "count"]
    parts = [
        figure(
            charts.trend_chart(
                series,
                metric,
                targets.get(metric),
                min_sample=min_sample,
                complete_until=complete_until,
            ),
            f"trend_{metric}",
        )
        + _signal_note(weekly_p_chart(series, metric, min_sample, complete_until))
        for metric in chosen[:TREND_METRICS]
        if (series := weekly.filter(pl.col("metric") == metric)).height
    ]
    body = "".join(parts) or "<p>No weekly figures in these weeks.</p>"
    note = (
        f'<p class="note">The {TREND_WEEKS} weeks up to the week of {scope.week:%d %b %Y}. '
        f"Hollow grey points: weeks with fewer than {min_sample} cases, or not over yet "
        "(not judged). Shaded: the 95% interval. For a rate, the dashed line is the average "
        "of the full weeks and the dotted lines its control limits (3 standard errors for "
        "each week's cases); a diamond marks a signal, a week beyond its limits or 8 in a "
        "row on one side of the average: a change worth a look, where every other wiggle "
        "is chance.</p>"
    )
    return section("trends", "Trends", body + note)


def _signal_note(chart: pl.DataFrame | None) -> str:
    """The p-chart's signals in words, under the chart (nothing for a KPI without one)."""
    if chart is None or chart.is_empty():
        return ""
    found = describe_signals(chart)
    text = " ".join(found) if found else "No signal: the ups and downs are within chance."
    return f'<p class="note">{esc(text)}</p>'


METRICS_BY_NAME = {m.name: m for m in METRICS}


# ---------------------------------------------------------------- partners


def partners(scope: Scope) -> str:
    snap, filters = scope.snapshot, scope.week_filters()
    split = "client" if scope.partner else "partner"
    by = data.kpis(snap, filters, (split,)).filter(~pl.col("metric").is_in(STOCK_METRICS))
    if by.is_empty() or by["sample"].sum() == 0:
        return section("partners", "Partner comparison", "<p>No resolved tickets.</p>")
    if scope.partner:
        title = f"Clients of {scope.partner}"
        compared = ""
        note = "Other partners are not shown in a partner's report."
        by = by.rename({"client": "partner"}).with_columns(pl.col("partner").fill_null("(none)"))
    else:
        title = "Every KPI by partner"
        compared = _compared(scope, by)
        note = ""
    overview = kpi_overview(by.filter(pl.col("metric").is_in(_target_metrics(scope))))
    body = (
        compared
        + f"<h3>{esc(title)}, week of {scope.week:%d %b %Y}</h3>"
        + table(overview)
        + f'<p class="note">{esc(note)} Value (95% interval); a status other than green is '
        "appended.</p>"
    )
    return section("partners", "Partner comparison", body)


def _compared(scope: Scope, by: pl.DataFrame) -> str:
    """The partners on PARTNER_METRIC: the funnel plot, the table of observed and
    case-mix adjusted rates, the bars, and the pairs that differ."""
    snap = scope.snapshot
    strata = data.kpis(snap, scope.week_filters(), ("partner", "category", "priority"))
    comparison = compare_partners(
        strata, PARTNER_METRIC, data.min_sample(snap), data.min_gap(snap)
    )
    if comparison.partners.is_empty():
        return ""
    funnel = charts.funnel_chart(
        funnel_points(comparison),
        comparison.pooled,
        PARTNER_METRIC,
        title=f"{label(PARTNER_METRIC)} by partner, adjusted for case mix "
        f"({goodness(PARTNER_METRIC)})",
        x_title="weight of evidence, in tickets of an average mix (log scale)",
    )
    adjusted = comparison.partners.select(
        "partner", "adjusted_rate", "adjusted_low", "adjusted_high"
    )
    observed = by.filter(pl.col("metric") == PARTNER_METRIC).join(
        adjusted, on="partner", how="left"
    )
    return (
        figure(funnel, "partner_funnel")
        + f'<p class="note">{esc(_funnel_note(comparison))}</p>'
        + table(partner_table(comparison), numeric=("tickets", "comparable"))
        + figure(charts.partner_chart(observed, PARTNER_METRIC), "partner_chart")
        + _pairs_block(comparison)
    )


def _funnel_note(comparison: PartnerComparison) -> str:
    left_out = comparison.not_judged.height
    left_text = (
        f" {left_out} partner(s) with fewer than {comparison.min_sample} tickets (or "
        "comparable tickets) are not plotted and have no adjusted figure."
        if left_out
        else ""
    )
    return (
        "Each point: a partner's rate adjusted for its mix of tickets (category × priority; "
        "observed ÷ expected × the rate of all partners, "
        f"{100 * comparison.pooled:.1f}%, the line). Inside the funnel a gap from the line "
        "is within chance for the weight of the desk's figures; outside the 95% limits, "
        "look closer; outside the 99.8% limits, a real difference. Across: the weight of "
        "evidence, in tickets of an average mix." + left_text
    )


def _pairs_block(comparison: PartnerComparison) -> str:
    pairs = pair_table(comparison)
    different = pairs.filter(pl.col("verdict") == DIFFERENT)
    summary = (
        f"{pairs.height} pair(s) of partners compared on the tickets of the kinds both "
        f"handle; {different.height} different (false discovery rate 5%, and a gap of at "
        f"least {100 * comparison.min_gap:.1f} points)."
    )
    skipped = untested_pairs(comparison)
    if skipped:
        summary += f" {skipped} pair(s) with a partner of too few tickets are not compared."
    shown = table(different.drop("verdict")) if different.height else ""
    return f"<h3>Pairs of partners that differ</h3><p>{esc(summary)}</p>" + shown


# ---------------------------------------------------------------- flow


def flow(scope: Scope) -> str:
    snap, filters = scope.snapshot, scope.week_filters()
    paths = data.tier_paths(snap, filters)
    if paths.is_empty():
        return section("flow", "Tier flow", "<p>No resolved tickets this week.</p>")
    total = int(paths["n_tickets"].sum())
    moved = paths.filter(pl.col("n_steps") > 1)
    nodes, links = sankey_links(moved if moved.height else paths)
    sankey = figure(charts.sankey_chart(nodes, links), "sankey") if links.height else ""
    top = paths.head(TOP_PATHS).select(
        "path",
        pl.col("n_tickets").alias("tickets"),
        ((pl.col("n_tickets") / total * 100).round(1).cast(pl.String) + "%").alias("share"),
    )
    pairs = data.pingpong_pairs(snap, filters)
    pingpong = figure(charts.pingpong_chart(pairs), "pingpong") if pairs.height else ""
    body = (
        f"<p>{total:,} resolved tickets; {int(moved['n_tickets'].sum()):,} changed tier at "
        "least once.</p>"
        + sankey
        + "<h3>Most common paths</h3>"
        + table(top, numeric=("tickets", "share"))
        + pingpong
    )
    return section("flow", "Tier flow", body)


# ---------------------------------------------------------------- review


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def _sample_block(scope: Scope, sample_id: str, number: int) -> str:
    found = data.review_findings(scope.snapshot, sample_id)
    if found is None:
        return ""
    est, agree, rules = found.estimate, found.agreement, found.rules
    kappa = "n/a" if agree.kappa is None else f"{agree.kappa:.2f}"
    interval = (
        f"95% interval {_pct(est.ci_low)}–{_pct(est.ci_high)}" if est.value is not None else ""
    )
    rule_interval = (
        f"95% interval {_pct(rules.get('ci_low'))}–{_pct(rules.get('ci_high'))}"
        if rules.get("value") is not None
        else ""
    )
    boxes = (
        '<div class="figures">'
        f"<div>Reviewed (weighted sample)<b>{_pct(est.value)}</b>{interval}</div>"
        f"<div>Rules<b>{_pct(rules.get('value'))}</b>{rule_interval}</div>"
        f"<div>Rules and reviewers agree<b>{_pct(agree.observed)}</b>kappa {kappa}, "
        f"rule precision {_pct(agree.rule_precision)}</div>"
        "</div>"
    )
    chart = (
        figure(charts.review_rate_chart(found.figures()), f"review_rates_{number}")
        if est.value is not None
        else ""
    )
    reviewed = found.items.filter(pl.col("should_escalate").is_not_null()).select(
        pl.col("position").alias("#"),
        "escalation_id",
        "category",
        pl.col("weight").round(1),
        pl.col("should_escalate").alias("escalate?"),
        "timing",
        pl.col("l1_need").alias("L1 needs"),
        pl.col("kb_article_to_write").alias("KB article"),
        "reviewer",
    )
    return (
        f"<h3>Sample {esc(sample_id)}</h3>"
        f"<p>{found.n_reviewed} of {found.items.height} sampled escalations reviewed "
        f"(the week had {est.population}); the yes/no verdicts cover strata holding "
        f"{est.coverage:.0%} of the week's escalations.</p>"
        + boxes
        + chart
        + (table(reviewed, numeric=("#", "weight")) if reviewed.height else "")
    )


def review(scope: Scope) -> str:
    samples = data.review_samples(scope.snapshot).filter(pl.col("week_start") == scope.week)
    if scope.partner:
        samples = samples.filter(pl.col("partner") == scope.partner)
    if samples.is_empty():
        body = (
            f"<p>No review sample for the week of {scope.week:%d %b %Y}. Draw one with "
            f"<code>tierlens review sample --week {scope.week.isoformat()}"
            + (f" --partner &quot;{esc(scope.partner)}&quot;" if scope.partner else "")
            + "</code> and review it on the dashboard's Weekly review page.</p>"
        )
        return section("review", "Weekly review findings", body)
    blocks = "".join(
        _sample_block(scope, sid, i) for i, sid in enumerate(samples["sample_id"].to_list())
    )
    note = (
        '<p class="note">Each sampled escalation stands for N_h / n_h escalations of its '
        "stratum (partner × category × suspicious), so the reviewed rate is an unbiased "
        "estimate for the whole week; 'unsure' verdicts are left out. The rules' figure counts "
        "escalated tickets of the week. Kappa near 1: the rules judge like the reviewers; near "
        "0: no better than chance.</p>"
    )
    return section("review", "Weekly review findings", blocks + note)


# ---------------------------------------------------------------- actions


def actions(scope: Scope) -> str:
    rows = data.review_actions(scope.snapshot, scope.partners).filter(
        pl.col("week_start") <= scope.week
    )
    if rows.is_empty():
        return section(
            "actions", "Action list", "<p>No verdicts yet: nothing on the action list.</p>"
        )
    weeks = trend_weeks(rows)
    chart = (
        figure(charts.action_trend_chart(weeks, weekly_findings(rows)), "actions_trend")
        if len(weeks) > 1
        else ""
    )
    kb = kb_articles(rows).select(
        "category", "count", "articles", "tickets", trend_text().alias("trend")
    )
    access = access_tooling(rows).select(
        "need", "category", "count", "requests", "tickets", trend_text().alias("trend")
    )
    coach = coaching(rows).select(
        pl.col("escalating_agent").alias("agent"),
        "pattern",
        "reviewed",
        pl.col("too_early").alias("too early"),
        pl.col("too_late").alias("too late"),
        pl.col("not_needed").alias("not needed"),
        "training",
        trend_text().alias("trend"),
    )
    if not scope.agents:  # named only when asked: `tierlens report --agents`
        coach = coach.with_columns(agent=pl.format("Agent {}", pl.int_range(1, pl.len() + 1)))
    counts = ("count", "reviewed", "too early", "too late", "not needed", "training")
    named = (
        ""
        if scope.agents or coach.is_empty()
        else '<p class="note">Agents are numbered, not named, in this report '
        "(<code>tierlens report --agents</code> names them).</p>"
    )
    parts = [
        chart,
        "<h3>KB articles to write</h3>",
        table(kb, numeric=counts) or "<p>No reviewer asked for a KB article.</p>",
        "<h3>Access and tooling requests</h3>",
        table(access, numeric=counts) or "<p>No reviewer found L1 lacking access or tools.</p>",
        "<h3>Coaching by agent</h3>",
        table(coach, numeric=counts)
        or "<p>No escalation was judged too early, too late or unnecessary.</p>",
        named,
        f'<p class="note">From {rows.height} standing verdicts over {len(weeks)} reviewed '
        f"week(s) up to the week of {scope.week:%d %b %Y}. Trend: count per reviewed week, "
        f"oldest first ({', '.join(f'{w:%d %b}' for w in weeks)}).</p>",
    ]
    return section("actions", "Action list", "".join(parts))


SECTIONS = (scorecard, trends, partners, flow, review, actions)
# A client is not shown the partner comparison, nor the desk's internal review.
CLIENT_SECTIONS = (scorecard, trends, flow)


def sections_for(scope: Scope) -> tuple[Callable[[Scope], str], ...]:
    return CLIENT_SECTIONS if scope.client else SECTIONS
