"""Weekly review: walk the sample one escalation at a time, answer the three
questions, see what the verdicts say about the week and what L1 needs.

Verdicts are written with pipelines.review.verdicts.record: journal first (the
durable copy, read back at once by dashboards.data.review_verdicts), then a short
attempt to insert into the main database; when an ingest or build holds it, the
verdict waits in the journal for the next build. Saving never fails because the
database is busy.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import duckdb
import polars as pl
import streamlit as st

from dashboards import data
from dashboards.context import get_context
from dashboards.views.timeline import TICKET_FLAGS
from pipelines.presentation import charts
from pipelines.presentation.format import label
from pipelines.presentation.safe_text import md
from pipelines.review.actions import (
    access_tooling,
    coaching,
    kb_articles,
    trend_weeks,
    weekly_findings,
)
from pipelines.review.verdicts import Decision, L1Need, Timing, Verdict, record

SAMPLE_KEY = "review_sample"
ITEM_KEY = "review_item"
REVIEWER_KEY = "reviewer"
GOTO_KEY = "_review_goto"
FLASH_KEY = "_review_flash"
SAVE_WAIT_SECONDS = 1.0

DECISIONS: dict[Decision, str] = {"yes": "Yes", "no": "No", "unsure": "Unsure"}
TIMINGS: dict[Timing, str] = {"too early": "Too early", "right": "Right", "too late": "Too late"}
NEEDS: dict[L1Need, str] = {
    "kb article": "KB article",
    "access": "Access",
    "tooling": "Tooling",
    "training": "Training",
    "nothing": "Nothing",
}
SAVED = {
    "stored": "Verdict saved.",
    "queued": "Verdict saved; it will reach the database at the next build "
    "(the database is busy with an ingest or build right now).",
}


def _sample_label(samples: pl.DataFrame) -> dict[str, str]:
    rows = samples.select(
        "sample_id",
        text=pl.format(
            "week of {} · {} · {} of {} escalations",
            pl.col("week_start").dt.strftime("%d %b %Y"),
            pl.col("partner").fill_null("all partners"),
            pl.col("n_drawn"),
            pl.col("population"),
        ),
    )
    return dict(rows.iter_rows())


def _item_labels(items: pl.DataFrame) -> dict[str, str]:
    mark = (
        pl.when(pl.col("should_escalate").is_null())
        .then(pl.lit("○"))
        .otherwise(pl.lit("✓ ") + pl.col("should_escalate"))
    )
    rows = items.select(
        "escalation_id",
        text=pl.format(
            "{}. {} · {} · {} · {}",
            pl.col("position"),
            pl.col("escalation_id"),
            pl.col("partner").fill_null("?"),
            pl.col("category").fill_null("(none)"),
            mark,
        ),
    )
    return dict(rows.iter_rows())


def _next_unreviewed(items: pl.DataFrame, after: str | None = None) -> str:
    """The first unreviewed escalation after `after` (wrapping), else the first."""
    ordered = items.with_row_index("i")
    start = ordered.filter(pl.col("escalation_id") == after)["i"].to_list() if after else []
    pivot = start[0] if start else -1
    todo = ordered.filter(
        pl.col("should_escalate").is_null() & pl.col("escalation_id").ne_missing(after)
    )
    later = todo.filter(pl.col("i") > pivot)
    chosen = later if later.height else todo
    return str((chosen if chosen.height else ordered)["escalation_id"][0])


def _index(options: Iterable[str], value: Any) -> int | None:
    keys = list(options)
    return keys.index(value) if value in keys else None


def _escalation(snap: str, item: dict[str, Any]) -> None:
    """What the reviewer looks at: the escalation, its note, flags and timeline."""
    st.subheader(
        f"{md(item['escalation_id'])} · {md(item['partner'])} · {md(item['category'])}",
        anchor=False,
    )
    at = item["escalated_at"]
    when = f" at {at:%Y-%m-%d %H:%M}" if at is not None else ""
    st.caption(
        f"{md(item['from_tier'])} → {md(item['to_tier'])} · "
        f"{md(item['from_group'])} → {md(item['to_group'])} · "
        f"escalated by {md(item['escalating_agent'] or 'unknown agent')}{when} · "
        f"priority {md(item['priority'] or '-')} · "
        f"stands for {item['weight']:.1f} escalations of its stratum"
    )
    reasons = [r for r in (item["suspicion_reasons"] or "").split(", ") if r]
    ticket = data.ticket(snap, item["ticket_id"]) or {}
    flags = [label(m) for col, m in TICKET_FLAGS.items() if ticket.get(col) == "true"]
    st.markdown(
        "**Why sampled:** "
        + (" ".join(f":orange-badge[{md(r)}]" for r in reasons) if reasons else "random draw")
        + "  \n**KPI flags:** "
        + (" ".join(f":blue-badge[{md(f)}]" for f in flags) if flags else "none")
    )
    note = item["escalation_note"]
    st.markdown("**Escalation note**" + ("" if item["has_complete_note"] else " (incomplete)"))
    if note:
        st.code(note, language=None, wrap_lines=True)
    else:
        st.caption("No escalation note was written.")
    events = data.ticket_events(snap, item["ticket_id"])
    if events.height:
        in_scope = events.filter(pl.col("is_in_scope"))
        st.plotly_chart(
            charts.timeline_chart(in_scope if in_scope.height else events), key="review_timeline"
        )
        with st.expander("Events and notes"):
            st.dataframe(
                events.select(
                    pl.col("start").dt.strftime("%Y-%m-%d %H:%M").alias("at"),
                    pl.col("held_tier").alias("tier"),
                    pl.col("held_group").alias("group"),
                    pl.col("held_agent").alias("agent"),
                    "status",
                    "note_kind",
                    "note_text",
                ),
                hide_index=True,
            )
    else:
        st.caption("This ticket's events are not in the build the page shows (reload it).")


def _form(snap: str, sample_id: str, item: dict[str, Any], items: pl.DataFrame) -> None:
    """The three questions; saving writes the verdict and moves to the next one."""
    esc = item["escalation_id"]
    with st.form(f"verdict_{esc}", border=True):
        st.markdown("**Your verdict**")
        decision = st.radio(
            "Should this have been escalated?",
            list(DECISIONS),
            index=_index(DECISIONS, item["should_escalate"]),
            format_func=DECISIONS.__getitem__,
            horizontal=True,
            key=f"v_should_{esc}",
        )
        timing = st.radio(
            "If so, was it escalated at the right time?",
            list(TIMINGS),
            index=_index(TIMINGS, item["timing"]),
            format_func=TIMINGS.__getitem__,
            horizontal=True,
            key=f"v_timing_{esc}",
        )
        need = st.radio(
            "What would L1 need to handle this kind of ticket alone next time?",
            list(NEEDS),
            index=_index(NEEDS, item["l1_need"]),
            format_func=NEEDS.__getitem__,
            horizontal=True,
            key=f"v_need_{esc}",
        )
        text = st.text_area(
            "What exactly (access to what, which tool, which skill)?",
            value=item["l1_need_text"] or "",
            key=f"v_text_{esc}",
            height=80,
        )
        article = st.text_input(
            "KB article to write",
            value=item["kb_article_to_write"] or "",
            key=f"v_article_{esc}",
            placeholder="e.g. Resetting MFA for a locked-out user",
        )
        submitted = st.form_submit_button("Save verdict", type="primary")
    if not submitted:
        return
    reviewer = str(st.session_state.get(REVIEWER_KEY) or "").strip()
    if not reviewer:
        st.warning("Type your name in 'Reviewer' above, then save again.")
        return
    if decision is None:
        st.warning("Answer 'Should this have been escalated?' first.")
        return
    verdict = Verdict(
        escalation_id=esc,
        ticket_id=item["ticket_id"],
        sample_id=sample_id,
        reviewer=reviewer,
        should_escalate=decision,
        timing=timing,
        l1_need=need,
        l1_need_text=text.strip() or None,
        kb_article_to_write=article.strip() or None,
    )
    try:
        outcome = record(data.review_db(snap), verdict, wait_seconds=SAVE_WAIT_SECONDS)
    except OSError as exc:  # the journal could not be written: nothing was saved
        st.error(f"The verdict was not saved: cannot write the verdict journal ({md(exc)}).")
        return
    except duckdb.Error:  # journalled; the database refused the insert
        outcome = "queued"
    st.session_state[FLASH_KEY] = SAVED[outcome]
    st.session_state[GOTO_KEY] = _next_unreviewed(items, after=esc)
    st.rerun()


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def _findings(snap: str, sample_id: str) -> None:
    found = data.review_findings(snap, sample_id)
    if found is None:
        return
    est, agree, rules = found.estimate, found.agreement, found.rules
    cols = st.columns(3)
    cols[0].metric(
        "Unnecessary escalations, reviewed",
        _pct(est.value),
        help="Weighted estimate for the whole week from the reviewed sample.",
    )
    if est.value is not None:
        cols[0].caption(
            f"95% interval {_pct(est.ci_low)}–{_pct(est.ci_high)}; {est.reviewed} yes/no "
            f"verdicts standing for {est.coverage:.0%} of {est.population} escalations."
        )
    else:
        cols[0].caption("No yes/no verdict yet.")
    cols[1].metric("Unnecessary escalations, rules", _pct(rules.get("value")))
    if rules.get("value") is not None:
        cols[1].caption(
            f"95% interval {_pct(rules['ci_low'])}–{_pct(rules['ci_high'])}; "
            f"{rules['numerator']:.0f} of {rules['denominator']:.0f} escalated tickets."
        )
    cols[2].metric("Rules and reviewers agree", _pct(agree.observed))
    kappa = "n/a" if agree.kappa is None else f"{agree.kappa:.2f}"
    cols[2].caption(
        f"On {agree.n} escalations: kappa {kappa}; of those the rules flag, reviewers "
        f"confirmed {_pct(agree.rule_precision)}; reviewers found {agree.reviewers_only} "
        "the rules missed."
    )
    if est.value is not None or rules.get("value") is not None:
        st.plotly_chart(charts.review_rate_chart(found.figures()), key="review_rates")
    st.caption(
        "Each sampled escalation stands for N_h / n_h escalations of its stratum (partner × "
        "category × suspicious), so over-sampling the suspicious ones does not bias the "
        "figure. 'Unsure' verdicts are left out. Kappa near 1: the rules judge like the "
        "reviewers; near 0: no better than chance (tune the rules)."
    )


def _actions(snap: str) -> None:
    filters = get_context().filters
    rows = data.review_actions(snap, filters.get("partner"))
    if rows.is_empty():
        st.info("No verdicts yet: the action list fills in as the sample is reviewed.")
        return
    weeks = trend_weeks(rows)
    st.caption(
        f"From every standing verdict ({rows.height}) over {len(weeks)} reviewed week(s)"
        + (f", partner {md(', '.join(partners))}" if (partners := filters.get("partner")) else "")
        + ". Trend: count per reviewed week, oldest first."
    )
    if len(weeks) > 1:
        st.plotly_chart(charts.action_trend_chart(weeks, weekly_findings(rows)), key="review_trend")
    trend = st.column_config.BarChartColumn("trend", y_min=0)
    st.subheader("KB articles to write")
    kb = kb_articles(rows)
    if kb.is_empty():
        st.caption("No reviewer asked for a KB article.")
    else:
        st.dataframe(kb, hide_index=True, column_config={"trend": trend})
    st.subheader("Access and tooling requests")
    access = access_tooling(rows)
    if access.is_empty():
        st.caption("No reviewer found L1 lacking access or tools.")
    else:
        st.dataframe(access, hide_index=True, column_config={"trend": trend})
    st.subheader("Coaching by agent")
    coach = coaching(rows)
    if coach.is_empty():
        st.caption("No escalation was judged too early, too late or unnecessary.")
    else:
        st.dataframe(
            coach.select(
                pl.col("escalating_agent").alias("agent"),
                "pattern",
                "count",
                pl.col("too_early").alias("too early"),
                pl.col("too_late").alias("too late"),
                pl.col("not_needed").alias("not needed"),
                "training",
                "reviewed",
                "trend",
            ),
            hide_index=True,
            column_config={"trend": trend},
        )


def render() -> None:
    ctx = get_context()
    snap = ctx.snapshot
    st.title("Weekly review")
    samples = data.review_samples(snap)
    if samples.is_empty():
        db = data.review_db(snap)
        st.info("No review sample yet. Draw this week's sample, then reload this page:")
        st.code(f"tierlens review sample --db {db} --n 25", language="bash")
        return
    labels = _sample_label(samples)
    sample_id = st.selectbox("Sample", list(labels), format_func=labels.__getitem__, key=SAMPLE_KEY)
    items = data.reviewed_items(snap, sample_id)
    if items.is_empty():
        st.warning(f"Sample {md(sample_id)} has no escalations in this build.")
        return
    done = int(items["should_escalate"].is_not_null().sum())
    st.progress(done / items.height, text=f"{done} of {items.height} escalations reviewed")
    if FLASH_KEY in st.session_state:
        st.success(st.session_state.pop(FLASH_KEY))
    tab_review, tab_findings, tab_actions = st.tabs(["Review", "Findings", "Action list"])
    with tab_review:
        left, right = st.columns([2, 1])
        right.text_input("Reviewer", key=REVIEWER_KEY, placeholder="your name")
        choices = _item_labels(items)
        goto = st.session_state.pop(GOTO_KEY, None)
        if goto in choices:
            st.session_state[ITEM_KEY] = goto
        elif st.session_state.get(ITEM_KEY) not in choices:
            st.session_state[ITEM_KEY] = _next_unreviewed(items)
        esc = left.selectbox(
            "Escalation", list(choices), format_func=choices.__getitem__, key=ITEM_KEY
        )
        item = items.filter(pl.col("escalation_id") == esc).row(0, named=True)
        detail, form = st.columns([3, 2])
        with detail:
            _escalation(snap, item)
        with form:
            _form(snap, sample_id, item, items)
    with tab_findings:
        _findings(snap, sample_id)
    with tab_actions:
        _actions(snap)


if __name__ == "__main__":
    render()
