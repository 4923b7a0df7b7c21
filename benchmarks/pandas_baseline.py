"""The pandas baseline: what a competent analyst would write to get three escalation
KPIs out of the same CSV exports, following docs/metrics.md.

    python -m benchmarks.pandas_baseline tickets.csv events.csv [--json out.json]

Vectorised pandas (read_csv, sort, groupby/shift/ffill), no loop over rows. The
status map and the tier map are the product's defaults (an analyst would copy
them from the documentation); the tier map is applied to the distinct group names
only. Computes, over all resolved tickets:

- L1 resolution rate: among resolved tickets whose entry tier is L1, the share never
  escalated and never reopened;
- escalation rate: among the same tickets, the share with at least one escalation;
- bounceback rate: among the escalations of resolved tickets, the share whose next
  tier change is a drop.

Prints one JSON object: {metric: {"numerator": k, "denominator": n, "value": k / n}}.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from benchmarks.script_cli import script_main

RESOLVED = ("resolved", "closed")
ACTIVE = ("queue", "work", "wait")


def _maps() -> tuple[dict[str, str], list[tuple[re.Pattern[str] | None, str | None, str]]]:
    """The default status map and tier rules (as documented in docs/configuration.md)."""
    from pipelines.config import Config

    config = Config()
    rules = [
        (
            re.compile(r.pattern) if r.pattern else None,
            r.group.strip().lower() if r.group else None,
            r.tier,
        )
        for r in config.tier_map
    ]
    return dict(config.status_map), rules


def _group_tier(name: str, rules: list) -> str | None:
    """Exact names before patterns, then rule order (global rules only in the defaults)."""
    for _pattern, exact, tier in rules:
        if exact is not None and exact == name.strip().lower():
            return tier
    for pattern, _exact, tier in rules:
        if pattern is not None and pattern.search(name):
            return tier
    return None


def compute(tickets_csv: Path, events_csv: Path) -> dict[str, dict[str, float]]:
    status_map, rules = _maps()
    tickets = pd.read_csv(tickets_csv, usecols=["ticket_id", "partner"])
    ev = pd.read_csv(
        events_csv,
        usecols=["ticket_id", "event_at", "seq", "group", "tier", "status"],
        parse_dates=["event_at"],
    )

    # the timeline: by time, then by seq
    ev = ev.sort_values(["ticket_id", "event_at", "seq"], kind="stable").reset_index(drop=True)

    # tier of each event: a clear label, else the tier map of the group, else the
    # lowest tier of an ambiguous label ("L2/L3" -> L2)
    group = ev["group"].str.strip().replace({"": None, "?": None})
    label = ev["tier"].str.strip().str.upper().replace({"": None, "?": None})
    clear = label.where(label.str.fullmatch(r"L[1-4]", na=False))
    ambiguous = label[label.str.fullmatch(r"L[1-4](?:\s*/\s*L?[1-4])+", na=False)]
    ambiguous_low = "L" + ambiguous.str.findall(r"[1-4]").map(min)
    names = group.dropna().unique()
    mapped = group.map({g: _group_tier(g, rules) for g in names})
    ev["event_tier"] = clear.fillna(mapped).fillna(ambiguous_low)
    ev["status_class"] = ev["status"].str.strip().str.lower().map(status_map)

    g = ev.groupby("ticket_id", sort=False)
    ev["held_tier"] = g["event_tier"].ffill()
    ev["idx"] = g.cumcount() + 1
    ev["n"] = g["event_tier"].transform("size")

    # final resolution: the first event of the last run of resolved/closed events
    is_open_event = ~ev["status_class"].isin(RESOLVED)
    last_open = ev["idx"].where(is_open_event).groupby(ev["ticket_id"], sort=False).transform("max")
    last_class = g["status_class"].transform("last")
    resolved_ticket = ev["status_class"].isin(RESOLVED) & (ev["idx"] == ev["n"])
    resolved_ids = ev.loc[resolved_ticket, "ticket_id"]
    final_idx = last_open.fillna(0) + 1
    in_scope = ev["idx"] <= final_idx.where(last_class.isin(RESOLVED), ev["n"])

    rank = ev["held_tier"].str[1].astype("float")
    prev_rank = rank.groupby(ev["ticket_id"], sort=False).shift()
    prev_class = ev["status_class"].groupby(ev["ticket_id"], sort=False).shift()
    ev["rise"] = (rank > prev_rank) & in_scope
    ev["change"] = (rank != prev_rank) & rank.notna() & prev_rank.notna() & in_scope
    ev["reopen"] = prev_class.isin(RESOLVED) & ev["status_class"].isin(ACTIVE) & in_scope

    scoped = ev[in_scope & ev["ticket_id"].isin(resolved_ids)]
    per_ticket = scoped.groupby("ticket_id", sort=False).agg(
        entry_tier=("held_tier", "first"),
        escalated=("rise", "any"),
        reopened=("reopen", "any"),
    )
    per_ticket = per_ticket.join(tickets.set_index("ticket_id")["partner"])  # for a by-partner view
    l1 = per_ticket[per_ticket["entry_tier"] == "L1"]
    l1_resolved = int((~l1["escalated"] & ~l1["reopened"]).sum())
    escalated = int(l1["escalated"].sum())

    # escalations and the next tier change after each
    changes = scoped[scoped["change"]].copy()
    changes["rank"] = changes["held_tier"].str[1].astype(int)
    changes["next_rank"] = changes.groupby("ticket_id", sort=False)["rank"].shift(-1)
    escalations = changes[changes["rise"]]
    bounced = int((escalations["next_rank"] < escalations["rank"]).sum())

    def rate(k: int, n: int) -> dict[str, float]:
        return {"numerator": k, "denominator": n, "value": k / n if n else float("nan")}

    return {
        "l1_resolution_rate": rate(l1_resolved, len(l1)),
        "escalation_rate": rate(escalated, len(l1)),
        "bounceback_rate": rate(bounced, len(escalations)),
    }


def main(argv: list[str] | None = None) -> int:
    return script_main(compute, __doc__, argv)


if __name__ == "__main__":
    raise SystemExit(main())
