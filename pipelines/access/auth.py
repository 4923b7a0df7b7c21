"""Whether logins are configured: Streamlit's `[auth]` section (OpenID Connect).

Streamlit reads `[auth]` from its secrets files: `.streamlit/secrets.toml` in the
working directory and in the home directory, or the file given to `tierlens
dashboard --secrets`. Tierlens reads the same files to decide, before the server
starts, whether the dashboard may listen beyond this machine. A provider is either
the section itself (`client_id`, `client_secret`, `server_metadata_url` beside
`redirect_uri` and `cookie_secret`) or one or more named subsections
(`[auth.microsoft]`), each with its own three keys.
"""

from __future__ import annotations

import ipaddress
import socket
import tomllib
from dataclasses import dataclass
from pathlib import Path

from pipelines.errors import TierlensError

SHARED_KEYS = ("redirect_uri", "cookie_secret")
PROVIDER_KEYS = ("client_id", "client_secret", "server_metadata_url")


@dataclass(frozen=True)
class AuthSettings:
    path: Path
    providers: tuple[str | None, ...]  # None: the section itself is the provider


def default_secrets_files() -> list[Path]:
    """Where Streamlit looks when no file is given (later files win)."""
    return [Path.home() / ".streamlit" / "secrets.toml", Path(".streamlit") / "secrets.toml"]


def find_auth(secrets: Path | None) -> AuthSettings | None:
    """The `[auth]` settings Streamlit will use, or None when logins are not
    configured; a TierlensError when the section is there but incomplete."""
    candidates = [secrets] if secrets is not None else default_secrets_files()
    if secrets is not None and not secrets.is_file():
        raise TierlensError(f"--secrets {secrets}: no such file")
    found: tuple[Path, dict[str, object]] | None = None
    for path in candidates:
        if not path.is_file():
            continue
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise TierlensError(f"{path}: cannot read the secrets file ({exc})") from None
        section = data.get("auth")
        if isinstance(section, dict):
            found = (path, section)
    if found is None:
        return None
    path, section = found
    return AuthSettings(path, _providers(path, section))


def _providers(path: Path, section: dict[str, object]) -> tuple[str | None, ...]:
    missing = [k for k in SHARED_KEYS if not section.get(k)]
    if missing:
        raise TierlensError(f"{path}: [auth] needs {', '.join(missing)} (docs/deployment.md)")
    if any(k in section for k in PROVIDER_KEYS):
        _complete(path, "[auth]", section)
        return (None,)
    named = {k: v for k, v in section.items() if isinstance(v, dict)}
    if not named:
        raise TierlensError(
            f"{path}: [auth] names no provider: give client_id, client_secret and "
            "server_metadata_url (docs/deployment.md)"
        )
    for name, provider in named.items():
        _complete(path, f"[auth.{name}]", provider)
    return tuple(sorted(named))


def _complete(path: Path, where: str, provider: dict[str, object]) -> None:
    missing = [k for k in PROVIDER_KEYS if not provider.get(k)]
    if missing:
        raise TierlensError(f"{path}: {where} needs {', '.join(missing)} (docs/deployment.md)")


def is_loopback(address: str) -> bool:
    """Whether `address` (an IP address or a host name) reaches only this machine."""
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(address, None)
    except (OSError, UnicodeError):
        raise TierlensError(
            f"--address {address}: not an IP address or a known host name"
        ) from None
    return bool(infos) and all(
        ipaddress.ip_address(str(info[4][0]).split("%")[0]).is_loopback for info in infos
    )
