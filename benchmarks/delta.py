"""The daily export a refresh is measured on: 1% of the tickets, half of them new
(with their events, a week later than the dataset's own) and half of them already
loaded, among the latest opened, and changed (another priority): what a
nightly export of the recent activity holds.

    python -m benchmarks.delta FOLDER N_TICKETS SEED

Writes FOLDER/delta_tickets.csv and FOLDER/delta_events.csv once (kept with the
dataset). The new tickets come from the sample generator with another seed, their
ids prefixed with `N` so they are new, from the latest fifth of a generated month
moved 7 days on; the changed ones are a reservoir sample of the latest fifth of
tickets.csv (by opened_at).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import duckdb

from pipelines.sample.generator import write_sample

SHARE = 0.01
LATER = "7 days"


def _later(column: str) -> str:
    """The CSV's ISO timestamp `column`, LATER on, in the same format."""
    return (
        f"strftime({column}::timestamptz at time zone 'UTC' + interval {LATER}, "
        f"'%Y-%m-%dT%H:%M:%SZ')"
    )


def write_delta(folder: Path, n_tickets: int, seed: int) -> tuple[Path, Path]:
    tickets, events = folder / "delta_tickets.csv", folder / "delta_events.csv"
    if tickets.exists() and events.exists():
        return tickets, events
    half = max(1, int(n_tickets * SHARE / 2))
    with tempfile.TemporaryDirectory() as tmp:
        # a month of tickets, of which `half` of the latest fifth are kept
        write_sample(tmp, n_tickets=20 * half, seed=seed + 1000)
        con = duckdb.connect()
        con.execute(
            f"""create table new_t as
                select * from read_csv('{tmp}/tickets.csv', all_varchar = true)
                where opened_at::timestamptz >= (
                    select quantile_disc(opened_at::timestamptz, 0.8)
                    from read_csv('{tmp}/tickets.csv', all_varchar = true))
                order by opened_at limit {half}"""
        )
        new_t = "new_t"
        new_e = (
            f"(select * from read_csv('{tmp}/events.csv', all_varchar = true) "
            "where ticket_id in (select ticket_id from new_t))"
        )
        old_t = f"read_csv('{folder}/tickets.csv', all_varchar = true)"
        con.execute(
            f"""copy (
                select * replace (
                    'N' || ticket_id as ticket_id,
                    {_later("opened_at")} as opened_at,
                    {_later("sla_due_at")} as sla_due_at
                ) from {new_t}
                union all by name
                select * replace ('P1' as priority)
                from (
                    select * from (
                        select * from {old_t}
                        where opened_at::timestamptz >= (
                            select quantile_disc(opened_at::timestamptz, 0.8) from {old_t}
                        )
                    )
                    using sample reservoir({half} rows) repeatable (1)
                )
            ) to '{tickets}.partial' (header)"""
        )
        con.execute(
            f"copy (select * replace ('N' || ticket_id as ticket_id, {_later('event_at')} "
            f"as event_at) from {new_e}) "
            f"to '{events}.partial' (header)"
        )
        con.close()
    Path(f"{tickets}.partial").rename(tickets)
    Path(f"{events}.partial").rename(events)
    return tickets, events


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    for path in write_delta(Path(args[0]), int(args[1]), int(args[2])):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
