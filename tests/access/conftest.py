"""A sample built with [access] scopes, a pseudonym key, a real OIDC provider and
the dashboard behind it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from pipelines.access.pseudonyms import new_key
from pipelines.config import load_config
from pipelines.serve import free_port, running_dashboard
from pipelines.serving import read_pointer
from tests.access.oidc import running_provider, write_secrets
from tests.dashboard.conftest import build_sample

PARTNER = "Acme"
CLIENT = "Northwind"
# Who signs in (the provider's users) and what [access] grants them.
USERS: list[dict[str, object]] = [
    {"sub": "root", "email": "lead@msp.example", "email_verified": True},
    {"sub": "alice", "email": "alice@acme.example", "email_verified": True},
    {"sub": "carol", "email": "carol@northwind.example", "groups": ["northwind-it"]},
    {"sub": "mallory", "email": "mallory@elsewhere.example"},
    # claims an Acme address the provider did not verify: no scope from it
    {"sub": "eve", "email": "eve@acme.example", "email_verified": False},
]
CONFIG = """
[access]
pseudonym_key_file = "KEY_FILE"

[access.users]
"lead@msp.example" = "admin"
"@acme.example" = "partner:Acme"

[access.groups]
"northwind-it" = "client:Northwind"

# rows naming other partners in the config tables: none may reach a scoped view
[partner_targets.Initech]
l1_resolution_rate = { green_min = 0.81 }

[[tier_map]]
pattern = "(?i)globex-special"
tier = "L2"
partner = "Globex"

[calendars.umbrella_hours]
hours = { mon = "08:00-17:00" }

[[calendar_map]]
partner = "Umbrella"
calendar = "umbrella_hours"
"""


@dataclass(frozen=True)
class ScopedSample:
    db: Path
    config: Path
    key: Path
    full: Path  # the full serving snapshot


@pytest.fixture(scope="session")
def scoped_sample(tmp_path_factory: pytest.TempPathFactory) -> ScopedSample:
    folder = tmp_path_factory.mktemp("access")
    key = folder / "pseudonym.key"
    new_key(key)
    config = folder / "tierlens.toml"
    config.write_text(CONFIG.replace("KEY_FILE", key.as_posix()), encoding="utf-8")
    db = build_sample(folder, 600, 11, config=load_config(config))
    pointer = read_pointer(db)
    assert pointer is not None
    return ScopedSample(db, config, key, pointer.snapshot)


def rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@dataclass(frozen=True)
class Served:
    url: str
    issuer: str


@pytest.fixture(scope="module")
def served(
    scoped_sample: ScopedSample, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    from tests.dashboard.test_browser import _require_browser

    _require_browser()
    folder = tmp_path_factory.mktemp("login")
    port = free_port()
    with running_provider(USERS, folder / "oidc.log") as issuer:
        secrets = write_secrets(folder / "secrets.toml", issuer, port)
        with running_dashboard(
            scoped_sample.db,
            folder / "streamlit.log",
            config=scoped_sample.config,
            secrets=secrets,
            port=port,
        ):
            # localhost, as the redirect URI says: the sign-in cookie is for that host
            yield Served(f"http://localhost:{port}", issuer)
