"""The `[access]` section of tierlens.toml: which identity gets which scope.

    [access]
    group_claim = "groups"                  # the ID-token claim holding groups
    peer_comparison = "distribution"        # or "none"
    client_agent_names = "pseudonymised"    # or "shown"
    pseudonym_key_file = "/etc/tierlens/pseudonym.key"

    [access.users]                          # an email, or "@domain" for a whole domain
    "lead@msp.example" = "admin"
    "@acme.example" = "partner:Acme"

    [access.groups]                         # a value of the group claim
    "initech-it" = "client:Initech"

A person's scope: their email's entry, else their domain's, else their groups'
entries. Groups that grant different scopes are refused (ask an admin) rather
than guessed; no entry at all is refused too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from pipelines.access.scopes import Scope


def _scope_map(value: dict[str, str], *, lower: bool) -> dict[str, str]:
    out: dict[str, str] = {}
    for identity, scope in value.items():
        key = identity.strip().lower() if lower else identity.strip()
        if not key:
            raise ValueError("an empty identity cannot be granted a scope")
        Scope.parse(scope)  # a ValueError naming the bad scope
        if key in out and out[key] != scope:
            raise ValueError(f"{identity!r} is given twice with different scopes")
        out[key] = scope.strip()
    return out


class Access(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    users: dict[str, str] = Field(default_factory=dict, description="email (or '@domain') -> scope")
    groups: dict[str, str] = Field(default_factory=dict, description="group claim value -> scope")
    group_claim: str = Field("groups", min_length=1)
    peer_comparison: Literal["distribution", "none"] = "distribution"
    client_agent_names: Literal["pseudonymised", "shown"] = "pseudonymised"
    pseudonym_key_file: Path | None = None

    @field_validator("users")
    @classmethod
    def _users(cls, value: dict[str, str]) -> dict[str, str]:
        return _scope_map(value, lower=True)

    @field_validator("groups")
    @classmethod
    def _groups(cls, value: dict[str, str]) -> dict[str, str]:
        return _scope_map(value, lower=False)

    @property
    def has_grants(self) -> bool:
        return bool(self.users or self.groups)

    def scopes_in_use(self) -> list[Scope]:
        """Every scope some identity is granted, admin excluded, sorted."""
        granted = {Scope.parse(s) for s in [*self.users.values(), *self.groups.values()]}
        return sorted(s for s in granted if not s.is_admin)

    def scope_for(self, claims: Mapping[str, object]) -> Scope | str:
        """The scope of the person with these ID-token claims, or why they have none."""
        email = claims.get("email")
        verified = claims.get("email_verified", True) is not False
        if isinstance(email, str) and email.strip() and verified:
            address = email.strip().lower()
            if address in self.users:
                return Scope.parse(self.users[address])
            domain = "@" + address.rpartition("@")[2]
            if "@" in address and domain in self.users:
                return Scope.parse(self.users[domain])
        found = {
            Scope.parse(self.groups[g])
            for g in _groups(claims.get(self.group_claim))
            if g in self.groups
        }
        if len(found) == 1:
            return found.pop()
        if len(found) > 1:
            names = ", ".join(sorted(map(str, found)))
            return f"your groups grant different scopes ({names}); ask an admin to choose one"
        who = email if isinstance(email, str) and email else claims.get("sub", "this account")
        return f"no Tierlens scope is granted to {who}; ask an admin to add you to [access]"


def _groups(value: object) -> Iterable[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [v for v in value if isinstance(v, str)]
    return []
