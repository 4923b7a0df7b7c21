"""`tierlens access`: the pseudonym key, who gets which scope, and the access log."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from pipelines.access import audit
from pipelines.access.pseudonyms import new_key
from pipelines.access.scopes import Scope
from pipelines.access.settings import Access
from pipelines.db import connect, require_database


def write_key(path: Path, console: Console) -> None:
    new_key(path)
    console.print(
        f"wrote a new pseudonym key to {path} (readable by you only). Keep it outside the "
        "database and its backups; set [access] pseudonym_key_file to it.",
        markup=False,
        highlight=False,
    )


def explain_scope(access: Access, email: str | None, groups: list[str], console: Console) -> bool:
    """Print the scope these claims get (or why none); True when they get one."""
    claims: dict[str, object] = {access.group_claim: groups}
    if email:
        claims["email"] = email
    found = access.scope_for(claims)
    if isinstance(found, Scope):
        console.print(f"scope: {found}", markup=False, highlight=False)
        return True
    console.print(f"no scope: {found}", markup=False, highlight=False)
    return False


def print_log(db: Path, console: Console, limit: int) -> None:
    """The access log, newest first: the database's and the journal's entries."""
    con = connect(require_database(db), read_only=True)
    try:
        stored = audit.stored(con)  # a database made before the log: none yet
    finally:
        con.close()
    log = audit.merged(stored, db).head(limit)
    table = Table("when (UTC)", "event", "identity", "scope", "why refused")
    if log.is_empty():
        console.print("nobody has signed in yet")
        return
    for row in log.iter_rows(named=True):  # printing at most `limit` lines
        table.add_row(  # Text: an identity from the provider is not markup
            f"{row['occurred_at']:%Y-%m-%d %H:%M:%S}",
            Text(row["event"]),
            Text(row["identity"]),
            Text(row["scope"] or ""),
            Text(row["detail"] or ""),
        )
    console.print(table)
