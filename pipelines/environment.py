"""The TIERLENS_* environment variables: read, and checked before a command runs.

A bad value stops the command with one line naming the variable and what it accepts
(docs/configuration.md, "Environment variables"), never a traceback halfway through.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

from pipelines.errors import TierlensError

# Where a command looks for its configuration when --config is not given (here, so
# that a command can tell whether there is one without loading the config models).
DEFAULT_CONFIG_NAME = "tierlens.toml"

LOCK_WAIT = "TIERLENS_LOCK_WAIT"
MEMORY_LIMIT = "TIERLENS_MEMORY_LIMIT"
CHROMIUM = "TIERLENS_CHROMIUM"

DEFAULT_LOCK_WAIT_SECONDS = 15.0
# The most seconds a command may wait for a database: a day (a larger value is a typo).
MAX_LOCK_WAIT_SECONDS = 86_400.0

# DuckDB's memory sizes: a number and a unit (1000- or 1024-based), or a share of RAM.
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(kb|mb|gb|tb|kib|mib|gib|tib)\s*$", re.IGNORECASE)
_SHARE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")
_UNIT_BYTES = {
    "kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12,
    "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40,
}
# Below this DuckDB cannot run an ingest or a build at all (it fails "out of memory").
MIN_MEMORY_BYTES = 100e6


class EnvironmentSettingError(TierlensError):
    """A TIERLENS_* environment variable with a value Tierlens cannot use."""


def _bad(name: str, value: str, accepts: str) -> EnvironmentSettingError:
    return EnvironmentSettingError(
        f"environment variable {name}={value!r}: {accepts}; fix or unset it"
    )


def lock_wait_seconds() -> float:
    """TIERLENS_LOCK_WAIT: seconds to wait for a database another process holds."""
    value = os.environ.get(LOCK_WAIT)
    if value is None or not value.strip():
        return DEFAULT_LOCK_WAIT_SECONDS
    accepts = f"expected a number of seconds from 0 to {MAX_LOCK_WAIT_SECONDS:g}, e.g. 15"
    try:
        seconds = float(value)
    except ValueError:
        raise _bad(LOCK_WAIT, value, accepts) from None
    if not math.isfinite(seconds) or not 0 <= seconds <= MAX_LOCK_WAIT_SECONDS:
        raise _bad(LOCK_WAIT, value, accepts)
    return seconds


def check_memory_limit() -> None:
    """TIERLENS_MEMORY_LIMIT (read by the ingest and the build): a DuckDB memory size."""
    value = os.environ.get(MEMORY_LIMIT)
    if not value:
        return
    accepts = (
        "expected a memory size of at least 100MB such as 8GB or 6000MiB, "
        "or a share of the RAM such as 50%"
    )
    size, share = _SIZE_RE.match(value), _SHARE_RE.match(value)
    if size:
        if float(size.group(1)) * _UNIT_BYTES[size.group(2).lower()] < MIN_MEMORY_BYTES:
            raise _bad(MEMORY_LIMIT, value, accepts)
    elif share:
        if not 0 < float(share.group(1)) <= 100:
            raise _bad(MEMORY_LIMIT, value, accepts)
    else:
        raise _bad(MEMORY_LIMIT, value, accepts)


def check_chromium(path: Path) -> None:
    """TIERLENS_CHROMIUM, when a command needs the browser: a file, not a folder."""
    value = os.environ.get(CHROMIUM)
    if value is not None and (not value.strip() or path.is_dir()):
        raise _bad(CHROMIUM, value, "expected the path of the Chromium program")


def check_environment() -> None:
    """Every variable a command may read; raises EnvironmentSettingError on the first
    bad one."""
    lock_wait_seconds()
    check_memory_limit()
