"""Generate a realistic MSP month of helpdesk tickets and events, with planted KPI truth.

Design (vectorised; no Python loop over tickets or events):

1. Per ticket, numpy draws the attributes (partner, client, category, priority,
   channel, opened_at...) and a *template*: a base path scenario (see
   `scenarios.BASES`) plus independent modifiers (reopen, waits, closure...).
2. The KPI labels of every template are known exactly (`scenarios.label_template`,
   on the abstract steps), so the ticket-level frame carries its labels as columns
   and the planted truth is counted from them, never re-derived from the event rows.
3. Tickets x template steps are exploded with numpy, a few rows dropped (escalation
   notes for tickets whose agent writes none, the tail of still-open tickets), and
   timestamps are the ticket's opened_at plus a per-ticket cumulative sum of random
   durations whose bounds make the quick-fix label certain.
4. Polars writes tickets/events (CSV or Parquet) and `planted.json` is written beside.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from pipelines.errors import TierlensError
from pipelines.sample import scenarios as sc, texts as tx

GENERATOR_VERSION = 1
PERIOD_START = datetime(2025, 3, 1, tzinfo=UTC)
PERIOD_END = datetime(2025, 4, 1, tzinfo=UTC)
PRIORITIES = ("P1", "P2", "P3", "P4")
PRIORITY_WEIGHTS = (0.02, 0.10, 0.58, 0.30)
PRIORITY_PICKUP_FACTOR = (0.15, 0.4, 1.0, 1.3)
SLA_HOURS = (4, 8, 24, 72)
CHANNELS = ("phone", "email", "portal", "chat")
P_BLANK_TIER = 0.04
P_BLANK_GROUP = 0.05
P_TIE_ESCALATE = 0.3  # escalation at the same second as the note before it
P_ZERO_PICKUP = 0.03  # L2/L3 pickup at the same second as the escalation
P_ENTRY_L2_TO_L3 = 0.15
P_KB_NOT_L1 = 0.05
P_CODE_SCOPE_L1 = 0.12  # non-escalated, out-of-scope tickets closed as known error/education
MAX_DURATION_S = 14 * 86400
# the MSP's L2 groups (shared by all partners): quality of their notes when escalating to L3
L2_NOTE_QUALITY = {"complete": 0.7, "partial": 0.2, "none": 0.1}

# base escalation propensity per category (scaled per partner); L1-scope ones use the
# partner's own in-scope probability
CATEGORY_ESCALATION = {
    "hardware": 0.35, "software": 0.30, "network": 0.45, "email": 0.25, "security": 0.55,
    "access request": 0.30,
}
CATEGORY_ENTRY_L2 = {
    "network": 2.5, "security": 2.0, "hardware": 1.0, "software": 0.8, "email": 0.8,
    "access request": 0.5,
}
DEFAULT_MIX = {
    "esc_l2": 40, "esc_l2_quick": 6, "bounce_queue": 3, "bounce_worked": 3, "bounce_reesc": 2,
    "reesc_l3": 10, "reesc_l3_back": 3, "skip_l3": 3, "skip_l3_bounce": 1, "lateral_l2": 5,
    "misroute_l2": 4, "pingpong_l2": 2, "reopen_then_esc": 3,
}


@dataclass(frozen=True)
class PartnerParams:
    """Generation parameters (probabilities and median durations) of one partner."""

    share: float
    habit: str
    escalation_multiplier: float = 1.0
    p_escalate_in_scope: float = 0.03
    p_entry_l2: float = 0.04
    escalation_mix: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_MIX))
    p_reopen: float = 0.03
    p_wait_l1: float = 0.4
    p_wait_end: float = 0.5
    p_closed: float = 0.9
    p_worknote: float = 0.7
    p_l1_reassign: float = 0.08
    p_wait_l1_escalated: float = 0.15  # L1 waits for the user less when it escalates
    p_hasty_escalation: float = 0.05  # escalates within minutes, with no internal note
    note_quality: dict[str, float] = field(
        default_factory=lambda: {"complete": 0.85, "partial": 0.10, "none": 0.05}
    )
    p_note_improves: float = 0.5  # partial first note -> complete note at re-escalation
    p_kb_l1: float = 0.45
    p_known_error_escalated: float = 0.06
    channel_mix: dict[str, float] = field(
        default_factory=lambda: {"phone": 0.35, "email": 0.30, "portal": 0.25, "chat": 0.10}
    )
    p_fcr_call: float = 0.5  # of L1-only phone/chat tickets, resolved during the call
    reports_fcr: bool = True
    l1_pickup_median_min: float = 5
    l2_pickup_median_min: float = 20
    l3_pickup_median_min: float = 90


def _mix(**over: float) -> dict[str, float]:
    return {**DEFAULT_MIX, **over}


PARTNERS: dict[str, PartnerParams] = {
    "Acme": PartnerParams(share=0.34, habit="well-run baseline"),
    "Globex": PartnerParams(
        share=0.25, habit="escalates a lot, poor notes, many unnecessary escalations",
        escalation_multiplier=1.6, p_escalate_in_scope=0.15,
        escalation_mix=_mix(esc_l2_quick=18, skip_l3=8, skip_l3_bounce=3),
        note_quality={"complete": 0.35, "partial": 0.35, "none": 0.30},
        p_note_improves=0.3, p_kb_l1=0.2, p_known_error_escalated=0.2,
        p_hasty_escalation=0.35,
    ),
    "Initech": PartnerParams(
        share=0.23, habit="escalations bounce back and ping-pong, more reopens",
        escalation_mix=_mix(bounce_queue=10, bounce_worked=9, bounce_reesc=6, pingpong_l2=7,
                            reesc_l3_back=6, misroute_l2=6),
        p_reopen=0.08, note_quality={"complete": 0.75, "partial": 0.20, "none": 0.05},
        p_kb_l1=0.35, reports_fcr=False,
        channel_mix={"phone": 0.2, "email": 0.45, "portal": 0.3, "chat": 0.05},
    ),
    "Umbrella": PartnerParams(
        share=0.18, habit="slow to pick up (L1 and escalations), SLA breaches",
        escalation_multiplier=1.1, p_wait_end=0.55, p_kb_l1=0.4,
        l1_pickup_median_min=45, l2_pickup_median_min=120, l3_pickup_median_min=300,
    ),
}

# duration kinds: (median minutes, sigma, minimum seconds added); pickups are per partner
_LOGNORMAL = {
    "l1_assign": (5, 0.9, 0), "l1_start": (2, 0.8, 0), "l1_work": (6, 0.8, 60),
    "l1_resolve": (20, 0.9, 960), "l1_repickup": (15, 0.9, 0), "agent_swap": (20, 0.8, 60),
    "l2_pickup": (20, 0.9, 0), "l3_pickup": (90, 0.9, 0), "bounce_queue": (40, 0.8, 60),
    "l2_work": (60, 0.9, 960), "l3_work": (240, 0.9, 960), "wait_user": (240, 1.0, 1800),
    "reopen": (1440, 0.8, 7200),
}
_UNIFORM = {  # seconds, inclusive bounds
    "quick": (120, 780), "misroute": (120, 1800), "fcr": (180, 1200), "close": (259200, 262800),
    "escalate": (60, 300),
}


# -- small vectorised helpers ------------------------------------------------------------


def _choice(rng: np.random.Generator, probs: np.ndarray, n: int) -> np.ndarray:
    """Categorical draws from one probability vector."""
    cdf = np.cumsum(probs / probs.sum())
    cdf[-1] = 1.0
    return np.searchsorted(cdf, rng.random(n), side="right").astype(np.int16)


def _choice_rows(rng: np.random.Generator, table: np.ndarray, row: np.ndarray) -> np.ndarray:
    """Categorical draws where ticket i uses the probability vector table[row[i]]."""
    k = table.shape[1]
    cdf = np.cumsum(table / table.sum(axis=1, keepdims=True), axis=1)
    cdf[:, -1] = 1.0
    flat = (cdf + np.arange(table.shape[0])[:, None]).ravel()
    pos = np.searchsorted(flat, row + rng.random(row.size), side="right")
    drawn: np.ndarray = (pos - row.astype(np.int64) * k).astype(np.int16)
    return drawn


def _lookup(values: tuple[str, ...] | list[str], codes: np.ndarray) -> pl.Series:
    """Strings by code (an Enum column: 1-2 bytes a row); a negative code gives null."""
    uniq = list(dict.fromkeys(values))
    pos = {v: i for i, v in enumerate(uniq)}
    remap = np.array([pos[v] for v in values])
    width = np.uint8 if len(uniq) <= 255 else np.uint16 if len(uniq) <= 65535 else np.uint32
    out = pl.Series(remap[np.where(codes < 0, 0, codes)].astype(width)).cat.to(pl.Enum(uniq))
    if (codes < 0).any():
        out = pl.select(pl.when(pl.Series(codes >= 0)).then(out)).to_series()
    return out


# -- probabilities shared by sampling and the expected values -------------------------------


def base_probabilities() -> np.ndarray:
    """P(base scenario | partner, category), shape (partners, categories, bases).

    'l1_fcr' gets probability 0 here: it is split from 'l1_resolve' by channel.
    """
    nb = len(sc.BASES)
    out = np.zeros((len(PARTNERS), len(tx.CATEGORIES), nb))
    for k, p in enumerate(PARTNERS.values()):
        for c, cat in enumerate(tx.CATEGORIES):
            in_scope = cat in tx.L1_SCOPE
            e2 = 0.0 if in_scope else p.p_entry_l2 * CATEGORY_ENTRY_L2[cat]
            pe = p.p_escalate_in_scope if in_scope else min(
                0.9, CATEGORY_ESCALATION[cat] * p.escalation_multiplier)
            allowed = sc.L1_SCOPE_SAFE_BASES if in_scope else sc.ESCALATING_L1_BASES
            mix = np.array([p.escalation_mix.get(b, 0.0) if b in allowed else 0.0
                            for b in sc.BASES])
            out[k, c] = (1 - e2) * pe * mix / mix.sum()
            out[k, c, sc.B["l1_resolve"]] = (1 - e2) * (1 - pe)
            out[k, c, sc.B["l2_direct"]] = e2 * (1 - P_ENTRY_L2_TO_L3)
            out[k, c, sc.B["l2_direct_l3"]] = e2 * P_ENTRY_L2_TO_L3
    return out


def _call_share(p: PartnerParams) -> float:
    return p.channel_mix["phone"] + p.channel_mix["chat"]


def mod_probability(p: PartnerParams) -> dict[str, float]:
    return {"reopen": p.p_reopen, "wait_l1": p.p_wait_l1, "wait_end": p.p_wait_end,
            "closed": p.p_closed, "worknote": p.p_worknote, "l1_reassign": p.p_l1_reassign}


def mod_probabilities(p: PartnerParams) -> np.ndarray:
    """P(modifier bits | partner), shape (2**len(MODS),)."""
    probs = mod_probability(p)
    out = np.ones(1 << sc.N_MODS)
    bits = np.arange(1 << sc.N_MODS)
    for i, m in enumerate(sc.MODS):
        on = (bits >> i & 1).astype(bool)
        out *= np.where(on, probs[m], 1 - probs[m])
    return out


def kb_probability(p: PartnerParams, category: str) -> float:
    factor = {"how-to": 1.6, "password reset": 1.3, "account unlock": 1.2}.get(category, 0.8)
    return min(0.95, p.p_kb_l1 * factor)


METRICS = (
    "l1_resolution_rate", "escalation_rate", "bounceback_rate", "reescalation_rate",
    "tier_skip_rate", "pingpong_rate", "reopen_rate", "note_completeness_rate",
    "kb_deflection_rate", "unnecessary_escalation_rate",
)


def _metric_terms(lab: dict[str, np.ndarray], in_scope: Any, p_complete: tuple[Any, Any, Any],
                  p_kb: Any, p_code_scope: Any) -> dict[str, tuple[Any, Any]]:
    """(numerator, denominator) contributions per ticket/template, by the KPI definitions.

    The same formulas serve the realised counts (0/1 draws) and the expected values
    (probabilities): all terms are linear in the independent draws.
    """
    entry_l1 = lab["entry_tier"] == 1
    n_esc = lab["n_esc"]
    escalated = n_esc > 0
    final_l1 = lab["final_tier"] == 1
    unnecessary = escalated * (in_scope + (1 - in_scope) * (
        1 - (1 - p_code_scope) * (1 - lab["quick_fix"])))
    return {
        "l1_resolution_rate": (entry_l1 & ~escalated & (lab["reopened"] == 0), entry_l1),
        "escalation_rate": (entry_l1 & escalated, entry_l1),
        "bounceback_rate": (lab["n_bounce"], n_esc),
        "reescalation_rate": (lab["n_reesc"], lab["n_esc_l1_l2"]),
        "tier_skip_rate": (lab["n_skip"], lab["n_esc_from_l1"]),
        "pingpong_rate": (lab["pingpong"], lab["n_handoffs"] > 0),
        "reopen_rate": (lab["reopened"], np.ones_like(n_esc)),
        "note_completeness_rate": (
            lab["n_esc_note1"] * p_complete[0] + lab["n_esc_note2"] * p_complete[1]
            + lab["n_esc_note3"] * p_complete[2], n_esc),
        "kb_deflection_rate": (final_l1 * p_kb, np.ones_like(n_esc)),
        "unnecessary_escalation_rate": (unnecessary, escalated),
    }


def expected_rates() -> dict[str, dict[str, Any]]:
    """Expected value of every rate per partner (ratio of expectations) and overall."""
    T = sc.build_table()
    lab = {k: v.astype(np.float64) for k, v in T.labels.items()}
    base_of_t = np.arange(sc.N_TEMPLATES) >> sc.N_MODS
    bits_of_t = np.arange(sc.N_TEMPLATES) & ((1 << sc.N_MODS) - 1)
    pb = base_probabilities()
    cat_w = np.asarray(tx.CATEGORY_WEIGHTS) / np.sum(tx.CATEGORY_WEIGHTS)
    num_all = dict.fromkeys(METRICS, 0.0)
    den_all = dict.fromkeys(METRICS, 0.0)
    out: dict[str, dict[str, Any]] = {m: {"by_partner": {}} for m in METRICS}
    for k, (name, p) in enumerate(PARTNERS.items()):
        pm = mod_probabilities(p)[bits_of_t]
        q = p.note_quality
        pc1 = q["complete"]
        pc2 = q["complete"] + q["partial"] * p.p_note_improves
        num = dict.fromkeys(METRICS, 0.0)
        den = dict.fromkeys(METRICS, 0.0)
        for c, cat in enumerate(tx.CATEGORIES):
            pbase = pb[k, c].copy()
            fcr = pbase[sc.B["l1_resolve"]] * _call_share(p) * p.p_fcr_call
            pbase[sc.B["l1_resolve"]] -= fcr
            pbase[sc.B["l1_fcr"]] = fcr
            w = cat_w[c] * pbase[base_of_t] * pm  # P(category, template | partner)
            in_scope = float(cat in tx.L1_SCOPE)
            terms = _metric_terms(lab, in_scope, (pc1, pc2, L2_NOTE_QUALITY["complete"]),
                                  kb_probability(p, cat), p.p_known_error_escalated)
            for m, (nu, de) in terms.items():
                num[m] += float(np.sum(w * nu))
                den[m] += float(np.sum(w * de))
        for m in METRICS:
            out[m]["by_partner"][name] = num[m] / den[m] if den[m] else None
            num_all[m] += p.share * num[m]
            den_all[m] += p.share * den[m]
    for m in METRICS:
        out[m]["overall"] = num_all[m] / den_all[m] if den_all[m] else None
    return out


# -- generation ---------------------------------------------------------------------------


@dataclass
class Sample:
    tickets: pl.DataFrame  # canonical ticket columns
    events: pl.DataFrame  # canonical event columns
    labels: pl.DataFrame  # ticket-level scenario labels (ticket_id, partner, base, ...)
    planted: dict[str, Any]


def _opened_at(rng: np.random.Generator, n: int) -> np.ndarray:
    """Seconds since PERIOD_START, business-hours heavy, sorted."""
    n_days = (PERIOD_END - PERIOD_START).days
    weekday = (np.arange(n_days) + PERIOD_START.weekday()) % 7
    day_w = np.where(weekday < 5, 1.0, np.where(weekday == 5, 0.22, 0.15))
    day = _choice(rng, day_w, n).astype(np.int64)
    wd_hours = np.array([0.08, 0.05, 0.04, 0.04, 0.05, 0.1, 0.25, 0.6, 1.1, 1.3, 1.3, 1.2,
                         1.0, 1.1, 1.2, 1.15, 1.05, 0.9, 0.55, 0.3, 0.2, 0.15, 0.12, 0.1])
    we_hours = np.array([0.1] * 7 + [0.2, 0.3, 0.35, 0.35, 0.35, 0.3, 0.3, 0.3, 0.3, 0.3,
                                     0.25, 0.2, 0.15, 0.15, 0.12, 0.1, 0.1])
    hour = np.where(weekday[day] < 5, _choice(rng, wd_hours, n), _choice(rng, we_hours, n))
    secs = day * 86400 + hour.astype(np.int64) * 3600 + rng.integers(0, 3600, n)
    return np.sort(secs)


def _durations(rng: np.random.Generator, kind: np.ndarray, partner: np.ndarray,
               prio: np.ndarray, hasty: np.ndarray) -> np.ndarray:
    """Seconds before each event, drawn by duration kind (bounds in scenarios.DUR_BOUNDS)."""
    n = kind.size
    names = sc.DURATIONS
    med = np.ones((len(names), len(PARTNERS)))
    sig = np.ones(len(names))
    add = np.zeros(len(names))
    for d, (m, s, a) in _LOGNORMAL.items():
        med[sc.D[d]] = m
        sig[sc.D[d]] = s
        add[sc.D[d]] = a
    for k, p in enumerate(PARTNERS.values()):
        med[sc.D["l1_assign"], k] = p.l1_pickup_median_min
        med[sc.D["l2_pickup"], k] = p.l2_pickup_median_min
        med[sc.D["l3_pickup"], k] = p.l3_pickup_median_min
    # scale (seconds) by kind x partner x priority; priorities speed up pickups only
    pickup_kinds = [sc.D["l1_assign"], sc.D["l2_pickup"], sc.D["l3_pickup"]]
    prio_f = np.ones((len(names), 1, len(PRIORITIES)))
    prio_f[pickup_kinds] = np.asarray(PRIORITY_PICKUP_FACTOR)
    table = (med[:, :, None] * 60.0 * prio_f).astype(np.float32)
    x = rng.standard_normal(n, dtype=np.float32)
    x *= sig.astype(np.float32)[kind]
    np.exp(x, out=x)
    x *= table[kind, partner, prio]
    # hasty escalations: L1 grabs the ticket and passes it on within minutes
    fast = np.flatnonzero(hasty)
    fast = fast[np.isin(kind[fast], [sc.D["l1_assign"], sc.D["l1_start"], sc.D["l1_work"]])]
    x[fast] *= 0.08
    np.minimum(x, MAX_DURATION_S, out=x)
    x += add.astype(np.float32)[kind]
    u = rng.random(n, dtype=np.float32)
    for d, (lo, hi) in _UNIFORM.items():
        rows = np.flatnonzero(kind == sc.D[d])
        x[rows] = lo + u[rows] * (hi - lo)
    x[kind == sc.D["open"]] = 0
    dur = np.floor(x).astype(np.int64)
    del x
    rng.random(n, dtype=np.float32, out=u)  # ties: same-second escalations and pickups
    dur[(kind == sc.D["escalate"]) & (u < P_TIE_ESCALATE)] = 0
    pick = (kind == sc.D["l2_pickup"]) | (kind == sc.D["l3_pickup"])
    dur[pick & (u < P_ZERO_PICKUP)] = 0
    return dur


def generate(n_tickets: int, seed: int = 7) -> Sample:
    """Generate the sample in memory (see the module docstring)."""
    if n_tickets < 1:
        raise TierlensError("--tickets must be at least 1")
    rng = np.random.default_rng(seed)
    T = sc.build_table()
    n = int(n_tickets)
    partners = list(PARTNERS.values())
    n_part = len(partners)
    cats = tx.CATEGORIES

    # ---- ticket attributes ---------------------------------------------------------
    opened = _opened_at(rng, n)
    partner = _choice(rng, np.array([p.share for p in partners]), n)
    client_local = _choice(rng, np.asarray(tx.CLIENT_WEIGHTS), n)
    client = partner * 3 + client_local
    category = _choice(rng, np.asarray(tx.CATEGORY_WEIGHTS), n)
    subcat = rng.integers(0, 3, n).astype(np.int16)
    prio = _choice(rng, np.asarray(PRIORITY_WEIGHTS), n)
    chan_tab = np.array([[p.channel_mix[c] for c in CHANNELS] for p in partners])
    channel = _choice_rows(rng, chan_tab, partner)
    # base scenario
    pb = base_probabilities().reshape(n_part * len(cats), -1)
    base = _choice_rows(rng, pb, partner.astype(np.int64) * len(cats) + category)
    on_call = (channel == CHANNELS.index("phone")) | (channel == CHANNELS.index("chat"))
    p_fcr = np.array([p.p_fcr_call for p in partners])[partner]
    fcr = (base == sc.B["l1_resolve"]) & on_call & (rng.random(n) < p_fcr)
    base[fcr] = sc.B["l1_fcr"]
    # modifiers
    is_esc_base = np.isin(base, [sc.B[b] for b in sc.ESCALATING_L1_BASES])
    bits = np.zeros(n, dtype=np.int64)
    for i, m in enumerate(sc.MODS):
        pm = np.array([mod_probability(p)[m] for p in partners])[partner]
        if m == "wait_l1":  # label-free modifier: may depend on the scenario
            pm = np.where(is_esc_base, np.array([p.p_wait_l1_escalated for p in partners])[
                partner], pm)
        bits |= (rng.random(n) < pm).astype(np.int64) << i
    hasty = is_esc_base & (rng.random(n) < np.array([p.p_hasty_escalation
                                                      for p in partners])[partner])
    for m in ("wait_l1", "worknote"):
        bits &= ~(hasty.astype(np.int64) << sc.MODS.index(m))
    tid = (base.astype(np.int64) << sc.N_MODS) | bits
    # escalation note quality: 0 complete, 1 partial, 2 none
    nq = np.array([[p.note_quality[q] for q in ("complete", "partial", "none")]
                   for p in partners])
    q1 = _choice_rows(rng, nq, partner)
    improve = rng.random(n) < np.array([p.p_note_improves for p in partners])[partner]
    q2 = np.where((q1 == 1) & improve, 0, q1)
    note_var1 = np.where(q1 == 0, 0, 1 + rng.integers(0, tx.N_PARTIAL_VARIANTS, n))
    note_var2 = np.where(q2 == 0, 0, np.where(q2 == q1, note_var1, 1))
    q3 = _choice(rng, np.array([L2_NOTE_QUALITY[q] for q in ("complete", "partial", "none")]), n)
    note_var3 = np.where(q3 == 0, 0, 1 + rng.integers(0, tx.N_PARTIAL_VARIANTS, n))
    # open tickets: late in the month mostly; truncated at a non-final step
    days_left = (PERIOD_END - PERIOD_START).total_seconds() - opened
    p_open = np.where(days_left < 3 * 86400, 0.35, np.where(days_left < 7 * 86400, 0.08, 0.006))
    is_open = rng.random(n) < p_open
    cut = T.cut_choices[tid, (rng.random(n) * T.n_cut[tid]).astype(np.int64)].astype(np.int64)
    resolved = ~is_open

    # ---- labels (ticket-level, from the template) -------------------------------------
    lab = {k: v[tid].astype(np.int64) for k, v in T.labels.items()}
    cat_names = np.asarray(cats)
    in_scope = np.isin(cat_names[category], tx.L1_SCOPE)
    escalated = lab["n_esc"] > 0
    final_l1 = lab["final_tier"] == 1
    p_kb = np.array([[kb_probability(p, c) for c in cats] for p in partners])[partner, category]
    kb = resolved & (rng.random(n) < np.where(final_l1, p_kb, P_KB_NOT_L1))
    # resolution code
    code_names: list[str] = []
    code_of_cat = []
    for c in cats:
        code_of_cat.append([len(code_names) + i for i in range(len(tx.RESOLUTION_CODES[c]))])
        code_names.extend(tx.RESOLUTION_CODES[c])
    for extra in (tx.KNOWN_ERROR, "user education"):
        if extra not in code_names:
            code_names.append(extra)
    width = max(len(v) for v in code_of_cat)
    code_tab = np.array([v + [v[0]] * (width - len(v)) for v in code_of_cat])
    n_codes = np.array([len(v) for v in code_of_cat])
    normal = code_tab[category, (rng.random(n) * n_codes[category]).astype(np.int64)]
    p_ke = np.array([p.p_known_error_escalated for p in partners])[partner]
    u_code = rng.random(n)
    ke = np.where(escalated, (~in_scope) & (u_code < p_ke),
                  (~in_scope) & (u_code < P_CODE_SCOPE_L1 * 0.6))
    edu = (~escalated) & (~in_scope) & (u_code >= P_CODE_SCOPE_L1 * 0.6) & (
        u_code < P_CODE_SCOPE_L1)
    code = np.where(ke, code_names.index(tx.KNOWN_ERROR),
                    np.where(edu, code_names.index("user education"), normal))
    code = np.where(resolved, code, -1)
    scope_codes = {"password reset", "known error", "user education"}
    code_scope = np.isin(code, [i for i, c in enumerate(code_names) if c in scope_codes])

    # ---- explode tickets x steps (int32/int8 row arrays: 1M tickets ~ 8M rows) -------------
    cnt = (T.offsets[tid + 1] - T.offsets[tid]).astype(np.int32)
    rep = np.repeat(np.arange(n, dtype=np.int32), cnt)
    local = np.arange(rep.size, dtype=np.int32)
    local -= np.repeat((np.cumsum(cnt) - cnt).astype(np.int32), cnt)
    srow = T.offsets[tid].astype(np.int32)[rep]
    srow += local
    snote = T.note[srow]
    drop = (q1 == 2)[rep] & ((snote == sc.N_ESC1) | (snote == sc.N_ESC2))
    drop |= (q3 == 2)[rep] & (snote == sc.N_ESC3)
    drop |= is_open[rep] & (local > cut.astype(np.int32)[rep])
    keep = ~drop
    del drop, local, snote
    rep, srow = rep[keep], srow[keep]
    del keep
    snote = T.note[srow]
    m_rows = rep.size
    per_ticket = np.bincount(rep, minlength=n)
    start = (np.cumsum(per_ticket) - per_ticket).astype(np.int32)
    seq = np.arange(1, m_rows + 1, dtype=np.int32)
    seq -= start[rep]

    # timestamps: opened_at + per-ticket cumulative sum of durations
    t = _durations(rng, T.dur[srow], partner[rep], prio[rep], hasty[rep])
    np.cumsum(t, out=t)
    base_t = opened - t[start]  # the first row of a ticket has duration 0
    t += base_t[rep]
    del base_t

    # groups, tiers, agents
    n_l1 = len(tx.L1_GROUPS)
    group_names = list(tx.L1_GROUPS + tx.L2_GROUPS + tx.L3_GROUPS)
    gidx = {g: i for i, g in enumerate(group_names)}
    route = np.array([[gidx[g] for g in tx.ROUTING[c]] for c in cats], dtype=np.int16)
    G = np.stack([partner.astype(np.int16), route[category, 0], route[category, 1],
                  route[category, 2]], axis=1)
    group_tier = np.array([1] * n_l1 + [2] * len(tx.L2_GROUPS) + [3] * len(tx.L3_GROUPS))
    agents_in = np.array([tx.AGENTS_PER_GROUP[x] for x in group_tier])
    agent_off = np.cumsum(agents_in) - agents_in
    agent_names = [f"{tx.AGENT_PREFIX[g]}{i + 1:02d}" for g, k in zip(group_names, agents_in,
                                                                         strict=True)
                   for i in range(k)]
    l1a = rng.integers(0, agents_in[0], n)
    l1b = (l1a + 1 + rng.integers(0, agents_in[0] - 1, n)) % agents_in[0]

    def pick(g: np.ndarray, local_idx: np.ndarray | None = None) -> np.ndarray:
        if local_idx is None:
            local_idx = (rng.random(n) * agents_in[g]).astype(np.int64)
        agents: np.ndarray = (agent_off[g] + local_idx).astype(np.int16)
        return agents

    A = np.stack([np.full(n, -1, dtype=np.int16), pick(G[:, 0], l1a), pick(G[:, 0], l1b),
                  pick(G[:, 1]), pick(G[:, 2]), pick(G[:, 3])], axis=1)
    grole = T.grole[srow]
    status = T.status[srow]
    u = rng.random(m_rows, dtype=np.float32)
    prev_same = np.zeros(m_rows, dtype=bool)
    prev_same[1:] = (seq[1:] > 1) & (grole[1:] == grole[:-1]) & (status[1:] != status[:-1])
    blank_group = prev_same & (u < P_BLANK_GROUP)
    del prev_same
    blank_tier = ~blank_group & (u > 1 - P_BLANK_TIER)
    row_group = G[rep, grole]
    row_group[blank_group] = -1
    row_tier = np.asarray(sc.GROLE_TIER, dtype=np.int8)[grole]
    row_tier[blank_tier] = -1
    row_agent = A[rep, T.arole[srow]]
    del blank_group, blank_tier, grole

    # notes
    note_texts: list[str] = [""]
    esc_code = np.zeros((len(cats), 1 + tx.N_PARTIAL_VARIANTS), dtype=np.int16)
    for ci, cat in enumerate(cats):
        for v in range(1 + tx.N_PARTIAL_VARIANTS):
            esc_code[ci, v] = len(note_texts)
            note_texts.append(tx.escalation_note(cat, v))
    simple = {sc.N_WORK: tx.WORK_NOTES, sc.N_CUSTOMER: tx.CUSTOMER_NOTES,
              sc.N_RESOLUTION: tx.RESOLUTION_NOTES, sc.N_BOUNCE: tx.BOUNCE_NOTES,
              sc.N_REOPEN: tx.REOPEN_NOTES, sc.N_HANDBACK: tx.HANDBACK_NOTES}
    simple_off = np.zeros(len(sc.NOTE_KIND), dtype=np.int16)
    simple_n = np.ones(len(sc.NOTE_KIND), dtype=np.int16)
    for kind, texts in simple.items():
        simple_off[kind] = len(note_texts)
        simple_n[kind] = len(texts)
        note_texts.extend(texts)
    u = rng.random(m_rows, dtype=np.float32)
    u *= simple_n[snote]
    text_code = u.astype(np.int16)
    del u
    text_code += simple_off[snote]
    for kind, var in ((sc.N_ESC1, note_var1), (sc.N_ESC2, note_var2), (sc.N_ESC3, note_var3)):
        rows = np.flatnonzero(snote == kind)
        text_code[rows] = esc_code[category[rep[rows]], var[rep[rows]]]
    text_code[snote == sc.N_NONE] = -1

    # handoff delays (planted pickups of escalations of resolved tickets)
    esc_rows = np.flatnonzero(T.flags["is_esc"][srow])
    pick_rows = np.flatnonzero(T.flags["is_pickup"][srow])
    pick_rows = pick_rows[resolved[rep[pick_rows]]]
    last_esc = esc_rows[np.searchsorted(esc_rows, pick_rows) - 1]
    delays_min = (t[pick_rows] - t[last_esc]) / 60.0
    delay_partner = partner[rep[pick_rows]]
    # final resolution time, quick-fix check
    final_rows = np.flatnonzero(T.flags["is_final_res"][srow])
    res_at = np.full(n, -1, dtype=np.int64)
    res_at[rep[final_rows]] = t[final_rows]
    qf_rows = np.flatnonzero(T.flags["is_qf_pickup"][srow])
    qf_rows = qf_rows[resolved[rep[qf_rows]]]
    qf_gap = res_at[rep[qf_rows]] - t[qf_rows]
    if qf_gap.size and not (qf_gap < sc.QUICK_FIX_SECONDS).all():  # pragma: no cover
        raise AssertionError("planted quick fixes must resolve within 15 minutes of pickup")
    n_handoffs_seen = np.bincount(rep, weights=T.flags["is_handoff"][srow], minlength=n)
    n_reopens_seen = np.bincount(rep, weights=T.flags["is_reopen"][srow], minlength=n)
    last_event = int(t.max())

    # ---- ticket-level truth -------------------------------------------------------------
    complete = tuple((q == 0).astype(np.int64) for q in (q1, q2, q3))
    terms = _metric_terms(lab, in_scope.astype(np.int64), complete, kb.astype(np.int64),
                          code_scope.astype(np.int64))
    realised = _count(terms, resolved, partner)
    labels = pl.DataFrame({
        "partner": _lookup(tx.PARTNER_NAMES, partner),
        "base": _lookup(sc.BASES, base),
        "template": tid,
        "resolved": resolved,
        "in_scope_category": in_scope,
        "scope_resolution_code": code_scope,
        "kb": kb,
        "note_quality1": q1,
        "note_quality2": q2,
        "note_quality_l2": q3,
        **{k: v.astype(np.int16) for k, v in lab.items()},
    })

    # ---- frames -----------------------------------------------------------------------
    width = max(6, len(str(n)))
    ticket_ids = pl.Series(np.arange(1, n + 1)).cast(pl.String).str.zfill(width)
    ticket_ids = pl.select(pl.lit("T") + ticket_ids).to_series().alias("ticket_id")
    labels = labels.insert_column(0, ticket_ids)
    t0 = int(PERIOD_START.timestamp())

    def ts(sec: np.ndarray) -> pl.Series:
        return pl.Series((sec + t0) * 1_000_000).cast(pl.Datetime("us", "UTC"))

    sla_due = opened + np.asarray(SLA_HOURS)[prio] * 3600
    sla_met = np.where(resolved, res_at <= sla_due, False)
    sla_unknown = is_open & (sla_due > last_event)
    fcr_reported = np.array([p.reports_fcr for p in partners])[partner]
    fcr_value = (base == sc.B["l1_fcr"]) & (lab["reopened"] == 0)
    # the source system also counts agent reassignments inside a group (deliberately imperfect)
    agent_swaps = bits >> sc.MODS.index("l1_reassign") & 1
    kb_code = 1000 + category.astype(np.int64) * 10 + subcat
    tickets = pl.DataFrame({
        "ticket_id": ticket_ids,
        "partner": _lookup(tx.PARTNER_NAMES, partner),
        "client": _lookup([c for p in tx.PARTNER_NAMES for c in tx.CLIENTS[p]], client),
        "opened_at": ts(opened),
        "priority": _lookup(PRIORITIES, prio),
        "category": _lookup(cats, category),
        "subcategory": _lookup([s for c in cats for s in tx.SUBCATEGORIES[c]],
                               category.astype(np.int64) * 3 + subcat),
        "channel": _lookup(CHANNELS, channel),
        "resolution_code": _lookup(code_names, code),
        "kb_article_id": _lookup([f"KB{i}" for i in range(1000, 1000 + 10 * len(cats))],
                                 np.where(kb, kb_code - 1000, -1)),
        "sla_due_at": ts(sla_due),
        "sla_met": pl.Series(sla_met).set(pl.Series(sla_unknown), None)
        if sla_unknown.any() else pl.Series(sla_met),
        "reported_reassignment_count": (n_handoffs_seen + agent_swaps).astype(np.int32),
        "reported_reopen_count": n_reopens_seen.astype(np.int32),
        "first_contact_resolved": pl.Series(np.where(fcr_value, 1, 0).astype(bool)).set(
            pl.Series(is_open | ~fcr_reported), None),
    })
    events = pl.DataFrame({
        "ticket_id": ticket_ids.gather(pl.Series(rep.astype(np.uint32))),
        "event_at": ts(t),
        "seq": pl.Series(seq).cast(pl.Int64),
        "group": _lookup(group_names, row_group),
        "tier": _lookup(("", "L1", "L2", "L3"), row_tier),
        "agent": _lookup(agent_names, row_agent),
        "status": _lookup(sc.STATUSES, status),
        "note_kind": _lookup(sc.NOTE_KIND, np.where(snote == sc.N_NONE, -1, snote)),
        "note_text": _lookup(note_texts, text_code),
    })

    planted = _planted(seed, n, m_rows, realised, resolved, partner, delays_min,
                       delay_partner, base, sla_met, last_event, t0)
    return Sample(tickets=tickets, events=events, labels=labels, planted=planted)


def _count(terms: dict[str, tuple[Any, Any]], resolved: np.ndarray,
           partner: np.ndarray) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for m, (nu, de) in terms.items():
        nu = np.asarray(nu, dtype=np.int64) * resolved
        de = np.asarray(de, dtype=np.int64) * resolved
        nb = np.bincount(partner, weights=nu, minlength=len(PARTNERS)).astype(np.int64)
        db = np.bincount(partner, weights=de, minlength=len(PARTNERS)).astype(np.int64)
        out[m] = {
            "overall": _ratio(int(nb.sum()), int(db.sum())),
            "by_partner": {name: _ratio(int(nb[k]), int(db[k]))
                           for k, name in enumerate(PARTNERS)},
        }
    return out


def _ratio(num: int, den: int) -> dict[str, Any]:
    return {"numerator": num, "denominator": den, "rate": round(num / den, 6) if den else None}


def _median(x: np.ndarray) -> float | None:
    return round(float(np.median(x)), 3) if x.size else None


def _iso(sec: int, t0: int) -> str:
    return datetime.fromtimestamp(sec + t0, tz=UTC).isoformat().replace("+00:00", "Z")


def _planted(seed: int, n: int, n_events: int, realised: dict[str, Any], resolved: np.ndarray,
             partner: np.ndarray, delays_min: np.ndarray, delay_partner: np.ndarray,
             base: np.ndarray, sla_met: np.ndarray, last_event: int, t0: int) -> dict[str, Any]:
    names = list(PARTNERS)
    res_by = np.bincount(partner, weights=resolved, minlength=len(names)).astype(int)
    all_by = np.bincount(partner, minlength=len(names)).astype(int)
    sla_by = np.bincount(partner, weights=sla_met & resolved, minlength=len(names)).astype(int)
    scen = np.bincount(base, minlength=len(sc.BASES))
    scen_res = np.bincount(base, weights=resolved, minlength=len(sc.BASES)).astype(int)
    params = {}
    for name, p in PARTNERS.items():
        d = asdict(p)
        params[name] = d
    return {
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "n_tickets": n,
        "n_events": int(n_events),
        "period": {"start": PERIOD_START.isoformat().replace("+00:00", "Z"),
                   "end": PERIOD_END.isoformat().replace("+00:00", "Z"),
                   "last_event_at": _iso(last_event, t0)},
        "partners": names,
        "definitions": DEFINITIONS,
        "parameters": {
            "partners": params,
            "category_weights": dict(zip(tx.CATEGORIES, tx.CATEGORY_WEIGHTS, strict=True)),
            "category_escalation": CATEGORY_ESCALATION,
            "priority_weights": dict(zip(PRIORITIES, PRIORITY_WEIGHTS, strict=True)),
            "sla_hours": dict(zip(PRIORITIES, SLA_HOURS, strict=True)),
            "p_blank_tier": P_BLANK_TIER,
            "p_blank_group_on_status_only_rows": P_BLANK_GROUP,
            "p_same_second_note_and_escalation": P_TIE_ESCALATE,
            "p_zero_pickup_delay": P_ZERO_PICKUP,
            "quick_fix_minutes": sc.QUICK_FIX_SECONDS / 60,
            "l2_note_quality": L2_NOTE_QUALITY,
        },
        "expected": expected_rates(),
        "realised": {
            "n_resolved": int(resolved.sum()),
            "n_open": int((~resolved).sum()),
            "by_partner": {name: {"n_tickets": int(all_by[k]), "n_resolved": int(res_by[k]),
                                  "n_open": int(all_by[k] - res_by[k])}
                           for k, name in enumerate(names)},
            "handoff_delay_median_min": _median(delays_min),
            "handoff_delay": {
                "n_picked_up": int(delays_min.size),
                "median_min": _median(delays_min),
                "by_partner": {name: _median(delays_min[delay_partner == k])
                               for k, name in enumerate(names)},
            },
            "sla_met_rate": {"overall": _ratio(int(sla_by.sum()), int(res_by.sum())),
                             "by_partner": {name: _ratio(int(sla_by[k]), int(res_by[k]))
                                            for k, name in enumerate(names)}},
            "metrics": realised,
            "scenarios": {b: {"tickets": int(scen[i]), "resolved": int(scen_res[i])}
                          for i, b in enumerate(sc.BASES)},
        },
    }


DEFINITIONS = {
    "scope": "all rates count resolved tickets only (last event resolved/closed); open "
             "tickets are in no denominator",
    "l1_resolution_rate": "resolved, entry tier L1: never escalated and never reopened",
    "escalation_rate": "resolved, entry tier L1: >= 1 escalation",
    "bounceback_rate": "escalations of resolved tickets (any entry tier) whose next tier "
                       "change is a drop",
    "reescalation_rate": "L1->L2 escalations whose next tier change is a rise",
    "tier_skip_rate": "escalations from L1 going to L3",
    "pingpong_rate": "resolved tickets with >= 1 group change that return to a group held "
                     "before",
    "reopen_rate": "resolved tickets that went from resolved/closed back to an open status",
    "note_completeness_rate": "escalations of resolved tickets with an 'escalation' note "
                              "written by the escalating tier (after the previous tier change, "
                              "at or before the escalation) containing all four sections; "
                              "L1 writes the notes of its escalations, L2 those to L3; at most "
                              "one such note per escalation",
    "kb_deflection_rate": "resolved tickets: share whose final resolution is at L1 and that "
                          "have a kb_article_id (denominator = all resolved tickets)",
    "unnecessary_escalation_rate": "resolved tickets with >= 1 escalation (any entry tier): "
                                   "category or resolution_code in L1 scope, or final "
                                   "resolution by the receiving tier of the last escalation, "
                                   "with no group change after it, within 15 min of pickup "
                                   "(no review verdicts; l1_kb_articles empty by default, so "
                                   "the KB rule flags nothing)",
    "handoff_delay": "per escalation of a resolved ticket: escalation -> first non-queue event "
                     "in the receiving tier; median over picked-up escalations (escalation "
                     "rows are always queue rows, so 0 only for same-second pickups)",
    "events_after_final_resolution": "only Closed rows in the resolving group",
}


def write_sample(out: Path | str, n_tickets: int = 2000, seed: int = 7,
                 fmt: str = "csv") -> dict[str, Any]:
    """Write tickets/events (csv or parquet) and planted.json to `out`; return the planted."""
    if fmt not in ("csv", "parquet"):
        raise TierlensError(f"unknown format {fmt!r} (use csv or parquet)")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    sample = generate(n_tickets, seed)
    if fmt == "csv":
        stamp = "%Y-%m-%dT%H:%M:%SZ"
        sample.tickets.write_csv(out / "tickets.csv", datetime_format=stamp)
        sample.events.write_csv(out / "events.csv", datetime_format=stamp)
    else:
        sample.tickets.write_parquet(out / "tickets.parquet")
        sample.events.write_parquet(out / "events.parquet")
    (out / "planted.json").write_text(json.dumps(sample.planted, indent=1) + "\n",
                                      encoding="utf-8")
    return sample.planted
