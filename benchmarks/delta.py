"""The daily export a refresh is measured on: 1% of the tickets, half of them new
(with their events) and half of them already loaded and changed (another priority).

    python -m benchmarks.delta FOLDER N_TICKETS SEED

Writes FOLDER/delta_tickets.csv and FOLDER/delta_events.csv once (kept with the
dataset). The new tickets come from the sample generator with another seed, their
ids prefixed with `N` so they are new; the changed ones are a reservoir sample of
the dataset's tickets.csv.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import duckdb

from pipelines.sample.generator import write_sample

SHARE = 0.01


def write_delta(folder: Path, n_tickets: int, seed: int) -> tuple[Path, Path]:
    tickets, events = folder / "delta_tickets.csv", folder / "delta_events.csv"
    if tickets.exists() and events.exists():
        return tickets, events
    half = max(1, int(n_tickets * SHARE / 2))
    with tempfile.TemporaryDirectory() as tmp:
        write_sample(tmp, n_tickets=half, seed=seed + 1000)
        con = duckdb.connect()
        new_t = f"read_csv('{tmp}/tickets.csv', all_varchar = true)"
        new_e = f"read_csv('{tmp}/events.csv', all_varchar = true)"
        old_t = f"read_csv('{folder}/tickets.csv', all_varchar = true)"
        con.execute(
            f"""copy (
                select * replace ('N' || ticket_id as ticket_id) from {new_t}
                union all by name
                select * replace ('P1' as priority)
                from (select * from {old_t} using sample reservoir({half} rows) repeatable (1))
            ) to '{tickets}.partial' (header)"""
        )
        con.execute(
            f"copy (select * replace ('N' || ticket_id as ticket_id) from {new_e}) "
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
