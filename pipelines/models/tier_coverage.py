"""The build's warning when no event has a tier: the tier map matched no group and
the export has no tier column, so every KPI that needs tiers has no value."""

from __future__ import annotations

import duckdb
from rich.console import Console

TIER_MAP_DOC = "docs/configuration.md#tier-map"


def no_tier_warning(con: duckdb.DuckDBPyConnection) -> str | None:
    """The warning for the published build, or None when some event has a tier (or
    there are no events)."""
    n_events, n_tiered, n_groups = con.execute(
        """select count(*), count(held_tier),
               (select count(*) from analytics.int_group_tiers)
           from analytics.int_ticket_events"""
    ).fetchall()[0]
    if not n_events or n_tiered:
        return None
    return (
        f"warning: no event has a tier: none of the {n_groups:,} groups matched the tier map "
        "and the export has no tier column, so the KPIs that need tiers (escalation, L1 "
        f"resolution, tier mix, ...) have no value. Add tier_map rules for your groups "
        f"(see {TIER_MAP_DOC}) and build again."
    )


def print_no_tier_warning(con: duckdb.DuckDBPyConnection, console: Console) -> None:
    warning = no_tier_warning(con)
    if warning:
        console.print(warning, style="yellow", highlight=False, markup=False, soft_wrap=True)
