"""Who may see what: logins, scopes, scoped serving snapshots, pseudonyms, audit.

  settings.py    the `[access]` section of tierlens.toml: identities -> scopes
  scopes.py      a scope (`admin`, `partner:<name>`, `client:<name>`)
  auth.py        whether Streamlit's `[auth]` (OpenID Connect) is configured
  pseudonyms.py  agent names as a stable keyed hash (HMAC-SHA256, key outside the db)
  snapshot.py    a serving snapshot holding only one scope's rows
  audit.py       the append-only access log (journal, then meta.access_log)

See docs/deployment.md.
"""
