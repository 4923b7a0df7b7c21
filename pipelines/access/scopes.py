"""A scope: what one signed-in person may see.

admin            everything
partner:<name>   that partner's tickets, its agents, its clients
client:<name>    that client's tickets (agents under pseudonyms unless allowed)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ScopeKind = Literal["admin", "partner", "client"]


@dataclass(frozen=True, order=True)
class Scope:
    kind: ScopeKind
    name: str = ""

    @classmethod
    def parse(cls, text: str) -> Scope:
        """`admin`, `partner:<name>` or `client:<name>`; a ValueError naming the problem."""
        raw = text.strip()
        if raw == "admin":
            return cls("admin")
        kind, sep, name = raw.partition(":")
        if not sep or kind not in ("partner", "client"):
            raise ValueError(f"scope {text!r}: use 'admin', 'partner:<name>' or 'client:<name>'")
        if not name.strip():
            raise ValueError(f"scope {text!r}: give the {kind}'s name after the colon")
        return cls("partner" if kind == "partner" else "client", name.strip())

    @property
    def is_admin(self) -> bool:
        return self.kind == "admin"

    @property
    def column(self) -> str:
        """The ticket column a scoped snapshot filters on (not for admin)."""
        if self.is_admin:
            raise ValueError("the admin scope filters nothing")
        return self.kind

    def __str__(self) -> str:
        return "admin" if self.is_admin else f"{self.kind}:{self.name}"


ADMIN = Scope("admin")
