"""Running the real `tierlens` command line as a subprocess, for the CLI tests."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

# Wide enough that rich never wraps a name the tests look for; no wait for a lock.
BASE_ENV = {"COLUMNS": "220", "TIERLENS_LOCK_WAIT": "1", "PYTHONIOENCODING": "utf-8"}


@dataclass(frozen=True)
class Run:
    args: tuple[str, ...]
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err

    def describe(self) -> str:
        return f"tierlens {' '.join(self.args)} -> {self.code}\n{self.text[-3000:]}"


def tierlens(
    *args: object, cwd: Path, env: dict[str, str] | None = None, timeout: float = 60
) -> Run:
    """`tierlens ARGS` in `cwd` (no tierlens.toml of the repository in the way)."""
    strs = tuple(map(str, args))
    proc = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", *strs],
        cwd=cwd,
        env={**os.environ, **BASE_ENV, **(env or {})},
        capture_output=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    return Run(
        strs,
        proc.returncode,
        proc.stdout.decode("utf-8", "replace"),
        proc.stderr.decode("utf-8", "replace"),
    )


def one_line_error(run: Run) -> str:
    """The single `error: ...` line of a refused command (exit 2, nothing else said)."""
    assert run.code == 2, run.describe()
    assert "Traceback" not in run.text, run.describe()
    lines = run.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), run.describe()
    return lines[0]
