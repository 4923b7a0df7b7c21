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

from pipelines.access.auth import AuthSettings, find_auth, is_loopback
from pipelines.access.settings import Access
from pipelines.db import require_database
from pipelines.errors import TierlensError
from pipelines.supervise import run_supervised

APP = Path(__file__).resolve().parents[1] / "dashboards" / "app.py"


DEFAULT_ADDRESS = "127.0.0.1"


def streamlit_command(
    db: Path | str,
    port: int,
    *,
    headless: bool = True,
    address: str = DEFAULT_ADDRESS,
    config: Path | None = None,
    secrets: Path | None = None,
) -> list[str]:
    """`streamlit run` through dashboards.server, which imports the app's code
    before the server starts, so the first visitor does not wait for it."""
    # with logins, a bug's traceback (file paths, values) goes to the server's log only
    given_secrets = (
        ["--secrets.files", str(secrets.resolve()), "--client.showErrorDetails", "none"]
        if secrets
        else []
    )
    given_config = ["--config", str(config.resolve())] if config else []
    return [
        sys.executable,
        "-m",
        "dashboards.server",
        "run",
        str(APP),
        "--server.port",
        str(port),
        "--server.address",
        address,
        "--server.headless",
        "true" if headless else "false",
        "--browser.gatherUsageStats",
        "false",
        # the grids' own "download as CSV" writes cells verbatim (a name such as
        # =HYPERLINK(...) would run in a spreadsheet): pages offer neutralised
        # downloads instead (pipelines/csv_safe.py)
        "--client.disableDataExport",
        "true",
        # a served dashboard does not rerun when a source file is edited (run
        # `streamlit run dashboards/app.py -- --db DB` for that): Streamlit's watcher
        # otherwise watches every app file and, on the server's event loop after a
        # session's first run (and any run that imports a module), takes the real
        # path of each of the ~1,300 loaded modules, while the browser waits
        "--server.fileWatcherType",
        "none",
        # no script of the app writes a value by standing alone on a line, so Streamlit
        # need not rewrite each script's syntax tree for it on a page's first view
        "--runner.magicEnabled",
        "false",
        *given_secrets,
        "--",
        "--db",
        str(db),
        *given_config,
    ]


def check_port_number(port: int) -> None:
    if not 1 <= port <= 65535:
        raise TierlensError(
            f"--port {port}: not a port; give a number from 1 to 65535 (default 8501)"
        )


def _listener(port: int, address: str) -> socket.socket:
    """A socket bound as Streamlit will bind its own, on `address`."""
    try:
        infos = socket.getaddrinfo(address, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise TierlensError(
            f"--address {address}: not an IP address or a known host name"
        ) from None
    family, _, _, _, sockaddr = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(sockaddr)
    except BaseException:
        sock.close()
        raise
    return sock


def check_port(port: int, address: str = DEFAULT_ADDRESS) -> None:
    """A TierlensError unless the dashboard can listen on `address`:`port` now."""
    check_port_number(port)
    try:
        _listener(port, address).close()
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
        if exc.errno == errno.EADDRNOTAVAIL:
            raise TierlensError(f"--address {address}: not an address of this machine") from None
        raise TierlensError(f"--port {port}: cannot listen on it ({exc.strerror})") from None


@dataclass(frozen=True)
class Exposure:
    """Who can reach the dashboard, decided before it starts."""

    address: str
    login: AuthSettings | None
    warnings: tuple[str, ...]


def check_exposure(
    address: str, access: Access, secrets: Path | None, *, insecure: bool
) -> Exposure:
    """Refuse to serve every partner's data beyond this machine without a login:
    a non-loopback address needs `[auth]` unless `insecure`. Scopes need a login."""
    login = find_auth(secrets)
    warnings: list[str] = []
    if access.has_grants and login is None:
        raise TierlensError(
            "[access] grants scopes, but no login is configured: add an [auth] section "
            "to .streamlit/secrets.toml (or give --secrets FILE); see docs/deployment.md"
        )
    if login is not None and not access.has_grants:
        warnings.append(
            "logins are configured but [access] grants no scope: every sign-in will be "
            "refused until tierlens.toml names who sees what (docs/deployment.md)"
        )
    if not is_loopback(address) and login is None:
        if not insecure:
            raise TierlensError(
                f"--address {address}: other machines could reach the dashboard, and "
                "with no login anyone who does sees every partner, client, agent and "
                "ticket. Configure logins (docs/deployment.md), or pass --insecure to "
                "accept that."
            )
        warnings.append(
            f"--insecure: serving every partner's data on {address} with no login; "
            "anyone who reaches this address sees everything"
        )
    return Exposure(address, login, tuple(warnings))


def serve_dashboard(
    db: Path | str,
    port: int,
    *,
    address: str = DEFAULT_ADDRESS,
    config: Path | None = None,
    secrets: Path | None = None,
    on_stop: Callable[[signal.Signals], None] | None = None,
) -> int:
    """Serve the dashboard until the server exits or this process is stopped (the
    server never outlives it); returns the exit code for the command. The caller
    has checked the exposure (check_exposure)."""
    if not APP.exists():
        raise TierlensError("the dashboard is not installed (dashboards/app.py is missing)")
    check_port_number(port)
    require_database(db)
    check_port(port, address)
    env = {**os.environ, "TIERLENS_DB": str(Path(db).resolve())}
    command = streamlit_command(db, port, address=address, config=config, secrets=secrets)
    return run_supervised(command, env=env, on_stop=on_stop)


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
    db: Path | str,
    log: Path,
    *,
    timeout: float = 120,
    config: Path | None = None,
    secrets: Path | None = None,
    port: int | None = None,
) -> Iterator[RunningDashboard]:
    """The dashboard on `db` on a free local port (output to `log`), as `tierlens
    dashboard` starts it, until the block ends; yields its URL and process id once
    healthy. For the browser tests and the benchmark."""
    port = port or free_port()
    env = {**os.environ, "TIERLENS_DB": str(Path(db).resolve())}
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a") as out:
        proc = subprocess.Popen(
            streamlit_command(db, port, config=config, secrets=secrets),
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
