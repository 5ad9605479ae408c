"""What happens in the first-run demo and when (linkedin_crm/demo/play.py plays it).

A three-person recruiting team over six weeks: Sofía imports an old export, Maya and Lukas
import fresh ones and connect their LinkedIn accounts (Maya reviews every message in her
Outbox; Lukas lets the worker send), Maya runs an A/B campaign to engineering leaders that
finishes, Lukas starts a three-step referral campaign that is still running today, and
one-off messages, replies, meetings and a few LinkedIn hiccups fill the weeks in between.

Times are (days before today, hour, minute) in UTC unless a time zone is named.
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass, replace
from typing import Any

from linkedin_crm.demo.people import COMPANIES, DemoPerson


@dataclass(frozen=True)
class TeamMember:
    username: str
    first_name: str
    last_name: str
    email: str
    role: str  # linkedin_crm.roles: what each may do (the README names them)


# The sandbox's own members (messaging/sandbox/), so each connects their own account.
TEAM = (
    # The team lead: runs campaigns from everyone's accounts.
    TeamMember("maya", "Maya", "Okafor", "maya.okafor@example.com", role="Manager"),
    # Works his own network, Outbox and campaigns only.
    TeamMember("lukas", "Lukas", "Brenner", "lukas.brenner@example.com", role="Member"),
    # Runs the office: who is on the team with which role, and the audit log.
    TeamMember("sofia", "Sofía", "Márquez", "sofia.marquez@example.com", role="Admin"),
)
DAYS = 42  # the team starts six weeks ago

# Which members' networks a person is in, with weights: most people know one member, some two
# (one contact, two connections), a few all three.
MEMBERSHIPS = (
    (("maya",), 35),
    (("lukas",), 30),
    (("sofia",), 13),
    (("maya", "lukas"), 10),
    (("maya", "sofia"), 5),
    (("lukas", "sofia"), 4),
    (("maya", "lukas", "sofia"), 3),
)

# Sofía's file is an old export (no URL column: her contacts join the others' by name and
# company, or stay without a profile URL); Lukas re-saved his in Excel before uploading.
# Each spec's keys hold values of different types (names, dates, numbers).
EXPORTS: dict[str, dict[str, Any]] = {
    # LinkedIn wrote this format (no URL column) from 2021 to 2023: the file keeps its date.
    "sofia": {
        "file_name": "Connections_2022.csv",
        "style": "2022",
        "exported_on": datetime.date(2022, 6, 2),
        "years": 7,
    },
    "maya": {"file_name": "Connections.csv", "style": "current", "age_days": 41, "years": 9},
    "lukas": {"file_name": "Connections.csv", "style": "excel", "age_days": 42, "years": 12},
}
IMPORTS = {"sofia": (41, 10, 30), "maya": (40, 11, 15), "lukas": (40, 16, 40)}
ENRICH = (39, 14, 0)
TAGS = {
    "Engineering leaders": ["Engineering Manager", "CTO", "Solutions Architect"],
    "Hiring": ["Recruiter", "Talent Acquisition Lead", "HR Business Partner"],
    "VIP": ["CEO & Co-founder", "CTO", "Founder", "Chief Revenue Officer"],
}
# Share of a member's contacts whose member URN someone typed in (the API needs it; the CSV
# export does not have it).
MEMBER_URN_SHARE = {"lukas": 0.6, "maya": 0.35}

CONNECTS = {"maya": (38, 9, 30), "lukas": (38, 9, 45)}
# The account settings form's fields, plus the sandbox member and how the cap grows with the
# demo's size (a bigger network, a bigger cap, so the first campaign ends in time).
ACCOUNTS: dict[str, dict[str, Any]] = {
    "maya": {
        "sandbox_member": "sbx-maya-okafor",
        "mode": "assisted",
        "daily_limit": 25,
        "cap_per_100": 0.9,
        "timezone": "Europe/London",
        "window_days": [0, 1, 2, 3, 4],
        "window_start": "09:00",
        "window_end": "17:00",
        "min_interval_seconds": 420,
        "jitter_seconds": 120,
    },
    "lukas": {
        "sandbox_member": "sbx-lukas-brenner",
        "mode": "automatic",
        "acknowledge_terms": "on",
        "daily_limit": 30,
        "cap_per_100": 1.0,
        "timezone": "Europe/Berlin",
        "window_days": [0, 1, 2, 3, 4],
        "window_start": "08:00",
        "window_end": "18:00",
        "min_interval_seconds": 420,
        "jitter_seconds": 120,
    },
}

# When (local time, working days) members go through their Outbox. Sending from the Outbox
# takes that day's slot of the cap, so a member who cleared it only the next morning would get
# about half the cap out each day; what arrives after the last round waits for tomorrow.
OUTBOX_ROUNDS = ((12, 30), (16, 40))

TEMPLATES_AT = (37, 10, 0)
TEMPLATES = (
    (
        "maya",
        "Catching up",
        'Hi {{ first_name|default:"there" }}, it has been a while! How are things at '
        '{{ company|default:"work" }}? We are hiring for a few engineering teams at the moment '
        "and I would love to hear what you are working on.\n\n{{ sender_first_name }}",
    ),
    (
        "maya",
        "Quick intro",
        'Hi {{ first_name|default:"there" }}, I am {{ sender_name }}, a tech recruiter. I help '
        'teams like {{ company|default:"yours" }} hire senior engineers in weeks rather than '
        "months. Open to a short call next week?",
    ),
    (
        "lukas",
        "Referral programme",
        'Hi {{ first_name|default:"there" }}, we have started a referral programme for talent '
        "partners: a fee for every senior hire you introduce. Shall I send you the one-pager?"
        "\n\n{{ sender_name }}",
    ),
)
FIRST_SENDING_DAY = 37

# (days ago, hour, member, template): one-off messages from the contact list's "Message…".
ONE_OFFS = (
    (36, 10, "maya", "Catching up"),
    (35, 14, "lukas", "Catching up"),
    (31, 9, "maya", "Quick intro"),
    (27, 15, "lukas", "Quick intro"),
    (24, 10, "maya", "Catching up"),
    (22, 13, "lukas", "Catching up"),
    (20, 9, "maya", "Quick intro"),
    (17, 11, "lukas", "Quick intro"),
    (15, 10, "maya", "Catching up"),
    (13, 14, "lukas", "Catching up"),
    (10, 9, "maya", "Quick intro"),
    (6, 13, "maya", "Catching up"),
    (3, 10, "lukas", "Quick intro"),
)
# On the last working day before today Maya queues a few more and does not get round to her
# Outbox again: today they wait there for her.
LAST_DAY_ONE_OFF = ("maya", "Quick intro")

SIGN_OFF = "\n\n– {{ sender_first_name }}"
CAMPAIGNS: dict[str, dict[str, Any]] = {
    "intro": {
        "name": "Engineering leaders: intro",
        "audience": "Engineering leaders (Maya's and Lukas's networks)",
        "owner": "maya",
        "senders": ["maya", "lukas"],
        "filter": [("tags", "Engineering leaders")],
        "launch": (33, 9, 5),
        "steps": [
            (
                0,
                [
                    (
                        "A",
                        'Hi {{ first_name|default:"there" }}, I help engineering leaders at '
                        'companies like {{ company|default:"yours" }} hire senior engineers '
                        "faster. Open to a short call next week?" + SIGN_OFF,
                    ),
                    (
                        "B",
                        'Hi {{ first_name|default:"there" }}, quick question: is hiring senior '
                        'engineers at {{ company|default:"your company" }} on your plate this '
                        "quarter? We usually place them within three weeks. Happy to share how."
                        + SIGN_OFF,
                    ),
                ],
            ),
            (
                4,
                [
                    (
                        "A",
                        'Hi {{ first_name|default:"there" }}, following up on my note from last '
                        "week. If the timing is wrong, no worries; just let me know." + SIGN_OFF,
                    )
                ],
            ),
        ],
        "reply_rates": {"A": 0.09, "B": 0.21},
    },
    "referral": {
        "name": "Talent partners: referral programme",
        "audience": "Recruiters and talent partners (Lukas's network)",
        "owner": "lukas",
        "senders": ["lukas"],
        "filter": [("tags", "Hiring")],
        "launch": (9, 9, 10),
        # Three steps, the last a week after the second: still running today.
        "steps": [
            (
                0,
                [
                    (
                        "A",
                        'Hi {{ first_name|default:"there" }}, we are launching a referral '
                        "programme for talent partners: a fee for every senior hire you "
                        "introduce. Interested in the details?\n\n{{ sender_name }}",
                    ),
                    (
                        "B",
                        'Hi {{ first_name|default:"there" }}! As {{ position|default:"a talent '
                        'partner" }} you hear about great engineers before anyone else. Our '
                        "referral programme pays for every introduction that leads to a hire. "
                        "Shall I send the one-pager?\n\n{{ sender_name }}",
                    ),
                ],
            ),
            (
                4,
                [
                    (
                        "A",
                        'Hi {{ first_name|default:"there" }}, bumping this in case it got '
                        "buried. Happy to send the one-pager." + SIGN_OFF,
                    )
                ],
            ),
            (
                7,
                [
                    (
                        "A",
                        'Last note from me, {{ first_name|default:"there" }}: if the referral '
                        "programme is not for you, no problem at all. All the best!" + SIGN_OFF,
                    )
                ],
            ),
        ],
        "reply_rates": {"A": 0.14, "B": 0.17},
    },
}
MARK_CONTACTED = (14, 15, 0)  # after "intro" has finished
DO_NOT_CONTACT = (20, 11, 0)
# LinkedIn's bad moments, each hitting the next Messages API call: 503 (retried later), 422
# (refused: failed) and 500 (the outcome is unknown: uncertain, left for a person to decide).
FAULTS = ((7, 11, 503), (5, 10, 422), (2, 11, 500))

ONE_OFF_REPLY_RATE = 0.2
FOLLOW_UP_REPLY_RATE = 0.07
REPLY_KINDS = {"positive": 45, "neutral": 25, "negative": 20, "opt_out": 10}
REPLIES = {
    "positive": (
        "Thanks {sender}, happy to chat. Does Thursday afternoon work?",
        "Sounds interesting, send me more details please.",
        "Hi {sender}, yes, let's talk next week.",
        "Gern, lass uns nächste Woche telefonieren!",
        "Avec plaisir, je suis disponible mardi.",
        "¡Hola {sender}! Me interesa, ¿hablamos el lunes?",
        "Good timing actually. Can you share the one-pager? 🙌",
    ),
    "neutral": (
        "Not right now, maybe next quarter.",
        "Thanks, I'll forward this to our head of talent.",
        "Who else do you work with in our space?",
    ),
    "negative": (
        "We're all set, thanks.",
        "Not interested, sorry.",
        "We don't work with agencies.",
    ),
    # Each is an opt-out the product recognises: the contact becomes do-not-contact.
    "opt_out": (
        "Please remove me from your list.",
        "Bitte keine weiteren Nachrichten.",
        "stop",
        "Merci de ne plus me contacter.",
    ),
}


def memberships(count: int, *, seed: int) -> list[tuple[str, ...]]:
    rng = random.Random(f"memberships:{seed}")
    options, weights = zip(*MEMBERSHIPS, strict=True)
    return rng.choices(options, weights, k=count)


def at_old_job(person: DemoPerson, rng: random.Random) -> DemoPerson:
    return replace(person, company=rng.choice(COMPANIES))


def meeting_note(day: datetime.datetime, rng: random.Random) -> str:
    detail = rng.choice(
        [
            "Send the brief beforehand.",
            "They need two senior backend engineers by spring.",
            "Interested in the referral programme.",
            "Asked for references first.",
        ]
    )
    return f"Call booked for {day:%a %d %b}, {rng.choice(['10:00', '14:30', '16:00'])}. {detail}"
