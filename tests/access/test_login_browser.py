"""Logins and scopes in a real browser: the real dashboard server behind a real
local OpenID Connect provider (oidc-provider-mock), Chromium driven by Playwright.
Nothing is patched: each person signs in on the provider's own page.

What a person can see is checked on everything the server sends the browser (the
websocket frames: page text, tables, chart data, widget options, including what is
not on screen) as well as on the page itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest

from dashboards.pages import DEFAULT_PAGE, PAGES
from pipelines.access import audit
from pipelines.chromium import CHROMIUM, CHROMIUM_ARGS
from tests.access.conftest import CLIENT, PARTNER, ScopedSample, Served, rows

pytestmark = pytest.mark.browser

SETTLED = """() =>
    document.querySelector('[data-testid="stApp"]') !== null
    && (document.querySelector('[data-testid="stMain"] h1') !== null)
    && !document.querySelector('[data-testid="stStatusWidget"]')
    && !document.querySelector('[data-testid*="Skeleton"]')"""


class Browser:
    """One person's browser: its page and every websocket frame the server sent."""

    def __init__(self, context) -> None:
        self.page = context.new_page()
        self.frames: list[str] = []
        self.page.on("websocket", self._watch)

    def _watch(self, ws) -> None:
        def received(payload: str | bytes) -> None:
            text = payload if isinstance(payload, str) else payload.decode("utf-8", "replace")
            self.frames.append(text)

        ws.on("framereceived", received)

    def visit(self, url: str) -> str:
        """Open `url`, wait until the page settles; everything received meanwhile."""
        self.frames.clear()
        self.page.goto(url)
        self.settle()
        return "\n".join([*self.frames, self.page.content()])

    def settle(self) -> None:
        """Wait until the page is drawn and no frame has arrived for 600 ms.

        The title is drawn before the rest of a script run, so "settled" alone can
        be true between two frames of one run."""
        self.page.wait_for_function(SETTLED, timeout=60_000)
        seen = -1
        while seen != len(self.frames):
            seen = len(self.frames)
            self.page.wait_for_timeout(600)
            self.page.wait_for_function(SETTLED, timeout=60_000)

    def shows(self, text: str) -> str:
        """The page's visible text, once it contains `text` (fails after 30 s)."""
        self.page.get_by_text(text).first.wait_for(timeout=30_000)
        return self.page.inner_text("body")


@pytest.fixture(scope="module")
def chromium(served: Served):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def person(chromium) -> Iterator[Browser]:
    context = chromium.new_context(viewport={"width": 1440, "height": 1600})
    yield Browser(context)
    context.close()


def sign_in(who: Browser, served: Served, sub: str) -> str:
    """Sign in on the provider's page as `sub`; the first page's content."""
    who.visit(served.url + "/")
    who.page.get_by_role("button", name="Sign in").click()
    who.page.wait_for_url(re.compile(re.escape(served.issuer) + ".*"))
    who.page.fill("input[name=sub]", sub)
    who.page.get_by_role("button", name="Authorize").click()
    who.page.wait_for_url(re.compile(re.escape(served.url) + ".*"))
    who.page.wait_for_function(SETTLED, timeout=60_000)
    return who.visit(served.url + "/")


def _page_url(served: Served, key: str, **query: str) -> str:
    path = "" if key == DEFAULT_PAGE else key
    return f"{served.url}/{path}" + (f"?{urlencode(query)}" if query else "")


def _no_error(text: str) -> None:
    assert "Traceback" not in text and "StreamlitAPIException" not in text


# ----------------------------------------------------------------- what exists


@pytest.fixture(scope="module")
def names(scoped_sample: ScopedSample) -> dict[str, object]:
    """Each partner's ticket ids, clients, agents and groups seen only on its tickets."""
    full = scoped_sample.full
    partners = [r[0] for r in rows(full, "select distinct partner from analytics.fct_tickets")]
    found: dict[str, object] = {"partners": sorted(partners)}
    for partner in partners:
        only = (
            "select distinct {col} from {table} join analytics.fct_tickets using (ticket_id) "
            "where {col} is not null group by all having bool_and(partner = $p)"
        )
        found[partner] = {
            "tickets": [
                r[0]
                for r in rows_p(
                    full,
                    "select ticket_id from analytics.fct_tickets where "
                    "partner = $p order by ticket_id limit 3",
                    partner,
                )
            ],
            "clients": [
                r[0]
                for r in rows_p(
                    full,
                    "select client from analytics.fct_tickets where "
                    "client is not null group by 1 having bool_and(partner = $p)",
                    partner,
                )
            ],
            "agents": [
                r[0]
                for r in rows_p(
                    full,
                    only.format(col="held_agent", table="analytics.ticket_events").replace(
                        "select distinct held_agent", "select held_agent"
                    ),
                    partner,
                )
            ],
        }
    return found


def rows_p(path, sql: str, partner: str) -> list[tuple[object, ...]]:
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, {"p": partner}).fetchall()
    finally:
        con.close()


def _secrets_of(names: dict[str, object], partner: str) -> set[str]:
    own = names[partner]
    assert isinstance(own, dict)
    return {partner, *own["tickets"], *own["clients"], *own["agents"]}


# ----------------------------------------------------------------- the tests


def test_a_visitor_who_has_not_signed_in_sees_only_the_sign_in(
    served: Served, person: Browser, names
):
    everything = set().union(*(_secrets_of(names, p) for p in names["partners"]))
    for key in PAGES:
        text = person.visit(_page_url(served, key))
        assert "Sign in" in person.shows("Sign in")
        leaked = sorted(s for s in everything if s in text)
        assert not leaked, f"/{key} before sign-in sent {leaked[:5]}"
        _no_error(text)


def test_a_partner_sees_its_own_desk_and_nothing_of_the_others(
    served: Served, person: Browser, names
):
    text = sign_in(person, served, "alice")
    assert f"partner:{PARTNER}" in person.shows(f"partner:{PARTNER}")
    assert PARTNER in text
    others = [p for p in names["partners"] if p != PARTNER]
    for named in others:  # links that name another partner, its client and tickets
        own = names[named]
        query = {
            "partner": named,
            "client": own["clients"][0],
            "ticket": own["tickets"][0],
            "agent": own["agents"][0],
        }
        forbidden = set().union(*(_secrets_of(names, p) for p in others)) - set(query.values())
        for key in PAGES:
            text = person.visit(_page_url(served, key, **query))
            leaked = sorted(s for s in forbidden if s in text)
            assert not leaked, f"/{key}?{urlencode(query)} sent {leaked[:5]} to {PARTNER}"
            _no_error(text)
    # the other partners' tickets by their own address: not found
    for named in others:
        ticket = names[named]["tickets"][0]
        person.visit(_page_url(served, "timeline", ticket=ticket))
        assert "No ticket id contains" in person.shows("No ticket id contains")


def test_a_partner_compares_itself_with_peers_it_cannot_name(
    served: Served, person: Browser, names
):
    sign_in(person, served, "alice")
    text = person.visit(_page_url(served, "partners"))
    body = person.shows(PARTNER)
    assert re.search(r"other partners", body, re.I), body[:2000]
    for named in names["partners"]:
        if named != PARTNER:
            assert named not in text


def test_a_client_sees_its_tickets_with_agents_under_pseudonyms(
    served: Served, person: Browser, names
):
    text = sign_in(person, served, "carol")
    assert f"client:{CLIENT}" in person.shows(f"client:{CLIENT}")
    agents = set().union(*(set(names[p]["agents"]) for p in names["partners"]))
    other_clients = set().union(*(set(names[p]["clients"]) for p in names["partners"])) - {CLIENT}
    for key in PAGES:
        text = person.visit(_page_url(served, key))
        leaked = sorted(s for s in agents | other_clients if s in text)
        assert not leaked, f"/{key} sent {leaked[:5]} to client {CLIENT}"
        _no_error(text)
    text = person.visit(_page_url(served, "agents"))
    assert re.search(r"Agent [0-9A-F]{10}", text)


@pytest.mark.parametrize("sub", ["mallory", "eve"])
def test_a_person_with_no_scope_is_refused(served: Served, person: Browser, names, sub: str):
    text = sign_in(person, served, sub)
    assert "no access" in person.shows("no access")
    for partner in names["partners"]:
        assert partner not in text
    for key in ("scorecard", "partners", "timeline"):  # the rest: as for a visitor
        text = person.visit(_page_url(served, key))
        assert not [p for p in names["partners"] if p in text]


def test_an_admin_sees_every_partner(served: Served, person: Browser, names):
    sign_in(person, served, "root")
    text = person.visit(_page_url(served, "partners"))
    for partner in names["partners"]:
        assert partner in text
    log = person.visit(_page_url(served, "access"))
    assert "alice@acme.example" in log


def test_every_sign_in_is_in_the_access_log(scoped_sample: ScopedSample):
    """Runs after the sign-ins above: each is in the log, with its scope or refusal."""
    journal = audit.read_journal(audit.journal_path(scoped_sample.db))
    stored = rows(scoped_sample.db, "select identity, event, scope, detail from meta.access_log")
    assert journal.height == len(stored)  # the database was free: every event stored
    events = {(identity, event, scope) for identity, event, scope, _ in stored}
    assert ("alice@acme.example", "signed_in", f"partner:{PARTNER}") in events
    assert ("carol@northwind.example", "signed_in", f"client:{CLIENT}") in events
    assert ("lead@msp.example", "signed_in", "admin") in events
    assert ("mallory@elsewhere.example", "denied", None) in events
    assert ("eve@acme.example", "denied", None) in events
