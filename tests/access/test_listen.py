"""`tierlens dashboard` listens on this machine only unless told otherwise, and
refuses to serve beyond it with no login. Checked on the listening socket itself
(the kernel's table of listening TCP sockets)."""

from __future__ import annotations

import ipaddress
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from pipelines.serve import free_port, stop
from tests.cli_run import BASE_ENV, tierlens
from tests.dashboard.conftest import build_sample

LISTEN = "0A"


def listening_addresses(port: int) -> set[str]:
    """The local addresses with a socket listening on `port` (from /proc/net/tcp*)."""
    found: set[str] = set()
    for name, size in (("tcp", 4), ("tcp6", 16)):
        for line in Path(f"/proc/net/{name}").read_text().splitlines()[1:]:
            fields = line.split()
            address, port_hex = fields[1].split(":")
            if fields[3] != LISTEN or int(port_hex, 16) != port:
                continue
            raw = bytes.fromhex(address)
            # the kernel prints each 32-bit word in host (little-endian) order
            words = b"".join(raw[i : i + 4][::-1] for i in range(0, size, 4))
            found.add(str(ipaddress.ip_address(words)))
    return found


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_sample(tmp_path_factory.mktemp("listen"), 80, 5)


@contextmanager
def dashboard(db: Path, cwd: Path, *args: str) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """`tierlens dashboard` as a user runs it, until healthy on 127.0.0.1 or exited."""
    port = free_port()
    env = {**os.environ, **BASE_ENV, "HOME": str(cwd)}  # no ~/.streamlit/secrets.toml
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pipelines.cli",
            "dashboard",
            "--db",
            str(db),
            "--port",
            str(port),
            *args,
        ],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 90
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                    break
            except OSError:
                time.sleep(0.3)
        yield port, proc
    finally:
        stop(proc)


def test_by_default_it_listens_on_loopback_only(db: Path, tmp_path: Path):
    with dashboard(db, tmp_path) as (port, proc):
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        addresses = listening_addresses(port)
    assert addresses, "nothing listens on the dashboard's port"
    assert all(ipaddress.ip_address(a).is_loopback for a in addresses), addresses


def test_insecure_listens_everywhere_and_says_so(db: Path, tmp_path: Path):
    with dashboard(db, tmp_path, "--address", "0.0.0.0", "--insecure") as (port, proc):
        addresses = listening_addresses(port)
        assert proc.poll() is None
    err = proc.stderr.read().decode() if proc.stderr else ""
    assert addresses == {"0.0.0.0"}
    assert "--insecure: serving every partner's data on 0.0.0.0 with no login" in err


@pytest.mark.parametrize("address", ["0.0.0.0", "::"])
def test_beyond_loopback_with_no_login_is_refused(db: Path, tmp_path: Path, address: str):
    run = tierlens(
        "dashboard", "--db", db, "--address", address, cwd=tmp_path, env={"HOME": str(tmp_path)}
    )
    assert run.code == 2, run.describe()
    assert f"--address {address}: other machines could reach the dashboard" in run.err
    assert "--insecure" in run.err and "Traceback" not in run.text


def _secrets(folder: Path, body: str) -> Path:
    (folder / ".streamlit").mkdir(exist_ok=True)
    path = folder / ".streamlit" / "secrets.toml"
    path.write_text(body, encoding="utf-8")
    return path


AUTH = (
    '[auth]\nredirect_uri = "https://tierlens.example/oauth2callback"\n'
    'cookie_secret = "0123456789abcdef0123456789abcdef"\nclient_id = "tierlens"\n'
    'client_secret = "s"\n'
    'server_metadata_url = "https://login.example/.well-known/openid-configuration"\n'
)


def test_with_a_login_it_may_listen_beyond_loopback(db: Path, tmp_path: Path):
    _secrets(tmp_path, AUTH)  # the documented place: .streamlit/secrets.toml
    (tmp_path / "tierlens.toml").write_text('[access.users]\n"a@x.example" = "admin"\n')
    with dashboard(db, tmp_path, "--address", "0.0.0.0") as (port, proc):
        addresses = listening_addresses(port)
        assert proc.poll() is None
    assert addresses == {"0.0.0.0"}


@pytest.mark.parametrize(
    ("secrets", "config", "message"),
    [
        # scopes with no login would show everything to anyone
        (None, '[access.users]\n"a@x.example" = "admin"\n', "no login is configured"),
        (AUTH.replace('client_secret = "s"\n', ""), "", "[auth] needs client_secret"),
        ('[auth]\nredirect_uri = "x"\n', "", "[auth] needs cookie_secret"),
        (AUTH.replace("cookie_secret", "cookie"), "", "[auth] needs cookie_secret"),
        ("[auth\n", "", "cannot read the secrets file"),
    ],
)
def test_a_login_half_configured_is_refused(
    db: Path, tmp_path: Path, secrets: str | None, config: str, message: str
):
    if secrets is not None:
        _secrets(tmp_path, secrets)
    (tmp_path / "tierlens.toml").write_text(config)
    run = tierlens("dashboard", "--db", db, cwd=tmp_path, env={"HOME": str(tmp_path)})
    assert run.code == 2, run.describe()
    assert message in run.err and "Traceback" not in run.text


def test_an_address_that_is_not_one_is_refused(db: Path, tmp_path: Path):
    run = tierlens(
        "dashboard",
        "--db",
        db,
        "--address",
        "no such host!",
        cwd=tmp_path,
        env={"HOME": str(tmp_path)},
    )
    assert run.code == 2, run.describe()
    assert "not an IP address or a known host name" in run.err
