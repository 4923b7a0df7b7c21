"""Nobody injects anything (issue 16): a database whose every text field carries
Markdown, HTML and Streamlit payloads (tests/dashboard/payloads.py), every
dashboard page in Debian's Chromium with payloads in the address too, and the HTML
report. The payloads read as text, and nothing was made of them: no link, image,
script, bold, colour, icon, maths, heading or table.

Needs /usr/bin/chromium, like test_browser.py (skipped without it unless
TIERLENS_REQUIRE_BROWSER=1).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import chdir
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import duckdb
import pytest

from dashboards.pages import DEFAULT_PAGE, PAGES
from pipelines.chromium import CHROMIUM, CHROMIUM_ARGS
from pipelines.presentation.safe_text import WORD_JOINER
from pipelines.report.build import write_report
from pipelines.serve import running_dashboard
from pipelines.serving import read_pointer
from tests.cli_run import tierlens

from .payloads import FILE_TAG, PAYLOADS, add_review, build_payload_sample, tag
from .test_browser import SETTLED, _require_browser, _select_first_row
from .test_report import ALL_DRAWN

pytestmark = pytest.mark.browser

N_TICKETS = 300
SEED = 5
# The most frequent category: its payload is an entity, to be read as written.
ENTITY_CATEGORY = "&lt;b&gt; password reset"
# Typed into the address only: in no ticket id, shown in the "no ticket" warning.
URL_TICKET = "[Session expired - log in again](https://evil.example/login) **now** :red[x]"

# What a payload turns into when it is read as markup: anything found here failed.
MADE_FROM_PAYLOADS = """() => {
  const words = new Set(['bold', 'html', 'link', 'js', 'img', 'a', 'red', 'home',
                         'code', 'em', 'del', 'it', 'x', 'now']);
  const text = e => (e.textContent || '').trim();
  const out = [];
  for (const a of document.querySelectorAll('a')) {
    const href = a.getAttribute('href') || a.getAttribute('xlink:href') || '';
    // a scorecard tile's own link to the tickets page: the payload is a percent-
    // encoded value of its query string, so the link cannot go anywhere else
    if (a.classList.contains('tl-cover') && /^tickets\\?[^:]*$/.test(href)) continue;
    if (/evil\\.example|^\\s*javascript:|^mailto:/i.test(href) || words.has(text(a)))
      out.push('link ' + href + ' ' + text(a));
  }
  for (const i of document.querySelectorAll('img, image')) {
    const src = i.getAttribute('src') || i.getAttribute('href') || '';
    if (src === 'x' || /evil\\.example/.test(src)) out.push('image ' + src);
  }
  const styled = 'strong, b, em, i, del, s, code, li, blockquote, '
    + '.stMarkdownColoredText, .stMarkdownBadge, .stMarkdownColoredBackground';
  for (const e of document.querySelectorAll(styled))
    if (words.has(text(e))) out.push('styled ' + e.tagName + ' ' + text(e));
  for (const h of document.querySelectorAll('h1, h2, h3, h4, h5, h6'))
    if (text(h).startsWith('heading')) out.push('heading ' + text(h));
  for (const e of document.querySelectorAll('[role=img], [data-testid=stIconMaterial]'))
    if (text(e) === 'home') out.push('icon ' + text(e));
  for (const t of document.querySelectorAll('svg tspan, svg text')) {
    const style = t.getAttribute('style') || '';
    if (/font-weight: ?bold|font-style: ?italic/.test(style) && words.has(text(t)))
      out.push('chart markup ' + text(t));
  }
  if (document.querySelector('.katex, mjx-container')) out.push('maths');
  if (document.querySelector('[data-testid="stMarkdownContainer"] table')) out.push('table');
  if ([...document.querySelectorAll('script')].some(s => s.textContent.trim() ===
                                                      'window.__pwned=1'))
    out.push('script element');
  if (document.body.innerText.includes('\\u{1F604}')) out.push('emoji');
  if (window.__pwned !== undefined) out.push('script ran');
  return out;
}"""


def visible(page: Any, selector: str = "body") -> str:
    """The text a reader sees in `selector` (word joiners are invisible)."""
    return str(page.locator(selector).first.inner_text()).replace(WORD_JOINER, "")


def in_grids(page: Any, *wanted: str) -> None:
    """Wait until the page's data grids (their accessible tables, filled in after
    each grid draws) hold every one of `wanted`."""
    page.wait_for_function(
        """wanted => {
            const grids = [...document.querySelectorAll('[data-testid="stDataFrame"]')];
            const text = grids.map(g => g.textContent).join('\\n');
            return wanted.every(w => text.includes(w));
        }""",
        arg=list(wanted),
        timeout=30_000,
    )


def drawn(page: Any, selector: str, wanted: list[str], *, every: bool = True) -> None:
    """Wait until the elements of `selector` (a chart's labels: charts draw after the
    script has finished) read every one of `wanted` (or one, every=False), as written."""
    page.wait_for_function(
        """([selector, wanted, every]) => {
            const shown = new Set([...document.querySelectorAll(selector)]
                .map(e => e.textContent.replaceAll('\u2060', '')));
            return every ? wanted.every(w => shown.has(w)) : wanted.some(w => shown.has(w));
        }""",
        arg=[selector, wanted, every],
        timeout=30_000,
    )


def texts(page: Any, selector: str) -> list[str]:
    found = page.eval_on_selector_all(selector, "els => els.map(e => e.textContent)")
    return [t.replace(WORD_JOINER, "") for t in found]


def assert_inert(page: Any, where: str) -> None:
    made = page.evaluate(MADE_FROM_PAYLOADS)
    assert made == [], f"{where}: {made}"


@pytest.fixture(scope="module")
def payload_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _require_browser()
    db = build_payload_sample(tmp_path_factory.mktemp("payloads"), N_TICKETS, SEED)
    add_review(db)
    return db


@pytest.fixture(scope="module")
def facts(payload_db: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to the published snapshot, for the expected values."""
    pointer = read_pointer(payload_db)
    assert pointer is not None
    con = duckdb.connect(str(pointer.snapshot), read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="module")
def chromium(payload_db: Path) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def new_page(chromium: Any) -> tuple[Any, list[str]]:
    """A page, and what went wrong in it: the errors its scripts raise, and every
    request for a payload's address or its image `x` (no request may leave for
    them; the sandbox has no network, so a failed request is not enough)."""
    page = chromium.new_page(viewport={"width": 1440, "height": 1800})
    wrong: list[str] = []
    page.on("pageerror", lambda e: wrong.append(f"script error: {e}"))
    page.on("request", lambda r: wrong.append(f"request: {r.url}") if _payload(r.url) else None)
    return page, wrong


def _payload(url: str) -> bool:
    """Is `url` a payload's address, or the image `x` relative to a page?"""
    parts = urlsplit(url)
    return (parts.hostname or "").endswith("evil.example") or parts.path.endswith("/x")


@pytest.fixture(scope="module")
def payload_page(
    payload_db: Path, chromium: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Any, str, list[str]]]:
    """(page, url, errors): Chromium on the dashboard serving the payload database."""
    log = tmp_path_factory.mktemp("streamlit") / "payloads.log"
    with running_dashboard(payload_db, log) as served:
        page, errors = new_page(chromium)
        yield page, served.url, errors
        page.close()


def _open(page: Any, url: str, key: str, **query: str) -> None:
    path = "" if key == DEFAULT_PAGE else key
    page.goto(f"{url}/{path}" + (f"?{urlencode(query)}" if query else ""))
    page.wait_for_function(SETTLED, timeout=60_000, polling=100)
    page.wait_for_timeout(300)  # charts draw after the script ends
    raised = page.locator('[data-testid="stException"]')
    assert raised.count() == 0, f"{key}: {raised.first.inner_text()}"


def _one(con: duckdb.DuckDBPyConnection, sql: str, *params: object) -> Any:
    row = con.execute(sql, list(params)).fetchone()
    assert row is not None, sql
    return row[0] if len(row) == 1 else row


def _partners(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The sample's four partners, each with a payload ('default' holds events whose
    ticket row was rejected)."""
    sql = "select distinct partner from analytics.fct_tickets where partner <> 'default'"
    return sorted(r[0] for r in con.execute(sql).fetchall())


def test_every_page_shows_the_payloads_as_text(payload_page, facts):
    page, url, errors = payload_page
    partners = _partners(facts)
    assert len(partners) == 4 and all(any(p.endswith(x) for x in PAYLOADS) for p in partners)
    partner = partners[0]  # "Acme ![img](https://evil.example/x.png)"
    ticket, category, client, ticket_partner = _one(
        facts,
        "select ticket_id, category, client, partner from analytics.fct_tickets "
        "where n_escalations > 0 and category like '# heading%' "
        "order by ticket_id limit 1",
    )
    visited = set()

    _open(page, url, "scorecard", partner=partner)
    assert f"partner {partner}" in visible(page, '[data-testid="stMain"]')
    assert_inert(page, "scorecard")
    _open(page, url, "scorecard", partner=URL_TICKET)  # a partner no sidebar option has
    assert f"“{URL_TICKET}” matches no partner" in visible(page)  # the link's note
    visited.add("scorecard")
    assert_inert(page, "scorecard, an unknown partner in the address")

    _open(page, url, "trends")
    page.get_by_role("combobox", name="Split by").click()
    page.get_by_role("option", name="Partner", exact=True).click()
    drawn(page, "svg .legendtext", partners)
    assert_inert(page, "trends, split by partner")
    page.get_by_role("combobox", name="Split by").click()
    page.get_by_role("option", name="Category", exact=True).click()
    drawn(page, "svg .legendtext", [ENTITY_CATEGORY])  # an entity reads as the entity
    visited.add("trends")
    assert_inert(page, "trends, split by category")

    _open(page, url, "partners")
    drawn(page, "svg .xtick text", partners)  # the chart's categories
    in_grids(page, *partners)  # the overview's column names
    assert_inert(page, "partners")
    _open(page, url, "partners", partner=partner)
    assert f"Only one partner ({partner})" in visible(page, '[data-testid="stMain"]')
    visited.add("partners")
    assert_inert(page, "partners, one partner")

    _open(page, url, "flow", partner=partner)
    assert f"Partner {partner}." in visible(page, '[data-testid="stMain"]')
    pairs = facts.execute(
        "select distinct group_a, group_b from analytics.pingpong_pairs"
    ).fetchall()
    drawn(page, "svg .ytick text", [f"{a} → {b} → {a}" for a, b in pairs], every=False)
    visited.add("flow")
    assert_inert(page, "flow")

    _open(page, url, "agents")
    _select_first_row(page, 0)  # the agent with most escalations
    page.wait_for_function(
        "() => [...document.querySelectorAll('h3')].some(h => h.textContent.startsWith("
        "'Escalations by '))",
        timeout=60_000,
    )
    heading = next(t for t in texts(page, "h3") if t.startswith("Escalations by "))
    agent = heading.removeprefix("Escalations by ")
    assert _one(
        facts, "select count(*) from analytics.fct_escalations where escalating_agent = ?", agent
    )
    assert any(agent.endswith(p) for p in PAYLOADS), agent
    visited.add("agents")
    assert_inert(page, "agents, one agent's escalations")

    _open(page, url, "timeline", ticket=ticket)
    main = visible(page, '[data-testid="stMain"]')
    assert f"{ticket} · {ticket_partner} · {client}" in texts(page, "h3")
    assert category in main  # the caption starts with it, and it is no heading
    groups = {
        r[0]
        for r in facts.execute(
            "select held_group from analytics.ticket_events where ticket_id = ?", [ticket]
        ).fetchall()
    }
    drawn(page, "svg .ytick text", sorted(groups), every=False)
    assert_inert(page, f"timeline of {ticket}")
    entity_ticket = _one(
        facts,
        "select min(ticket_id) from analytics.fct_tickets where category = ?",
        ENTITY_CATEGORY,
    )
    _open(page, url, "timeline", ticket=entity_ticket)
    assert ENTITY_CATEGORY in visible(page, '[data-testid="stMain"]')
    assert_inert(page, f"timeline of {entity_ticket}")
    _open(page, url, "timeline", ticket="**bold**")  # part of many ids: "Did you mean"
    chosen = page.get_by_role("combobox", name="Did you mean").input_value()
    assert chosen.endswith(" **bold**") and chosen in texts(page, "h3")[0]
    assert_inert(page, "timeline, a part of ticket ids in the address")
    _open(page, url, "timeline", ticket=URL_TICKET)
    assert f"No ticket id contains “{URL_TICKET}”" in visible(page, '[data-testid="stMain"]')
    visited.add("timeline")
    assert_inert(page, "timeline, a payload in the address")

    _open(page, url, "review")
    heading = texts(page, "h3")[0]
    escalation = heading.split(" · ")[0]
    esc_partner, esc_category, from_group, agent = _one(
        facts,
        "select t.partner, t.category, e.from_group, e.escalating_agent "
        "from analytics.fct_escalations e join analytics.fct_tickets t using (ticket_id) "
        "where e.escalation_id = ?",
        escalation,
    )
    assert heading == f"{escalation} · {esc_partner} · {esc_category}"
    caption = visible(page, '[data-testid="stMain"]')
    assert from_group in caption and f"escalated by {agent}" in caption
    page.get_by_role("tab", name="Findings").click()
    page.get_by_role("tab", name="Action list").click()
    in_grids(page, tag("Article", 6), tag("Access to", 7))  # the verdicts' own words
    visited.add("review")
    assert_inert(page, "review")

    _open(page, url, "quality", partner=partner)
    in_grids(page, f"sample/tickets {FILE_TAG}.csv")  # the batches' file names
    visited.add("quality")
    assert_inert(page, "quality")

    for key in PAGES.keys() - visited:  # the access log, the tickets behind a number
        _open(page, url, key, partner=partner)
        assert_inert(page, key)
    assert errors == []


def test_the_report_shows_the_payloads_as_text(
    payload_db: Path, chromium: Any, tmp_path: Path, facts
):
    partners = _partners(facts)
    out = tmp_path / "week.html"
    write_report(payload_db, None, out=out)
    page, errors = new_page(chromium)
    page.goto(out.as_uri())
    page.wait_for_function(ALL_DRAWN, timeout=60_000)
    assert_inert(page, "report")
    partners_section = visible(page, "#partners")
    assert all(p in partners_section for p in partners)
    drawn(page, "#partners svg .xtick text", partners)
    actions = visible(page, "#actions")
    assert tag("Article", 6) in actions and tag("Access to", 7) in actions
    assert tag("Reviewer", 0) in visible(page, "#review")
    assert errors == []
    page.close()


def test_a_partners_report_shows_its_name_and_clients_as_text(
    payload_db: Path, chromium: Any, tmp_path: Path, facts
):
    partner, clients = _one(
        facts,
        "select partner, list(distinct client order by client) from analytics.fct_tickets "
        "where partner like 'Globex%' group by partner",
    )
    with chdir(tmp_path):  # the default file name, from the partner's name
        result = write_report(payload_db, None, partner=partner)
    assert result.path.parent == Path("reports") and "/" not in result.path.name
    assert result.path.name.startswith("tierlens-") and "Globex" in result.path.name
    # the same page printed (another process: this one's Playwright is busy)
    run = tierlens(
        "report",
        "--db",
        payload_db,
        "--partner",
        partner,
        "--format",
        "pdf",
        cwd=tmp_path,
        timeout=180,
    )
    assert run.code == 0, run.describe()
    pdf = result.path.with_suffix(".pdf")
    assert (tmp_path / pdf).read_bytes()[:5] == b"%PDF-"
    assert {p.name for p in (tmp_path / "reports").iterdir()} == {result.path.name, pdf.name}
    page, errors = new_page(chromium)
    page.goto((tmp_path / result.path).as_uri())
    page.wait_for_function(ALL_DRAWN, timeout=60_000)
    assert_inert(page, "a partner's report")
    assert partner in visible(page, "h1")
    clients_table = visible(page, "#partners")
    assert all(c in clients_table for c in clients if c is not None)
    assert errors == []
    page.close()
