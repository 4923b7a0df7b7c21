"""[access]: which identity gets which scope (generated identities and grants)."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st
from pydantic import ValidationError

from pipelines.access.scopes import Scope
from pipelines.access.settings import Access

names = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1).filter(
    lambda s: s.strip() != ""
)
scopes = st.one_of(
    st.just(Scope("admin")),
    st.builds(Scope, st.sampled_from(["partner", "client"]), names.map(str.strip)),
)
local = st.from_regex(r"[a-z0-9._-]{1,12}", fullmatch=True)
domain = st.from_regex(r"[a-z0-9-]{1,10}\.(example|test)", fullmatch=True)
emails = st.builds(lambda u, d: f"{u}@{d}", local, domain)


@given(scopes)
def test_a_scope_reads_back_as_itself(scope: Scope):
    assert Scope.parse(str(scope)) == scope


@given(st.text())
def test_a_scope_text_is_a_scope_or_a_clear_error(text: str):
    try:
        scope = Scope.parse(text)
    except ValueError as exc:
        assert "scope" in str(exc)
    else:
        assert str(scope) == text.strip() or scope.kind != "admin"


@given(
    users=st.dictionaries(emails, scopes, max_size=4),
    domains=st.dictionaries(domain, scopes, max_size=3),
    groups=st.dictionaries(names, scopes, max_size=4),
    email=emails,
    member_of=st.lists(names, max_size=4),
    verified=st.sampled_from([True, False, None]),
)
def test_a_person_gets_the_most_specific_grant_or_none(
    users, domains, groups, email, member_of, verified
):
    access = Access(
        users={
            **{k: str(v) for k, v in users.items()},
            **{"@" + d: str(v) for d, v in domains.items()},
        },
        groups={k.strip(): str(v) for k, v in groups.items()},
    )
    claims: dict[str, object] = {"email": email.upper(), "groups": member_of, "sub": "x"}
    if verified is not None:
        claims["email_verified"] = verified
    found = access.scope_for(claims)
    trusted = verified is not False
    from_groups = {groups[g] for g in member_of if g in groups and g.strip() == g}
    if trusted and email in users:
        assert found == users[email]
    elif trusted and email.partition("@")[2] in domains:
        assert found == domains[email.partition("@")[2]]
    elif len(from_groups) == 1:
        assert found == from_groups.pop()
    else:
        assert isinstance(found, str)  # refused, with the reason
        if len(from_groups) > 1:
            assert "different scopes" in found


def test_an_unverified_email_grants_nothing():
    access = Access(users={"@acme.example": "partner:Acme"})
    assert access.scope_for({"email": "eve@acme.example", "email_verified": False}) != Scope(
        "partner", "Acme"
    )
    assert access.scope_for({"email": "Eve@Acme.example"}) == Scope("partner", "Acme")


@pytest.mark.parametrize(
    ("users", "problem"),
    [
        ({"a@b.example": "partner"}, "scope 'partner'"),
        ({"a@b.example": "partner:"}, "give the partner's name"),
        ({"a@b.example": "root"}, "use 'admin'"),
        ({" ": "admin"}, "empty identity"),
        ({"A@b.example": "admin", "a@b.example": "client:X"}, "given twice"),
    ],
)
def test_a_bad_grant_is_a_config_error_naming_it(users, problem: str):
    with pytest.raises(ValidationError, match=problem):
        Access(users=users)


def test_scopes_in_use_are_the_granted_ones_but_admin():
    access = Access(
        users={"a@x.example": "admin", "@acme.example": "partner:Acme"},
        groups={"g": "client:Northwind", "h": "partner:Acme"},
    )
    assert access.scopes_in_use() == [Scope("client", "Northwind"), Scope("partner", "Acme")]
