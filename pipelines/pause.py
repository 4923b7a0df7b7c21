"""A test-only hook: TIERLENS_TEST_PAUSE makes a build pause at a named point.

`TIERLENS_TEST_PAUSE=after_commit` (or `after_commit:5` for 5 seconds; default 30)
makes `tierlens build` print "paused at after_commit" on stderr and sleep there, so
a test can kill the process at that exact moment. Unset, it does nothing.
"""

from __future__ import annotations

import math
import os
import sys
import time

from pipelines.errors import TierlensError

PAUSE_ENV = "TIERLENS_TEST_PAUSE"
# In the order a build passes them.
PAUSE_POINTS = (
    "between_models",
    "before_commit",
    "after_commit",
    "during_publish",
    "after_publish",
)
DEFAULT_SECONDS = 30.0


def pause_setting() -> tuple[str, float] | None:
    """(point, seconds) from TIERLENS_TEST_PAUSE, None when unset; a TierlensError
    naming the variable for a value it cannot use (checked before a build starts)."""
    value = os.environ.get(PAUSE_ENV, "").strip()
    if not value:
        return None
    name, _, seconds = value.partition(":")
    try:
        wait = float(seconds) if seconds else DEFAULT_SECONDS
    except ValueError:
        wait = math.nan
    if name not in PAUSE_POINTS or not 0 <= wait <= 3600:
        raise TierlensError(
            f"environment variable {PAUSE_ENV}={value!r}: a point ({', '.join(PAUSE_POINTS)}), "
            "optionally `:seconds` up to 3600 (tests only); fix or unset it"
        )
    return name, wait


def pause_at(point: str) -> None:
    """Sleep here if TIERLENS_TEST_PAUSE names `point`."""
    setting = pause_setting()
    if setting is not None and setting[0] == point:
        print(f"paused at {point}", file=sys.stderr, flush=True)
        time.sleep(setting[1])
