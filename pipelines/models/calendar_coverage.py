"""The build's warning for a [[calendar_map]] rule that matches no ticket: most often
a partner or client name spelled differently from the export's, which would leave
those tickets on wall-clock time without a word."""

from __future__ import annotations

import duckdb
from rich.console import Console


def unmatched_rule_warnings(con: duckdb.DuckDBPyConnection) -> list[str]:
    """One line per calendar rule no ticket of the published build matches (each
    rule on its own, whatever the rules before it)."""
    rows = con.execute(
        """
        select rules.rule_order, rules.partner, rules.client, rules.priority, rules.calendar
        from config.calendar_rules as rules
        where not exists (
            select 1 from analytics.int_tickets as tickets
            where (rules.partner is null or rules.partner = tickets.partner)
                and (rules.client is null or rules.client = tickets.client)
                and (rules.priority is null or rules.priority = tickets.priority)
        )
        order by rules.rule_order
        """
    ).fetchall()
    out = []
    for order, partner, client, priority, calendar in rows:
        keys = ", ".join(
            f"{k} {v!r}"
            for k, v in (("partner", partner), ("client", client), ("priority", priority))
            if v is not None
        )
        out.append(
            f"warning: calendar_map.{order} ({keys or 'every ticket'} -> {calendar}) matches no "
            "ticket: check the names against the export (they are compared exactly)"
        )
    return out


def print_calendar_warnings(con: duckdb.DuckDBPyConnection, console: Console) -> None:
    for line in unmatched_rule_warnings(con):
        console.print(line, style="yellow", highlight=False, markup=False, soft_wrap=True)
