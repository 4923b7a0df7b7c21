"""Who is looking: the sign-in gate, the session's scope and its audit entry.

Without Streamlit's `[auth]` secrets the dashboard is a local tool: no login, the
admin scope (`tierlens dashboard` then listens on this machine only). With
`[auth]`, nothing is shown before the person signs in with the OpenID Connect
provider; their scope comes from `[access]` in tierlens.toml
(pipelines.access.settings), and their session reads only that scope's snapshot
(pipelines.access.snapshot). Every sign-in and every refusal is in the access log.
Every string from the provider is shown as text.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from pathlib import Path

import streamlit as st
from streamlit.errors import StreamlitSecretNotFoundError

from pipelines.access import audit
from pipelines.access.scopes import ADMIN, Scope
from pipelines.access.settings import Access
from pipelines.config import Config, ConfigError, load_config
from pipelines.errors import TierlensError

AUDITED_KEY = "_tierlens_audited"


def config_path() -> Path | None:
    """--config after `--` on the streamlit command line (tierlens dashboard passes it)."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--config")
    known, _ = parser.parse_known_args(sys.argv[1:])
    return Path(known.config) if known.config else None


@st.cache_resource(show_spinner=False, max_entries=4)
def _load(path: str | None, mtime: float) -> Config:
    return load_config(path) if path else Config()


def app_config() -> Config:
    """The configuration the server was started with (re-read when the file changes)."""
    path = config_path()
    mtime = path.stat().st_mtime if path and path.exists() else 0.0
    return _load(str(path) if path else None, mtime)


def providers() -> list[str | None] | None:
    """The sign-in providers of Streamlit's `[auth]` secrets; None: logins are off."""
    try:
        section = st.secrets.get("auth", None)
    except StreamlitSecretNotFoundError:
        return None
    if section is None:
        return None
    if "client_id" in section:
        return [None]
    return sorted(name for name in section if hasattr(section[name], "keys"))


def _identity(claims: Mapping[str, object]) -> str:
    for claim in ("email", "preferred_username", "sub"):
        value = claims.get(claim)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return "(no identity claim)"


def _audit_once(db_path: Path, claims: Mapping[str, object], scope: Scope | str) -> None:
    """One access-log entry per session: its sign-in, or its refusal."""
    if st.session_state.get(AUDITED_KEY):
        return
    granted = isinstance(scope, Scope)
    event = audit.AccessEvent(
        event="signed_in" if granted else "denied",
        identity=_identity(claims),
        subject=str(claims.get("sub") or "") or None,
        issuer=str(claims.get("iss") or "") or None,
        scope=str(scope) if granted else None,
        detail=None if granted else str(scope),
    )
    try:
        audit.record(db_path, event)
    except (OSError, TierlensError) as exc:
        # no access without its log entry: the journal could not be written
        st.error("Tierlens cannot write its access log, so it shows nothing.")
        st.text(str(exc))
        st.stop()
    st.session_state[AUDITED_KEY] = True


def _sign_in(choices: list[str | None]) -> None:
    st.title("Tierlens")
    st.write("Sign in to see your service desk's escalation figures.")
    for provider in choices:
        label = "Sign in" if provider is None else f"Sign in with {provider}"
        if st.button(label, key=f"login_{provider}", type="primary"):
            st.login() if provider is None else st.login(provider)
    st.stop()


def session_scope(db_path: Path) -> tuple[Scope, Access]:
    """The scope this session may see; stops the script at the sign-in page, or
    at a refusal, when it may see nothing."""
    try:
        access = app_config().access
    except ConfigError as exc:
        st.error("The server's configuration is invalid; nothing is shown.")
        st.text(str(exc))
        st.stop()
    choices = providers()
    if choices is None:
        if access.has_grants:  # scopes without a login would show everything to anyone
            st.error(
                "tierlens.toml grants scopes in [access], but no login is configured "
                "([auth] in .streamlit/secrets.toml): nothing is shown."
            )
            st.stop()
        return ADMIN, access
    if not st.user.is_logged_in:
        _sign_in(choices)
    claims = st.user.to_dict()
    scope = access.scope_for(claims)
    _audit_once(db_path, claims, scope)
    if isinstance(scope, str):
        st.title("Tierlens")
        st.warning("You are signed in, but you have no access to Tierlens.")
        st.text(f"Signed in as {_identity(claims)}: {scope}.")
        st.button("Sign out", on_click=st.logout)
        st.stop()
    st.sidebar.text(f"Signed in as {_identity(claims)}\nScope: {scope}")
    st.sidebar.button("Sign out", key="sign_out", on_click=st.logout)
    return scope, access
