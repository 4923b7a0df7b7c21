"""The floor: DuckDB alone scanning the same exports into tables, no validation.

    python -m benchmarks.floor DB tickets.csv events.csv

`create table ... as select * from read_csv(...)` into a fresh database file, with
DuckDB's own type sniffing: the least any CSV ingest into DuckDB can cost. Tierlens'
ingest does much more (exact line numbers and raw text for every row, validation,
rejects with reasons, dedupe, lineage, one transaction), so the ratio to the floor
is the price of that.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import duckdb


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    db, files = Path(args[0]), [Path(a) for a in args[1:]]
    started = time.perf_counter()
    con = duckdb.connect(str(db))
    rows = {}
    for path in files:
        table = path.name.split(".")[0]
        con.execute(f"create table {table} as select * from read_csv('{path}')")
        rows[table] = con.execute(f"select count(*) from {table}").fetchone()[0]  # type: ignore[index]
    con.close()
    rows["_seconds"] = time.perf_counter() - started
    sys.stdout.write(json.dumps(rows) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
