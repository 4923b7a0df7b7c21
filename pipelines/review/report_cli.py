"""Terminal output of the review commands."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from pipelines.errors import TierlensError
from pipelines.kpis import open_published
from pipelines.review.estimate import agreement, stratified_rate
from pipelines.review.sampling import SampleResult, level_name
from pipelines.review.store import sample_items


def print_sample(result: SampleResult, console: Console) -> None:
    who = f", partner {result.partner}" if result.partner else ""
    console.print(
        Text.assemble(
            "sample ", (result.sample_id, "bold"),
            f": {result.n_drawn} of {result.population} escalations in the week of "
            f"{result.week_start}{who}",
        )
    )
    if result.n_drawn < result.n_requested:
        console.print(
            f"[yellow]note:[/] {result.n_requested} asked for: the week has only "
            f"{result.population} escalations{who}, so all are in the sample."
        )
    elif result.coarsened:
        console.print(
            f"[yellow]note:[/] {result.n_requested} escalations cannot cover every partner x "
            "category x suspicious stratum, so the sample is stratified by "
            f"{level_name(result.level)} instead (each stratum still gets one, and the "
            "weights keep the estimate unbiased)."
        )
    table = Table("#", "escalation", "stratum", "why", "weight")
    for i, row in enumerate(result.items.iter_rows(named=True), start=1):
        table.add_row(  # names from the data: text, never markup
            str(i),
            Text(row["escalation_id"]),
            Text(row["stratum"]),
            Text(row["suspicion_reasons"] or ""),
            f"{row['weight']:.2f}",
        )
    console.print(table)


def print_estimate(db: Path | str, sample_id: str, console: Console) -> None:
    con = open_published(db)
    try:
        items = sample_items(con, sample_id)
    finally:
        con.close()
    if items.is_empty():
        raise TierlensError(f"no sample {sample_id!r} in {db} (see `tierlens review sample`)")
    est = stratified_rate(items)
    agree = agreement(items)
    if est.value is None:
        console.print(
            f"{sample_id}: no verdicts yet ({items.height} escalations to review)", markup=False
        )
        return
    console.print(
        f"reviewed unnecessary-escalation rate: [bold]{est.value:.1%}[/] "
        f"(95% CI {est.ci_low:.1%}-{est.ci_high:.1%}), {est.reviewed} verdicts standing for "
        f"{est.population} escalations ({est.coverage:.0%} of the week covered)"
    )
    kappa = f"{agree.kappa:.2f}" if agree.kappa is not None else "n/a"
    precision = f"{agree.rule_precision:.0%}" if agree.rule_precision is not None else "n/a"
    console.print(
        f"rules vs reviewers on {agree.n}: agree {agree.observed:.0%} (kappa {kappa}); "
        f"of the rule-flagged, reviewers confirmed {precision}"
    )
