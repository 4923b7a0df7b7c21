"""A real local OpenID Connect provider for the login tests: oidc-provider-mock,
run as its own process on a free port, with predefined users and their claims."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipelines.serve import free_port, stop


@contextmanager
def running_provider(users: list[dict[str, object]], log: Path) -> Iterator[str]:
    """The provider's issuer URL while the block runs."""
    port = free_port()
    args = [sys.executable, "-m", "oidc_provider_mock", "--port", str(port)]
    for claims in users:
        args += ["--user-claims", json.dumps(claims)]
    with log.open("a") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
    issuer = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(
                    f"{issuer}/.well-known/openid-configuration", timeout=2
                ):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the OIDC provider did not start: see {log}") from None
                time.sleep(0.2)
        yield issuer
    finally:
        stop(proc)


def write_secrets(path: Path, issuer: str, app_port: int) -> Path:
    """Streamlit's documented `[auth]` section, pointing at the provider."""
    path.write_text(
        "[auth]\n"
        f'redirect_uri = "http://localhost:{app_port}/oauth2callback"\n'
        'cookie_secret = "tierlens-test-cookie-secret-0123456789"\n'
        'client_id = "tierlens"\n'
        'client_secret = "tierlens-test-secret"\n'
        f'server_metadata_url = "{issuer}/.well-known/openid-configuration"\n',
        encoding="utf-8",
    )
    return path
