"""Start the Streamlit dashboard on a built database: `tierlens dashboard`, and a
server on a free port for the browser tests and the benchmark."""

from __future__ import annotations

import errno
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pipelines.db import require_database
from pipelines.errors import TierlensError
from pipelines.supervise import run_supervised

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


def check_port_number(port: int) -> None:
    if not 1 <= port <= 65535:
        raise TierlensError(
            f"--port {port}: not a port; give a number from 1 to 65535 (default 8501)"
        )


def _listener(port: int) -> socket.socket:
    """A socket bound as Streamlit binds its own: every address, IPv6 and IPv4."""
    try:
        sock = socket.socket(socket.AF_INET6)
    except OSError:  # no IPv6 on this machine
        sock = socket.socket(socket.AF_INET)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("", port))
        return sock
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        sock.bind(("::", port))
    except BaseException:
        sock.close()
        raise
    return sock


def check_port(port: int) -> None:
    """A TierlensError unless the dashboard can listen on `port` now."""
    check_port_number(port)
    try:
        _listener(port).close()
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise TierlensError(
                f"--port {port}: the port is already in use (another dashboard or program "
                "listens on it); stop that one, or choose another port with --port"
            ) from None
        if exc.errno == errno.EACCES:
            raise TierlensError(
                f"--port {port}: this user may not listen on ports below 1024; choose one "
                "from 1024 to 65535"
            ) from None
        raise TierlensError(f"--port {port}: cannot listen on it ({exc.strerror})") from None


def serve_dashboard(
    db: Path | str, port: int, *, on_stop: Callable[[signal.Signals], None] | None = None
) -> int:
    """Serve the dashboard until the server exits or this process is stopped (the
    server never outlives it); returns the exit code for the command."""
    if not APP.exists():
        raise TierlensError("the dashboard is not installed (dashboards/app.py is missing)")
    check_port_number(port)
    require_database(db)
    check_port(port)
    env = {**os.environ, "TIERLENS_DB": str(Path(db).resolve())}
    return run_supervised(streamlit_command(db, port), env=env, on_stop=on_stop)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]  # (host, port) for AF_INET; typeshed says Any
        return port


def wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout: float = 120) -> None:
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


def stop(proc: subprocess.Popen[bytes], timeout: float = 15) -> None:
    """Ask a server process to stop; kill it when it does not within `timeout`."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


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
        stop(proc)
