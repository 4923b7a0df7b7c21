"""`tierlens dashboard` never outlives its command: stopped by a signal (a process
manager's SIGTERM, Ctrl-C's SIGINT, a closed terminal's SIGHUP) it stops the
Streamlit server it started, and killed outright (SIGKILL) the server goes too, so
the next start on the port works. The real CLI and the real server, as subprocesses."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import suppress
from pathlib import Path

import pytest

from pipelines.db import connect

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _servers_on(port: int) -> list[int]:
    """Live (not zombie) processes whose command line serves `port`."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            args = (proc / "cmdline").read_bytes().split(b"\0")
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if b"--server.port" in args and str(port).encode() in args and state != "Z":
            found.append(int(proc.name))
    return found


def _can_bind(port: int) -> bool:
    """What the next server start does: bind every address (SO_REUSEADDR, as servers do)."""
    try:
        s = socket.socket(socket.AF_INET6)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        address = "::"
    except OSError:  # no IPv6 here
        s, address = socket.socket(socket.AF_INET), ""
    with s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((address, port))
        except OSError:
            return False
    return True


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def _until(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


@pytest.fixture
def served(tmp_path: Path):
    """`tierlens dashboard` on a free port, answering HTTP; yields (process, port)."""
    db = tmp_path / "t.duckdb"
    connect(db).close()
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "dashboard", "--db", str(db), "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # a signal to this test's group never reaches it
    )
    try:
        assert _until(lambda: _healthy(port) or proc.poll() is not None, 90), "no answer"
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        assert len(_servers_on(port)) == 1  # the server is a process of its own
        yield proc, port
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pid in _servers_on(port):  # never leave one behind, even when a test fails
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_a_stop_signal_stops_the_server_and_frees_the_port(served, sig: signal.Signals) -> None:
    proc, port = served
    proc.send_signal(sig)
    assert proc.wait(timeout=10) == 0  # stopped as asked
    assert _until(lambda: not _servers_on(port), 5), f"server left: {_servers_on(port)}"
    assert _until(lambda: _can_bind(port), 5)
    assert proc.stderr is not None
    err = proc.stderr.read().decode()
    assert f"{sig.name}: stopping the dashboard" in err
    assert "Traceback" not in err


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_killed_command_takes_its_server_with_it(served) -> None:
    proc, port = served
    proc.kill()  # SIGKILL: the command cannot pass anything on
    proc.wait(timeout=10)
    assert _until(lambda: not _servers_on(port), 5), f"server left: {_servers_on(port)}"
    assert _until(lambda: _can_bind(port), 5)
