"""Builds corpus.json: labelled messages for the policy engine tests.

Run `python tests/policies/corpus_build.py` after editing; the JSON is committed so the tests
read a fixed corpus. Hand-written messages come first, then combinations of templates.
Categories: confidential_service, outage_wording, personal_data, token (expected "block" on a
public channel) and benign (expected "pass").

scope_corpus.json holds combinations of scoped policies on one channel, with the outcome and the
ids of the applicable policies expected for each event, audience and (automatic or hand-written) message.
"""
from __future__ import annotations

import json
from itertools import product
from pathlib import Path

CONFIDENTIAL = ["Finance application", "Payroll", "HR Records", "Mergers Data Room", "Project Falcon"]
OPEN_SERVICES = ["E-mail", "VPN", "Printing", "the intranet", "Wi-Fi", "the service portal", "Teams calls", "single sign-on"]

HAND_WRITTEN = [
    # the pitfall itself, and its cousins
    ("outage_wording", "My Company finance application unavailable due to network outage"),
    ("confidential_service", "Finance application unavailable due to network outage"),
    ("confidential_service", "Heads up: Payroll runs late this month, expect salaries on Monday."),
    ("confidential_service", "The Mergers Data Room will be read-only from Friday."),
    ("confidential_service", "Project Falcon kickoff moved to Thursday, bring the NDA."),
    ("confidential_service", "hr records migration finished, please check your leave balance"),
    ("outage_wording", "Everything is down. We have no idea why. Stay tuned."),
    ("outage_wording", "Massive network outage in the London office, all floors affected"),
    ("outage_wording", "Our ERP crashed again, third time this week :("),
    ("outage_wording", "Data breach suspected, do not open attachments from unknown senders"),
    ("outage_wording", "Ransomware found on two laptops, IT is investigating"),
    ("outage_wording", "Mail servers compromised, rotate your credentials"),
    ("outage_wording", "The website is offline while we restore from backup"),
    ("outage_wording", "Printing is not working on floor 4 since this morning"),
    ("outage_wording", "Degraded performance on the VPN for users in Asia"),
    ("outage_wording", "Critical vulnerability in our file transfer tool, patch pending"),
    ("outage_wording", "Possible data loss on the shared drive after last night's failure"),
    ("personal_data", "Please call Maria on +44 20 7946 0958 if the printer jams again"),
    ("personal_data", "Escalate to john.doe@mycompany.example if it happens again"),
    ("personal_data", "The DB at 10.12.4.77 is back after the restart"),
    ("personal_data", "fin-db01 was rebooted at 02:00 and is healthy"),
    ("personal_data", "Traffic from 2001:db8:85a3::8a2e:370:7334 is being filtered"),
    ("personal_data", "Restarted the jobs on payroll.corp.internal, all green"),
    ("personal_data", "Reach the on-call engineer at (202) 555-0143"),
    ("personal_data", "Helpdesk extension changed, call ext. 4412 from now on"),
    ("personal_data", "PAYSQL02 was patched tonight"),
    ("personal_data", "Contact our DPO at privacy-office@example.org for any question"),
    # host names, internal and public, however they are written
    ("personal_data", "The nightly job on srv-fin-01 finished late again"),
    ("personal_data", "Patches applied to web03 and web04 tonight"),
    ("personal_data", "Backups from nas-02.corp are now encrypted"),
    ("personal_data", "Jenkins moved to build.acme.de on Monday"),
    ("personal_data", "Point your client at vpn-gw.mycorp.io from now on"),
    ("personal_data", "The finance share on FS01 has a new folder layout"),
    ("personal_data", "SQL-PRD-03 will be replaced next quarter"),
    ("personal_data", "k8s-node-07 joined the cluster this morning"),
    ("personal_data", "Certificates on dc01.ad.example.net were renewed"),
    ("personal_data", "Dashboards live at https://grafana.ops.example.com/d/abc now"),
    ("personal_data", "MAIL02.CORP.LOCAL accepts the new relay settings"),
    ("personal_data", "Print jobs now go through prn_floor2_01"),
    ("token", "Use token ghp_4f8Jd9sKx02LmQ7pZr1TyVbN3cWqE6uHaG5k to pull the repo"),
    ("token", "Slack bot token for the integration: xoxb-2231-99812-AbCdEfGhIjKlMnOp"),
    ("token", "AWS key AKIAIOSFODNN7EXAMPLE was rotated"),
    ("token", "temporary password: Welcome2026! please change it at first login"),
    ("token", "-----BEGIN RSA PRIVATE KEY----- MIIEowIBAAKCAQEA..."),
    ("token", "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXNlY3JldA"),
    ("token", "connect with postgres://svc_report:S3cr3tPw@reports:5432/db"),
    ("token", "the Stripe key sk_live_51HxYzAbCdEfGhIjKlMn is in the vault now"),
    ("token", "api_key=Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA for the staging tests"),
    ("benign", "Your incident INC-000123 has been resolved."),
    ("benign", "Thanks to everyone who joined the IT open day!"),
    ("benign", "New in the portal: you can now follow tickets and see updates live."),
    ("benign", "Reminder: the knowledge base has step-by-step guides for new starters."),
    ("benign", "Planned maintenance on Saturday from 22:00 to 23:30 UTC. No action needed."),
    ("benign", "We have upgraded the meeting room screens on the second floor."),
    ("benign", "The service desk is open 08:00 to 18:00, Monday to Friday."),
    ("benign", "Tip: lock your screen with Windows key + L when you leave your desk."),
    ("benign", "Our satisfaction score this quarter is 4.6 out of 5. Thank you!"),
    ("benign", "Laptop refresh for the sales team starts next week."),
    ("benign", "The new self-service password reset is live on the portal."),
    ("benign", "Version 2.4.1 of the mobile app is available in the store."),
    ("benign", "Phishing awareness training is open for registration."),
    ("benign", "Happy holidays from the whole service desk team!"),
    ("benign", "We answered 1,240 questions in the community last month."),
    ("benign", "Update: the incident INC-000456 is resolved; thank you for your patience."),
    ("benign", "New printers are arriving in Building C on 12 December."),
    ("benign", "Multi-factor sign-in becomes mandatory on 1 March; see the guide in the portal."),
    ("benign", "Your request REQ-000789 has been completed."),
    ("benign", "We moved the IT help corner to the ground floor, next to reception."),
    # look-alikes of host names: words with numbers, versions, dates, sizes, file and product names
    ("benign", "COVID-19 guidance for office visits has been updated in the portal."),
    ("benign", "Check your e-mail for the Wi-Fi access code before the event."),
    ("benign", "Version v2.3.1 of the expense app fixes the currency rounding."),
    ("benign", "The 3.5-inch drive bays in the new desktops are hot-swappable."),
    ("benign", "Training dates: 12.03.2026 and 2026-04-15, both at 10:00."),
    ("benign", "New laptops ship with Windows-11 and UTF-8 as the default encoding."),
    ("benign", "Installers are signed with SHA-256; the steps are in readme.md."),
    ("benign", "The x86-64 build of the chat client is ready for download."),
    ("benign", "The ASP.NET Core update is done.No action is needed from you."),
    ("benign", "Wi-Fi 6 access points are installed on floors 1 to 3."),
    ("benign", "The top-10 questions of the month are in the community."),
    ("benign", "Node.js 20 and Python 3.12 are available on the build agents."),
    ("benign", "Read section 4.2.1 of the guide, updated 15/03/2026."),
    ("benign", "DB2 and mysql8 clients need the new driver, version 11.5.8."),
    ("benign", "Our COVID19 and win10 pages were merged into one guide."),
    ("benign", "Bring your A4 notebook and a USB-C cable to the training."),
]

CONFIDENTIAL_TEMPLATES = [
    "{svc} will be slow tonight while we upgrade it",
    "We are upgrading {svc} this weekend",
    "{svc} users: please save your work by 6pm",
    "A new release of {svc} went live this morning",
    "Reminder: {svc} training is tomorrow at 10:00",
    "Update on {svc}: the fix is being tested",
    "Questions about {svc}? Ask in the community",
]
OUTAGE_SUBJECTS = ["E-mail", "The VPN", "Wi-Fi in Building B", "Printing", "The intranet", "Teams calls", "The phone system",
                   "Single sign-on", "The website", "File sharing"]
OUTAGE_TEMPLATES = [
    "{s} is down",
    "{s} is unavailable due to a network outage",
    "Outage: {s} not reachable since 09:40",
    "{s} is offline for everyone in the Paris office",
    "Major disruption to {s}, engineers on it",
    "{s} has crashed and we are restoring it",
    "{s} is degraded after a storage failure",
]
PERSONAL_VALUES = [
    ("an e-mail", "alice.martin@example.com"), ("an e-mail", "it-oncall@mycorp.example"),
    ("a phone", "+33 1 70 36 39 48"), ("a phone", "020 7946 0018"), ("a phone", "202-555-0187"),
    ("an IP", "192.168.10.25"), ("an IP", "172.16.0.4"), ("an IP", "fe80::1ff:fe23:4567:890a"),
    ("a host", "srv-app-03"), ("a host", "mail01.corp.local"), ("a host", "ldap.internal"), ("a host", "srv-fin-01"),
    ("a host", "intranet.lan"),
]
PERSONAL_TEMPLATES = [
    "Contact {x} for access to the shared folder",
    "Logs from {x} are attached to the ticket",
    "If it happens again, report it to {x}",
    "We fixed the issue reported by {x}",
    "Forwarding this to {x} for a second look",
    "The alert came from {x} again",
]
TOKENS = [
    "ghp_Zx81LkPq02NmVb7Tr4Ws9YeUi3Oa6Sd5Fg1H", "xoxp-1234567890-0987654321-AbCdEfGhIj", "AKIAJ5Q7R2X9PL3MZK4B",
    "sk_live_4eC39HqLyjWDarjtT1zdp7dc", "glpat-xY7zK2mN9pQ4rS6tU8vW", "password=Sp@rrow2026",
]
TOKEN_TEMPLATES = [
    "Here is the credential for the build agent: {t}",
    "Can someone check why {t} stopped working?",
    "Rotated today, new value {t}",
]
BENIGN_TEMPLATES = [
    "The {svc} upgrade is complete. Thank you for your patience.",
    "New guide in the knowledge base: getting started with {svc}.",
    "Tip of the week: you can request access to {svc} from the portal.",
    "Planned maintenance for {svc} on Sunday 06:00 to 07:00 UTC; no action needed.",
    "Improvements to {svc} are live: faster and simpler.",
    "Thanks for your feedback on {svc}; we read every comment.",
    "Did you know? The community has answers about {svc} from your colleagues.",
    "We have published release notes for {svc} in the portal.",
    "Training sessions on {svc} are open for sign-up this month.",
]


def build() -> list[dict]:
    rows = [{"category": c, "text": t} for c, t in HAND_WRITTEN]
    rows += [{"category": "confidential_service", "text": t.format(svc=s)} for t, s in product(CONFIDENTIAL_TEMPLATES, CONFIDENTIAL)]
    rows += [{"category": "outage_wording", "text": t.format(s=s)} for t, s in product(OUTAGE_TEMPLATES, OUTAGE_SUBJECTS)]
    rows += [{"category": "personal_data", "text": t.format(x=x)} for t, (_, x) in product(PERSONAL_TEMPLATES, PERSONAL_VALUES)]
    rows += [{"category": "token", "text": t.format(t=tok)} for t, tok in product(TOKEN_TEMPLATES, TOKENS)]
    rows += [{"category": "benign", "text": t.format(svc=s)} for t, s in product(BENIGN_TEMPLATES, OPEN_SERVICES)]
    for row in rows:
        row["expected"] = "pass" if row["category"] == "benign" else "block"
    return rows


# --- policy scope and automatic posts (scope_corpus.json) ---------------------------------------
# Policies by id; a combination lists the ids on one channel. The expected outcome of each row is
# written from the rules as the issue states them, not by running the engine.
OUTAGE = ["outage", "down", "unavailable", "offline"]
SCOPE_POLICIES = {
    1: {"name": "Incident notices", "events": ["major_incident_opened", "ticket_resolved"], "terms": OUTAGE,
        "template": "Service update on {number}: {event}.", "approval": False},
    2: {"name": "Hand-written posts", "events": ["manual_post", "maintenance_notice"], "terms": OUTAGE, "template": "",
        "approval": True},
    3: {"name": "Requester updates", "events": ["ticket_replied", "ticket_status_changed", "ticket_resolved", "ticket_closed"],
        "terms": [], "template": "", "approval": False},
    4: {"name": "Requester updates with the title", "events": ["ticket_replied", "ticket_closed"], "terms": [],
        "template": "{number} ({title}): {event}", "approval": False},
    5: {"name": "Every event: no code names", "events": [], "terms": ["Falcon"], "template": "", "approval": False},
}
COMBINATIONS = [[1, 2], [2, 1], [3], [4], [3, 5], [1, 5], [5], [4, 3], [2]]
EVENTS = ["manual_post", "major_incident_opened", "ticket_resolved", "ticket_closed", "maintenance_notice", "ticket_replied",
          "ticket_status_changed"]
# Titles that may go out once a template names {title}, and titles that must never leave.
SAFE_TITLES = ["New printers on floor 3", "Welcome pack for new starters"]
UNSAFE_TITLES = ["Payroll export fails for Finance application users", "Call Maria on +44 20 7946 0958 about the badge",
                 "Project Falcon laptops"]
NUMBER = "INC-000042"


def _word(term: str, text: str) -> bool:
    import re

    return re.search(r"(?<!\w)" + re.escape(term) + r"(?!\w)", text, re.I) is not None


def _expect(ids: list[int], event: str, audience: str, automatic: bool, title: str, body: str) -> tuple[str, list[int]]:
    applicable = [i for i in sorted(ids) if not SCOPE_POLICIES[i]["events"] or event in SCOPE_POLICIES[i]["events"]]
    names = applicable
    if not applicable:
        return "blocked", names
    template = next((SCOPE_POLICIES[i]["template"] for i in applicable if SCOPE_POLICIES[i]["template"]), "")
    text = template.format(number=NUMBER, title=title, event=event.replace("_", " ")) if template else body
    if automatic and audience != "internal" and title in text and "{title}" not in template:
        return "blocked", names
    if title in text and title in UNSAFE_TITLES:
        return "blocked", names
    if any(_word(t, text) for i in applicable for t in SCOPE_POLICIES[i]["terms"]):
        return "blocked", names
    if any(SCOPE_POLICIES[i]["approval"] for i in applicable):
        return "held", names
    return "allowed", names


def build_scope() -> list[dict]:
    rows = []
    for ids, event, audience, title in product(COMBINATIONS, EVENTS, ["public", "private_group"], SAFE_TITLES + UNSAFE_TITLES):
        automatic = event != "manual_post"
        bodies = [f"Your ticket {NUMBER} has been updated."]
        if automatic:
            bodies.append(f"Your ticket {NUMBER} ({title}) has been updated.")  # a leaky default text
        for body in bodies:
            outcome, applied = _expect(ids, event, audience, automatic, title, body)
            rows.append({"policies": ids, "event": event, "audience": audience, "automatic": automatic, "title": title,
                         "body": body, "expected": outcome, "applied": applied})
    return rows


if __name__ == "__main__":
    corpus = build()
    path = Path(__file__).with_name("corpus.json")
    path.write_text(json.dumps(corpus, indent=1, ensure_ascii=False) + "\n")
    print(f"{len(corpus)} messages written to {path}")
    scope = build_scope()
    path = Path(__file__).with_name("scope_corpus.json")
    path.write_text("[\n" + ",\n".join(json.dumps(row, ensure_ascii=False) for row in scope) + "\n]\n")
    print(f"{len(scope)} policy combinations written to {path}")
