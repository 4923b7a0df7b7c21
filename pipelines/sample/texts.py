"""Names and short texts for the sample generator (kept short: the committed sample is small)."""

from __future__ import annotations

PARTNER_NAMES = ("Acme", "Globex", "Initech", "Umbrella")
CLIENTS = {
    "Acme": ("Northwind", "Contoso", "Fabrikam"),
    "Globex": ("Tailspin", "Wingtip", "Litware"),
    "Initech": ("Proseware", "Woodgrove", "Lucerne"),
    "Umbrella": ("Coho Winery", "Fourth Coffee", "Adatum"),
}
CLIENT_WEIGHTS = (0.5, 0.3, 0.2)

CATEGORIES = (
    "password reset", "account unlock", "how-to", "hardware", "software", "network", "email",
    "security", "access request",
)
L1_SCOPE = ("password reset", "account unlock", "how-to")
CATEGORY_WEIGHTS = (0.17, 0.09, 0.12, 0.10, 0.16, 0.09, 0.11, 0.05, 0.11)
SUBCATEGORIES = {
    "password reset": ("AD password", "MFA reset", "email password"),
    "account unlock": ("AD lockout", "VPN lockout", "app lockout"),
    "how-to": ("Office", "Teams", "printing"),
    "hardware": ("laptop", "printer", "monitor"),
    "software": ("install", "crash", "licence"),
    "network": ("VPN", "Wi-Fi", "site outage"),
    "email": ("delivery", "mailbox full", "shared mailbox"),
    "security": ("phishing", "malware alert", "suspicious login"),
    "access request": ("share access", "app access", "new starter"),
}
# group names: the tier is obvious to the default tier map (L1/L2/L3 in the name)
L1_GROUPS = tuple(f"{p}-SD-L1" for p in PARTNER_NAMES)
L2_GROUPS = ("Network-L2", "Apps-L2", "Workplace-L2", "Security-L2", "IAM-L2")
L3_GROUPS = ("Infra-L3", "Dev-L3", "Security-L3")
# per category: (primary L2, alternative L2, L3)
ROUTING = {
    "password reset": ("IAM-L2", "Apps-L2", "Infra-L3"),
    "account unlock": ("IAM-L2", "Security-L2", "Infra-L3"),
    "how-to": ("Apps-L2", "Workplace-L2", "Dev-L3"),
    "hardware": ("Workplace-L2", "Network-L2", "Infra-L3"),
    "software": ("Apps-L2", "Workplace-L2", "Dev-L3"),
    "network": ("Network-L2", "Workplace-L2", "Infra-L3"),
    "email": ("Apps-L2", "Network-L2", "Infra-L3"),
    "security": ("Security-L2", "Network-L2", "Security-L3"),
    "access request": ("IAM-L2", "Apps-L2", "Security-L3"),
}
AGENT_PREFIX = {
    "Acme-SD-L1": "acme", "Globex-SD-L1": "glob", "Initech-SD-L1": "init",
    "Umbrella-SD-L1": "umbr", "Network-L2": "net", "Apps-L2": "apps", "Workplace-L2": "wkp",
    "Security-L2": "sec", "IAM-L2": "iam", "Infra-L3": "infra", "Dev-L3": "dev",
    "Security-L3": "csirt",
}
AGENTS_PER_GROUP = {1: 12, 2: 6, 3: 4}

RESOLUTION_CODES = {
    "password reset": ("password reset",),
    "account unlock": ("account unlocked",),
    "how-to": ("user education",),
    "hardware": ("hardware replaced", "configuration change"),
    "software": ("software reinstalled", "configuration change"),
    "network": ("configuration change", "network fix"),
    "email": ("configuration change", "mailbox fix"),
    "security": ("threat contained", "no fault found"),
    "access request": ("access granted",),
}
KNOWN_ERROR = "known error"

# escalation note parts per category: issue, troubleshooting, observations, reason.
# (Phrases never contain the section names themselves.)
NOTE_PARTS = {
    "password reset": ("cannot log in after reset", "reset twice, checked sync",
                       "sync delayed on DC", "needs AD admin rights"),
    "account unlock": ("account locks every hour", "unlocked, cleared cached creds",
                       "lockouts from old phone", "needs audit log access"),
    "how-to": ("asks how to share calendar", "sent guide", "feature disabled by policy",
               "policy change needed"),
    "hardware": ("laptop will not boot", "power reset, checked charger",
                 "disk error on POST", "needs hardware swap"),
    "software": ("app crashes on start", "reinstalled, cleared cache",
                 "crash after last update", "needs packaging team"),
    "network": ("VPN drops every 10 min", "reinstalled client, other Wi-Fi",
                "same on other sites", "possible gateway issue"),
    "email": ("mails not delivered", "checked rules and quota",
              "bounces from one domain", "needs mail flow admin"),
    "security": ("user clicked phishing link", "isolated device, reset password",
                 "token may be stolen", "security review required"),
    "access request": ("needs access to finance share", "checked approvals",
                       "approval present", "needs share admin rights"),
}


def escalation_note(category: str, variant: int) -> str:
    """variant 0: complete; 1-4: incomplete in different ways."""
    issue, tried, seen, why = NOTE_PARTS[category]
    if variant == 0:
        return (f"User issue: {issue}. Troubleshooting performed: {tried}. "
                f"Findings: {seen}. Reason for escalation: {why}.")
    if variant == 1:
        return f"User issue: {issue}. Troubleshooting performed: {tried}."
    if variant == 2:
        return f"User issue: {issue}. Reason for escalation: {why}."
    if variant == 3:
        return (f"User issue: {issue}. Troubleshooting performed: {tried}. "
                f"Reason for escalation: {why}.")
    return f"{issue}, pls check"


N_PARTIAL_VARIANTS = 4

WORK_NOTES = ("Remote session started", "Checked logs", "Called user")
CUSTOMER_NOTES = ("Asked user for details", "Waiting for user reply")
RESOLUTION_NOTES = ("Fixed", "User confirmed fix")
BOUNCE_NOTES = ("Returned: missing details", "Returned: L1 can fix (see KB)",
                "Returned: wrong queue")
REOPEN_NOTES = ("User says issue persists",)
HANDBACK_NOTES = ("Fix ready, L2 to apply",)
