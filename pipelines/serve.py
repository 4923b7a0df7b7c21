"""Start the Streamlit dashboard on a built database: `tierlens dashboard`, and a
server on a free port for the browser tests and the benchmark."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pipelines.errors import TierlensError

APP = Path(__file__).resolve().parents[1] / "dashboards" / "app.py"


def streamlit_command(
    db: Path | str, port: int, *, headless: bool = True, address: str | None = None
) -> list[str]:
    """`streamlit run` through dashboards.server, which imports the app's code
    before the server starts, so the first visitor does not wait for it."""
    bind = ["--server.address", address] if address else []
    return [
        sys.executable,
        "-m",
        "dashboards.server",
        "run",
        str(APP),
        "--server.port",
        str(port),
        "--server.headless",
        "true" if headless else "false",
        "--browser.gatherUsageStats",
        "false",
        *bind,
        "--",
        "--db",
        str(db),
    ]


def serve_dashboard(db: Path | str, port: int) -> int:
    if not APP.exists():
        raise TierlensError("the dashboard is not installed (dashboards/app.py is missing)")
    env = {**os.environ, "TIERLENS_DB": str(Path(db).resolve())}
    return subprocess.call(streamlit_command(db, port), env=env)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 120) -> None:
    """Until Streamlit's health endpoint answers; an error if the server exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"{url}/_stcore/health did not answer in {timeout}s")


@dataclass(frozen=True)
class RunningDashboard:
    url: str
    pid: int


@contextmanager
def running_dashboard(
    db: Path | str, log: Path, *, timeout: float = 120
) -> Iterator[RunningDashboard]:
    """The dashboard on `db` on a free local port (output to `log`), as `tierlens
    dashboard` starts it, until the block ends; yields its URL and process id once
    healthy. For the browser tests and the benchmark."""
    port = free_port()
    env = {**os.environ, "TIERLENS_DB": str(Path(db).resolve())}
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a") as out:
        proc = subprocess.Popen(
            streamlit_command(db, port, address="127.0.0.1"),
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc, timeout)
        yield RunningDashboard(url, proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
