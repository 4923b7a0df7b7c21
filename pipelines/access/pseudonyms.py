"""Agent names as pseudonyms: `Agent 3F2A9C01D4`, the same for the same name in
every view, build and report, and not reversible without the key.

The pseudonym is HMAC-SHA256(key, name), computed in DuckDB (vectorised over the
distinct names). The key is a file outside the database: `[access]
pseudonym_key_file`, or $TIERLENS_PSEUDONYM_KEY_FILE; `tierlens access new-key
FILE` writes one. Whoever holds the database but not the key cannot turn a
pseudonym back into a name, short of guessing names one by one with the key.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

import duckdb

from pipelines.errors import TierlensError

KEY_ENV = "TIERLENS_PSEUDONYM_KEY_FILE"
PREFIX = "Agent "
HEX_DIGITS = 10  # 40 bits: two of 10,000 agents share one with odds of about 1 in 20,000
_BLOCK = 64  # SHA-256's block size, in bytes
MIN_KEY_BYTES = 16


def key_file(configured: Path | None) -> Path | None:
    """$TIERLENS_PSEUDONYM_KEY_FILE, else the configured file."""
    env = os.environ.get(KEY_ENV)
    return Path(env) if env else configured


def read_key(configured: Path | None) -> bytes:
    """The pseudonym key, or a TierlensError saying how to make one."""
    path = key_file(configured)
    if path is None:
        raise TierlensError(
            "client views show agents under pseudonyms, keyed by a secret kept outside "
            "the database: create one with `tierlens access new-key FILE` and set "
            f"[access] pseudonym_key_file (or ${KEY_ENV}); or set [access] "
            'client_agent_names = "shown"'
        )
    try:
        key = path.read_bytes().strip()
    except OSError as exc:
        raise TierlensError(
            f"{path}: cannot read the pseudonym key ({exc.strerror or exc})"
        ) from None
    if len(key) < MIN_KEY_BYTES:
        raise TierlensError(
            f"{path}: the pseudonym key is too short ({len(key)} bytes; at least "
            f"{MIN_KEY_BYTES}); `tierlens access new-key FILE` writes a good one"
        )
    return key


def new_key(path: Path) -> None:
    """Write a random key readable by this user only; never overwrites a key."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise TierlensError(
            f"{path}: already exists; a new key would change every pseudonym (remove the "
            "file first if that is what you want)"
        ) from None
    except OSError as exc:
        raise TierlensError(f"{path}: cannot write the key ({exc.strerror or exc})") from None
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(secrets.token_hex(32) + "\n")


def fingerprint(key: bytes) -> str:
    """Names the key without revealing it (scoped snapshots are rebuilt when it changes)."""
    return hashlib.sha256(b"tierlens-pseudonym-key:" + key).hexdigest()[:16]


def pseudonym_sql(column: str) -> str:
    """SQL for the pseudonym of `column` (varchar), with parameters $ipad and $opad."""
    inner = f"unhex(sha256($ipad || encode({column})))"
    return f"'{PREFIX}' || upper(left(sha256($opad || {inner}), {HEX_DIGITS}))"


def pads(key: bytes) -> dict[str, bytes]:
    """HMAC's inner and outer padded keys (RFC 2104), as query parameters."""
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    padded = key.ljust(_BLOCK, b"\0")
    return {
        "ipad": bytes(b ^ 0x36 for b in padded),
        "opad": bytes(b ^ 0x5C for b in padded),
    }


def pseudonymise(
    con: duckdb.DuckDBPyConnection, columns: dict[str, tuple[str, ...]], key: bytes
) -> None:
    """Replace every name in `columns` (table -> its agent columns) by its pseudonym."""
    names = " union ".join(
        f"select {col} as name from {table} where {col} is not null"
        for table, cols in columns.items()
        for col in cols
    )
    con.execute(
        f"create temp table _pseudonyms as select name, {pseudonym_sql('name')} as alias "
        f"from ({names})",
        pads(key),
    )
    try:
        for table, cols in columns.items():
            for col in cols:
                con.execute(
                    f"update {table} set {col} = _pseudonyms.alias from _pseudonyms "
                    f"where {table}.{col} = _pseudonyms.name"
                )
    finally:
        con.execute("drop table _pseudonyms")
