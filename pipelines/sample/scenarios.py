"""Path scenarios for the sample generator: step templates and their exact KPI labels.

A ticket's life is one *template*: a base scenario (how it moves between tiers)
combined with a few independent modifiers (reopen, waits for the user, closure...).
Each template is a short list of abstract steps; the generator explodes tickets x
steps and fills in groups, agents and timestamps.

The KPI labels of a template (escalations, bouncebacks, ping-pong...) are computed
here once, on the abstract steps, following the product's definitions literally.
Only resolved (complete) templates get labels: open tickets are truncated
prefixes and are excluded from every rate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# -- group roles (which group holds the ticket) -------------------------------------------
G_L1, G_L2A, G_L2B, G_L3 = 0, 1, 2, 3
GROLE_TIER = (1, 2, 2, 3)

# -- agent roles (blank agent for a group queue) ---------------------------------------------
A_NONE, A_L1A, A_L1B, A_L2A, A_L2B, A_L3 = 0, 1, 2, 3, 4, 5

# -- statuses --------------------------------------------------------------------------------
STATUSES = ("New", "Assigned", "In Progress", "Pending", "Resolved", "Closed", "Resolved in call")
S_NEW, S_ASSIGNED, S_PROGRESS, S_PENDING, S_RESOLVED, S_CLOSED, S_RESOLVED_CALL = range(7)
STATUS_CLASS = ("queue", "queue", "work", "wait", "resolved", "closed", "resolved")
_DONE = {"resolved", "closed"}

# -- note kinds on a step --------------------------------------------------------------------
# N_ESC1/N_ESC2: L1's notes for its first/second escalation; N_ESC3: L2's note for L2 -> L3
(N_NONE, N_ESC1, N_ESC2, N_WORK, N_CUSTOMER, N_RESOLUTION, N_BOUNCE, N_REOPEN, N_HANDBACK,
 N_ESC3) = range(10)
# canonical note kinds: public (customer-visible), internal (work note), escalation
NOTE_KIND = ("", "escalation", "escalation", "internal", "public", "public", "internal",
             "public", "internal", "escalation")
ESC_NOTES = (N_ESC1, N_ESC2, N_ESC3)

# -- duration kinds: the time between the previous event and this one --------------------------
DURATIONS = (
    "open", "l1_assign", "l1_start", "l1_work", "l1_resolve", "l1_repickup", "agent_swap",
    "escalate", "l2_pickup", "l3_pickup", "bounce_queue", "l2_work", "l3_work", "quick",
    "misroute", "wait_user", "reopen", "close", "fcr",
)
D = {name: i for i, name in enumerate(DURATIONS)}
# Lower/upper bounds in seconds guaranteed by the generator (used to prove quick-fix labels).
DUR_BOUNDS: dict[str, tuple[float, float]] = {
    "open": (0, 0), "l1_assign": (0, np.inf), "l1_start": (0, np.inf), "l1_work": (60, np.inf),
    "l1_resolve": (960, np.inf), "l1_repickup": (0, np.inf), "agent_swap": (60, np.inf),
    "escalate": (0, 300), "l2_pickup": (0, np.inf), "l3_pickup": (0, np.inf),
    "bounce_queue": (60, np.inf), "l2_work": (960, np.inf), "l3_work": (960, np.inf),
    "quick": (120, 780), "misroute": (120, 1800), "wait_user": (1800, np.inf),
    "reopen": (7200, np.inf), "close": (259200, np.inf), "fcr": (180, 1200),
}
QUICK_FIX_SECONDS = 15 * 60

BASES = (
    "l1_fcr",  # resolved during the first call at L1
    "l1_resolve",  # resolved at L1, no escalation
    "esc_l2",  # L1 -> L2, resolved at L2
    "esc_l2_quick",  # L1 -> L2, fixed by L2 within minutes of pickup (unnecessary)
    "bounce_queue",  # L1 -> L2, sent back to L1 from the L2 queue (never picked up)
    "bounce_worked",  # L1 -> L2, picked up, sent back to L1, resolved at L1
    "bounce_reesc",  # L1 -> L2 -> L1 -> L2 (2 escalations, second note), resolved at L2
    "reesc_l3",  # L1 -> L2 -> L3, resolved at L3
    "reesc_l3_back",  # L1 -> L2 -> L3 -> L2 (L3 hands back), resolved at L2
    "skip_l3",  # L1 -> L3 directly
    "skip_l3_bounce",  # L1 -> L3 directly, sent back to L1 from the L3 queue
    "lateral_l2",  # L1 -> L2a, worked, reassigned to L2b, resolved there
    "misroute_l2",  # L1 -> L2a queue -> L2b queue (misrouted), picked up by L2b
    "pingpong_l2",  # L1 -> L2a -> L2b -> L2a
    "reopen_then_esc",  # resolved at L1, reopened, escalated to L2
    "l2_direct",  # opened directly at L2
    "l2_direct_l3",  # opened at L2, escalated to L3
)
B = {name: i for i, name in enumerate(BASES)}
ESCALATING_L1_BASES = tuple(
    b for b in BASES if b not in ("l1_fcr", "l1_resolve", "l2_direct", "l2_direct_l3")
)
L1_SCOPE_SAFE_BASES = ("esc_l2", "esc_l2_quick", "bounce_queue", "bounce_worked")

MODS = ("reopen", "wait_l1", "wait_end", "closed", "worknote", "l1_reassign")
# modifiers that never change a KPI label (so their probabilities may depend on anything)
LABEL_FREE_MODS = ("wait_l1", "wait_end", "closed", "worknote", "l1_reassign")
N_MODS = len(MODS)
N_TEMPLATES = len(BASES) << N_MODS


def template_id(base: int, bits: int) -> int:
    return (base << N_MODS) | bits


@dataclass(frozen=True)
class Step:
    grole: int
    arole: int
    status: int
    note: int
    dur: int


class _Builder:
    def __init__(self, mods: dict[str, bool]) -> None:
        self.m = mods
        self.steps: list[Step] = []
        self.l1 = A_L1A

    def add(self, g: int, a: int, status: int, dur: str, note: int = N_NONE) -> None:
        self.steps.append(Step(g, a, status, note, D[dur]))

    @property
    def tier(self) -> int:
        return GROLE_TIER[self.steps[-1].grole]

    def intro(self) -> None:
        self.add(G_L1, A_NONE, S_NEW, "open")
        if self.m["l1_reassign"]:  # agent change inside the L1 group: not a handoff
            self.add(G_L1, A_L1A, S_ASSIGNED, "l1_assign")
            self.add(G_L1, A_L1B, S_ASSIGNED, "agent_swap")
            self.l1 = A_L1B
        else:
            self.add(G_L1, self.l1, S_ASSIGNED, "l1_assign")
        self.add(G_L1, self.l1, S_PROGRESS, "l1_start")
        if self.m["worknote"]:
            self.add(G_L1, self.l1, S_PROGRESS, "l1_work", N_WORK)
        if self.m["wait_l1"]:
            self.wait(G_L1, self.l1)

    def wait(self, g: int, a: int) -> None:
        work = {1: "l1_work", 2: "l2_work", 3: "l3_work"}[GROLE_TIER[g]]
        self.add(g, a, S_PENDING, work, N_CUSTOMER)
        self.add(g, a, S_PROGRESS, "wait_user")

    def escalate(self, to: int, note: int) -> None:
        """Escalation note by the escalating tier (dropped later if none is written),
        then the escalation row itself (a queue row in the receiving group)."""
        last = self.steps[-1]
        work = {1: "l1_work", 2: "l2_work", 3: "l3_work"}[self.tier]
        self.add(last.grole, last.arole, S_PROGRESS, work, note)
        self.add(to, A_NONE, S_ASSIGNED, "escalate")

    def pickup(self, g: int, a: int) -> None:
        self.add(g, a, S_PROGRESS, "l3_pickup" if GROLE_TIER[g] == 3 else "l2_pickup")

    def bounce(self, from_queue: bool) -> None:
        work = "bounce_queue" if from_queue else ("l2_work" if self.tier == 2 else "l3_work")
        self.add(G_L1, self.l1, S_ASSIGNED, work, N_BOUNCE)
        self.add(G_L1, self.l1, S_PROGRESS, "l1_repickup")

    def handoff(self, g: int, dur: str, note: int = N_NONE, a: int = A_NONE) -> None:
        self.add(g, a, S_ASSIGNED, dur, note)

    def resolve(self, g: int, a: int, dur: str, allow_wait: bool = True,
                status: int = S_RESOLVED) -> None:
        if allow_wait and self.m["worknote"]:
            self.add(g, a, S_PROGRESS, {1: "l1_work", 2: "l2_work", 3: "l3_work"}[GROLE_TIER[g]],
                     N_WORK)
        if allow_wait and self.m["wait_end"]:
            self.wait(g, a)
        self.add(g, a, status, dur, N_RESOLUTION)
        rework = {1: "l1_resolve", 2: "l2_work", 3: "l3_work"}[GROLE_TIER[g]]
        if self.m["reopen"]:
            self.add(g, a, S_PROGRESS, "reopen", N_REOPEN)
            self.add(g, a, S_RESOLVED, rework, N_RESOLUTION)
        if self.m["closed"]:
            self.add(g, a, S_CLOSED, "close")


def build_template(base: str, mods: dict[str, bool]) -> list[Step]:
    b = _Builder(mods)
    if base == "l1_fcr":
        b.add(G_L1, A_L1A, S_NEW, "open")
        b.resolve(G_L1, A_L1A, "fcr", allow_wait=False, status=S_RESOLVED_CALL)
        return b.steps
    if base in ("l2_direct", "l2_direct_l3"):
        b.add(G_L2A, A_NONE, S_NEW, "open")
        b.pickup(G_L2A, A_L2A)
        if base == "l2_direct":
            b.resolve(G_L2A, A_L2A, "l2_work")
        else:
            b.escalate(G_L3, N_ESC3)
            b.pickup(G_L3, A_L3)
            b.resolve(G_L3, A_L3, "l3_work")
        return b.steps
    b.intro()
    if base == "l1_resolve":
        b.resolve(G_L1, b.l1, "l1_resolve")
    elif base == "esc_l2":
        b.escalate(G_L2A, N_ESC1)
        b.pickup(G_L2A, A_L2A)
        b.resolve(G_L2A, A_L2A, "l2_work")
    elif base == "esc_l2_quick":
        b.escalate(G_L2A, N_ESC1)
        b.pickup(G_L2A, A_L2A)
        b.resolve(G_L2A, A_L2A, "quick", allow_wait=False)
    elif base == "bounce_queue":
        b.escalate(G_L2A, N_ESC1)
        b.bounce(from_queue=True)
        b.resolve(G_L1, b.l1, "l1_resolve")
    elif base == "bounce_worked":
        b.escalate(G_L2A, N_ESC1)
        b.pickup(G_L2A, A_L2A)
        b.bounce(from_queue=False)
        b.resolve(G_L1, b.l1, "l1_resolve")
    elif base == "bounce_reesc":
        b.escalate(G_L2A, N_ESC1)
        b.pickup(G_L2A, A_L2A)
        b.bounce(from_queue=False)
        b.escalate(G_L2A, N_ESC2)
        b.pickup(G_L2A, A_L2A)
        b.resolve(G_L2A, A_L2A, "l2_work")
    elif base == "reesc_l3":
        b.escalate(G_L2A, N_ESC1)
        b.pickup(G_L2A, A_L2A)
        b.escalate(G_L3, N_ESC3)
        b.pickup(G_L3, A_L3)
        b.resolve(G_L3, A_L3, "l3_work")
    elif base == "reesc_l3_back":
        b.escalate(G_L2A, N_ESC1)
        b.pickup(G_L2A, A_L2A)
        b.escalate(G_L3, N_ESC3)
        b.pickup(G_L3, A_L3)
        b.handoff(G_L2A, "l3_work", N_HANDBACK, A_L2A)
        b.pickup(G_L2A, A_L2A)
        b.resolve(G_L2A, A_L2A, "l2_work")
    elif base == "skip_l3":
        b.escalate(G_L3, N_ESC1)
        b.pickup(G_L3, A_L3)
        b.resolve(G_L3, A_L3, "l3_work")
    elif base == "skip_l3_bounce":
        b.escalate(G_L3, N_ESC1)
        b.bounce(from_queue=True)
        b.resolve(G_L1, b.l1, "l1_resolve")
    elif base == "lateral_l2":
        b.escalate(G_L2A, N_ESC1)
        b.pickup(G_L2A, A_L2A)
        b.handoff(G_L2B, "l2_work")
        b.pickup(G_L2B, A_L2B)
        b.resolve(G_L2B, A_L2B, "l2_work")
    elif base == "misroute_l2":
        b.escalate(G_L2A, N_ESC1)
        b.handoff(G_L2B, "misroute")
        b.pickup(G_L2B, A_L2B)
        b.resolve(G_L2B, A_L2B, "l2_work")
    elif base == "pingpong_l2":
        b.escalate(G_L2A, N_ESC1)
        b.pickup(G_L2A, A_L2A)
        b.handoff(G_L2B, "l2_work")
        b.pickup(G_L2B, A_L2B)
        b.handoff(G_L2A, "l2_work")
        b.pickup(G_L2A, A_L2A)
        b.resolve(G_L2A, A_L2A, "l2_work")
    elif base == "reopen_then_esc":
        b.add(G_L1, b.l1, S_RESOLVED, "l1_resolve", N_RESOLUTION)
        b.add(G_L1, b.l1, S_PROGRESS, "reopen", N_REOPEN)
        b.escalate(G_L2A, N_ESC1)
        b.pickup(G_L2A, A_L2A)
        b.resolve(G_L2A, A_L2A, "l2_work")
    else:  # pragma: no cover
        raise ValueError(base)
    return b.steps


# -- labels --------------------------------------------------------------------------------

LABELS = (
    "entry_tier", "n_esc", "n_esc_from_l1", "n_esc_l1_l2", "n_bounce", "n_reesc", "n_skip",
    "n_esc_note1", "n_esc_note2", "n_esc_note3", "n_esc_nonote", "reopened", "n_reopens",
    "n_handoffs", "pingpong", "final_tier", "quick_fix", "n_pickups",
)
STEP_FLAGS = ("is_esc", "is_pickup", "is_final_res", "is_handoff", "is_reopen", "can_cut",
              "is_qf_pickup")


def label_template(steps: list[Step]) -> tuple[dict[str, int], dict[str, list[bool]]]:
    """KPI labels of a complete (resolved) template, by the product's definitions."""
    n = len(steps)
    tier = [GROLE_TIER[s.grole] for s in steps]
    grp = [s.grole for s in steps]
    cls = [STATUS_CLASS[s.status] for s in steps]
    assert cls[-1] in _DONE
    flags = {f: [False] * n for f in STEP_FLAGS}
    lab = dict.fromkeys(LABELS, 0)
    lab["entry_tier"] = tier[0]
    # final resolution: first event of the last run of resolved/closed events
    final = n - 1
    while final > 0 and cls[final - 1] in _DONE:
        final -= 1
    flags["is_final_res"][final] = True
    lab["final_tier"] = tier[final]
    # escalations and what follows each one
    esc_idx = [i for i in range(1, n) if tier[i] > tier[i - 1]]
    for i in esc_idx:
        assert cls[i] == "queue", "escalation rows are queue rows"
        flags["is_esc"][i] = True
        frm, to = tier[i - 1], tier[i]
        nxt = next((j for j in range(i + 1, n) if tier[j] != to), None)
        lab["n_esc"] += 1
        if nxt is not None and tier[nxt] < to:
            lab["n_bounce"] += 1
        if frm == 1:
            lab["n_esc_from_l1"] += 1
            if to >= 3:
                lab["n_skip"] += 1
            if to == 2:
                lab["n_esc_l1_l2"] += 1
                if nxt is not None and tier[nxt] > to:
                    lab["n_reesc"] += 1
        end = nxt if nxt is not None else n
        pick = next((k for k in range(i + 1, end) if cls[k] != "queue"), None)
        if pick is not None:
            flags["is_pickup"][pick] = True
            lab["n_pickups"] += 1
        # escalation note: written in the escalating tier's stretch, i.e. after the
        # previous tier change and at or before the escalation
        prev = max((j for j in range(1, i) if tier[j] != tier[j - 1]), default=-1)
        notes = [steps[j].note for j in range(prev + 1, i + 1) if steps[j].note in ESC_NOTES]
        assert len(notes) <= 1, "one escalation note per escalation"
        key = {N_ESC1: "n_esc_note1", N_ESC2: "n_esc_note2", N_ESC3: "n_esc_note3"}
        lab[key[notes[0]] if notes else "n_esc_nonote"] += 1
    # reopens
    for i in range(1, n):
        if cls[i - 1] in _DONE and cls[i] not in _DONE:
            flags["is_reopen"][i] = True
            lab["n_reopens"] += 1
    lab["reopened"] = int(lab["n_reopens"] > 0)
    # handoffs and ping-pong
    handoffs = [i for i in range(1, n) if grp[i] != grp[i - 1]]
    for i in handoffs:
        flags["is_handoff"][i] = True
        if grp[i] in grp[:i]:
            lab["pingpong"] = 1
    lab["n_handoffs"] = len(handoffs)
    # quick fix: resolved by the receiving tier of the last escalation, with no handoff after
    # it, within 15 minutes of its pickup (decided from the guaranteed duration bounds)
    if esc_idx and handoffs[-1] == esc_idx[-1]:
        e = esc_idx[-1]
        pick = next((k for k in range(e + 1, n) if cls[k] != "queue"), None)
        if pick is not None and pick <= final:
            lo = sum(DUR_BOUNDS[DURATIONS[steps[k].dur]][0] for k in range(pick + 1, final + 1))
            hi = sum(DUR_BOUNDS[DURATIONS[steps[k].dur]][1] for k in range(pick + 1, final + 1))
            if hi < QUICK_FIX_SECONDS:
                lab["quick_fix"] = 1
                flags["is_qf_pickup"][pick] = True
            else:
                assert lo > QUICK_FIX_SECONDS, "quick-fix label must be decidable"
    # an open ticket is a prefix cut at a step that is not resolved/closed
    for i in range(n):
        flags["can_cut"][i] = cls[i] not in _DONE
    return lab, flags


@dataclass(frozen=True)
class TemplateTable:
    """All templates, flattened: step arrays plus per-template offsets and labels."""

    offsets: np.ndarray  # (N_TEMPLATES + 1,) start of each template's steps
    grole: np.ndarray
    arole: np.ndarray
    status: np.ndarray
    note: np.ndarray
    dur: np.ndarray
    local: np.ndarray  # index of the step in its template
    flags: dict[str, np.ndarray]  # per step
    labels: dict[str, np.ndarray]  # per template
    cut_choices: np.ndarray  # (N_TEMPLATES, max_cut) step indexes an open ticket may end at
    n_cut: np.ndarray  # (N_TEMPLATES,)


def build_table() -> TemplateTable:
    cols: dict[str, list[int]] = {k: [] for k in ("grole", "arole", "status", "note", "dur",
                                                    "local")}
    flags: dict[str, list[bool]] = {f: [] for f in STEP_FLAGS}
    labels: dict[str, list[int]] = {k: [] for k in LABELS}
    offsets = [0]
    cuts: list[list[int]] = []
    for base in BASES:
        for bits in range(1 << N_MODS):
            mods = {m: bool(bits >> i & 1) for i, m in enumerate(MODS)}
            steps = build_template(base, mods)
            lab, fl = label_template(steps)
            for i, s in enumerate(steps):
                cols["grole"].append(s.grole)
                cols["arole"].append(s.arole)
                cols["status"].append(s.status)
                cols["note"].append(s.note)
                cols["dur"].append(s.dur)
                cols["local"].append(i)
            for f in STEP_FLAGS:
                flags[f].extend(fl[f])
            for k in LABELS:
                labels[k].append(lab[k])
            offsets.append(offsets[-1] + len(steps))
            cuts.append([i for i, ok in enumerate(fl["can_cut"]) if ok])
    width = max(len(c) for c in cuts)
    cut_choices = np.zeros((len(cuts), width), dtype=np.int16)
    for t, c in enumerate(cuts):
        cut_choices[t, : len(c)] = c
    return TemplateTable(
        offsets=np.asarray(offsets, dtype=np.int64),
        grole=np.asarray(cols["grole"], dtype=np.int8),
        arole=np.asarray(cols["arole"], dtype=np.int8),
        status=np.asarray(cols["status"], dtype=np.int8),
        note=np.asarray(cols["note"], dtype=np.int8),
        dur=np.asarray(cols["dur"], dtype=np.int8),
        local=np.asarray(cols["local"], dtype=np.int16),
        flags={f: np.asarray(v, dtype=bool) for f, v in flags.items()},
        labels={k: np.asarray(v, dtype=np.int16) for k, v in labels.items()},
        cut_choices=cut_choices,
        n_cut=np.asarray([len(c) for c in cuts], dtype=np.int16),
    )


