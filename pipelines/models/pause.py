"""A test-only hook: TIERLENS_TEST_PAUSE makes a build pause at a named point.

`TIERLENS_TEST_PAUSE=after_commit` (or `after_commit:5` for 5 seconds; default 30)
makes `tierlens build` print "paused at after_commit" on stderr and sleep there, so
a test can kill the process at that exact moment. Unset, it does nothing.
"""

from __future__ import annotations

import os
import sys
import time

PAUSE_ENV = "TIERLENS_TEST_PAUSE"
# In the order a build passes them.
PAUSE_POINTS = ("before_commit", "after_commit", "during_publish", "after_publish")


def pause_at(point: str) -> None:
    """Sleep here if TIERLENS_TEST_PAUSE names `point`."""
    name, _, seconds = os.environ.get(PAUSE_ENV, "").partition(":")
    if name == point:
        print(f"paused at {point}", file=sys.stderr, flush=True)
        time.sleep(float(seconds or 30))
