"""A child process that never outlives the command that started it.

`tierlens dashboard` runs the Streamlit server as a child process. When the command
is stopped (Ctrl-C, `kill`, a process manager's SIGTERM, a closed terminal's
SIGHUP) it passes the signal on and waits for the server to stop, killing it if it
has not within a grace period; if the command itself is killed outright (SIGKILL),
Linux stops the server too (PR_SET_PDEATHSIG), so the port is never left held.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from types import FrameType

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
GRACE_SECONDS = 5.0
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with_parent() -> Callable[[], None] | None:
    """A preexec_fn making the child get SIGKILL when this process dies (Linux), or
    None where that is not available."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def hook() -> None:  # runs in the child between fork and exec
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return hook


def run_supervised(
    command: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    grace: float = GRACE_SECONDS,
    on_stop: Callable[[signal.Signals], None] | None = None,
) -> int:
    """Run `command` until it exits; returns its exit code. A stop signal received
    meanwhile is passed on to it (once per signal received); if it is still running
    `grace` seconds after the first, it is killed. Returns 0 after a requested stop
    (it ended as asked), else the child's code (128 + N when it died of signal N)."""
    proc = subprocess.Popen(command, env=env, preexec_fn=die_with_parent())
    stop_at: list[float] = []

    def forward(signum: int, _frame: FrameType | None) -> None:
        if not stop_at:
            stop_at.append(time.monotonic() + grace)
            if on_stop is not None:
                on_stop(signal.Signals(signum))
        with suppress(ProcessLookupError):
            proc.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in STOP_SIGNALS}
    try:
        while True:
            try:
                code = proc.wait(timeout=0.2)
                break
            except subprocess.TimeoutExpired:
                if stop_at and time.monotonic() >= stop_at[0]:
                    proc.kill()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if proc.poll() is None:  # an error in this process: never leave the child behind
            proc.kill()
            proc.wait()
    if stop_at:
        return 0
    return 128 - code if code < 0 else code
