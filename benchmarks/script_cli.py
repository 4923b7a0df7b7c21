"""The command line the reference scripts share (benchmarks/pandas_baseline.py,
benchmarks/lean.py): TICKETS EVENTS [--json OUT], the three KPIs' figures and the
seconds as one JSON object on stdout. Kept apart so that neither imports the
other's libraries (pandas takes a while to import, and lean is timed)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path


def script_main(
    compute_figures: Callable[[Path, Path], Mapping[str, object]],
    doc: str | None,
    argv: list[str] | None = None,
) -> int:
    """Parse the command line, run `compute_figures`, print (and maybe write) them."""
    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    parser.add_argument("tickets", type=Path)
    parser.add_argument("events", type=Path)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    figures: dict[str, object] = dict(compute_figures(args.tickets, args.events))
    figures["_seconds"] = time.perf_counter() - started
    text = json.dumps(figures, indent=1)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    sys.stdout.write(text + "\n")
    return 0
