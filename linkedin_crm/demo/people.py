"""Invented but realistic people for demos and benchmarks — never real LinkedIn data.

Two ways in: `seed_contacts` bulk-writes contacts straight into a network (fast: benchmarks and
`seed_demo --contacts N`); `demo_people` + `connections_csv` write LinkedIn Connections.csv files
that go through the real importer (`seed_demo --full`).
"""

import csv
import hashlib
import io
import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import quote

from django.db import transaction
from django.utils import timezone

from contacts.models import Connection, Contact, Network, Stage, Tag

FIRST_NAMES = [
    "Anna",
    "Ben",
    "Chloé",
    "Dmitri",
    "Elif",
    "François",
    "Giulia",
    "Hannah",
    "Ibrahim",
    "Jürgen",
    "Kaito",
    "Laura",
    "Mateo",
    "Nora",
    "Oğuz",
    "Priya",
    "Quentin",
    "Renée",
    "Søren",
    "Tomás",
    "Ulla",
    "Valentina",
    "Wei",
    "Ximena",
    "Yusuf",
    "Zoë",
    "Aarav",
    "Björn",
    "Camila",
    "Dara",
    "Émile",
    "Fatima",
    "Grzegorz",
    "Hiroshi",
    "Ines",
    "Jana",
    "Kwame",
    "Lena",
    "Małgorzata",
    "Niamh",
    "Olumide",
    "Pooja",
    "Rafael",
    "Sakura",
    "Thandiwe",
    "Uwe",
    "Vikram",
    "Wiktoria",
    "Yara",
    "Zainab",
    "李",
    "María José",
    "Seo-yeon",
    "Anaïs",
    "Łukasz",
    "Noémie",
    "Ahmad",
]
LAST_NAMES = [
    "Müller",
    "Schmidt",
    "García",
    "Rossi",
    "Dubois",
    "Nowak",
    "Johansson",
    "Kowalski",
    "Smith",
    "Okafor",
    "Tanaka",
    "Kim",
    "Nguyen",
    "Patel",
    "Singh",
    "Silva",
    "Santos",
    "O'Brien",
    "Murphy",
    "Jansen",
    "de Vries",
    "Novák",
    "Horváth",
    "Popescu",
    "Yılmaz",
    "Papadopoulos",
    "Andersen",
    "Virtanen",
    "Costa",
    "Ferreira",
    "Lefèvre",
    "Østergaard",
    "Brown",
    "Wilson",
    "Martínez",
    "López",
    "Hernández",
    "Ivanova",
    "Kuznetsov",
    "Cohen",
    "Haddad",
    "Mensah",
    "Chen",
    "Wang",
    "Zhang",
    "Liu",
    "佐藤",
    "Fischer",
    "Weber",
    "Becker",
    "Goslee, CPA",
    "Ó Súilleabháin",
]
COMPANIES = [
    "Acme Analytics",
    "Brightwave Labs",
    "Northwind Traders",
    "Globex",
    "Initech",
    "Umbrella Health",
    "Stark Logistics",
    "Wayne Capital",
    "Hooli",
    "Pied Piper",
    "Soylent Foods",
    "Vandelay Industries",
    "Blue Harbor Consulting",
    "Nordlicht GmbH",
    "Société Lumière",
    "Cervantes & Asociados",
    "Kōbō Studio",
    "Tidewater Bank",
    "Quantum Ridge",
    "Maple & Oak Recruiting",
    "Helios Energy",
    "Aurora Robotics",
    "Bergström AB",
    "Polaris Data",
    "Cobalt Security",
    "Zephyr Travel",
    "Lindqvist Design",
    "Orbital Media",
    "Redwood Legal",
    "Saffron Kitchens",
    "Atlas Freight",
    "Meridian Pharma",
    "Evergreen Schools",
    "Copperleaf Software",
    "Granite Insurance",
    "Harbor Lights Hotels",
    "Ironclad Manufacturing",
    "Jade Dragon Trading",
    "Kestrel Ventures",
    "Lumen Optics",
    "Mosaic Marketing",
    "Nimbus Cloud",
    "Opal Fintech",
    "Pinnacle Partners",
    "Quill Publishing",
    "Riverbend Farms",
    "Sequoia Health",
    "Tundra Outdoor",
    "Unity Telecom",
    "Vertex Engineering",
    "Willow Care",
    "Xylo Music",
    "Yonder Games",
    "Zenith Aerospace",
]
POSITIONS = [
    "Head of Sales",
    "Account Executive",
    "Software Engineer",
    "Senior Software Engineer",
    "Engineering Manager",
    "CTO",
    "CEO & Co-founder",
    "Product Manager",
    "Talent Acquisition Lead",
    "Recruiter",
    "Marketing Director",
    "Growth Marketer",
    "Data Scientist",
    "Finance Manager",
    "Operations Lead",
    "Customer Success Manager",
    "UX Designer",
    "HR Business Partner",
    "Partner",
    "Consultant",
    "VP Business Development",
    "Procurement Manager",
    "Founder",
    "Chief Revenue Officer",
    "Solutions Architect",
    "Sales Development Representative",
]
INDUSTRIES = ["Software", "Finance", "Healthcare", "Logistics", "Retail", "Energy", "Media", ""]
TAG_NAMES = ["VIP", "Conference 2025", "Alumni", "Hiring", "Partner", "Investor", "Warm intro"]


def fake_people(count: int, *, seed: int = 1, today: date | None = None):
    """Yield dicts of invented people: unicode names, varied companies, ~5% e-mails, connection
    dates spread over 15 years, unique profile URLs."""
    rng = random.Random(seed)
    today = today or date.today()
    span = 15 * 365
    companies = COMPANIES + [f"{rng.choice(LAST_NAMES)} & Partners {i}" for i in range(250)]
    for index in range(count):
        first = rng.choice(FIRST_NAMES)
        last = rng.choice(LAST_NAMES)
        company = rng.choice(companies) if rng.random() > 0.04 else ""
        slug_base = "".join(ch for ch in f"{first}-{last}".lower() if ch.isalnum() or ch == "-")
        yield {
            "first_name": first,
            "last_name": last,
            "profile_url": f"https://www.linkedin.com/in/{slug_base}-{seed}x{index:07d}",
            "email": f"{slug_base.replace('-', '.')}.{index}@example.com"
            if rng.random() < 0.05
            else "",
            "company": company,
            "position": rng.choice(POSITIONS) if rng.random() > 0.03 else "",
            "industry": rng.choice(INDUSTRIES),
            "connected_on": today - timedelta(days=rng.randrange(span)),
        }


# --- contacts written directly (benchmarks, `seed_demo --contacts N`) -------------------------

SEED_BATCH = 5000


def seed_contacts(count: int, *, network: Network, seed: int = 1) -> int:
    """Bulk-create `count` invented contacts with connections and some tags and stages."""
    rng = random.Random(seed)
    tags = [Tag.get_or_create_named(name) for name in TAG_NAMES]
    stages = (
        [Stage.LEAD] * 80
        + [Stage.CONTACTED] * 10
        + [Stage.REPLIED] * 5
        + [
            Stage.MEETING,
            Stage.CUSTOMER,
            Stage.NOT_INTERESTED,
        ]
        * 2
    )
    now = timezone.now()
    people = fake_people(count, seed=seed)
    created = 0
    while created < count:
        chunk = [next(people) for _ in range(min(SEED_BATCH, count - created))]
        with transaction.atomic():
            contacts = []
            for offset, person in enumerate(chunk):
                contact = Contact(
                    first_name=person["first_name"],
                    last_name=person["last_name"],
                    profile_url=person["profile_url"],
                    email=person["email"],
                    company=person["company"],
                    position=person["position"],
                    industry=person["industry"],
                    stage=rng.choice(stages),
                    created_at=now - timedelta(seconds=count - created - offset),
                )
                contact.refresh_derived_fields()
                contacts.append(contact)
            Contact.objects.bulk_create(contacts, batch_size=1000)
            if contacts[0].pk is None:  # databases that do not return ids from bulk inserts
                urls = [c.profile_url for c in contacts]
                ids = dict(
                    Contact.objects.filter(profile_url__in=urls).values_list("profile_url", "pk")
                )
                for contact in contacts:
                    contact.pk = ids[contact.profile_url]
            Connection.objects.bulk_create(
                [
                    Connection(contact=c, network=network, connected_on=p["connected_on"])
                    for c, p in zip(contacts, chunk, strict=True)
                ],
                batch_size=1000,
            )
            through = Contact.tags.through
            links = [
                through(contact_id=c.pk, tag_id=tag.pk)
                for c in contacts
                for tag in rng.sample(tags, k=rng.choice([0, 0, 0, 1, 1, 2]))
            ]
            through.objects.bulk_create(links, batch_size=2000)
        created += len(chunk)
    return created


# --- Connections.csv files for the real importer (`seed_demo --full`) ------------------------

# More names for the demo's exports (the lists above stay as the benchmarks know them): with
# few names, many invented people would share a name and a company by chance.
MORE_FIRST_NAMES = [
    "Adaeze",
    "Agnieszka",
    "Alejandro",
    "Amara",
    "Anders",
    "Astrid",
    "Bogdan",
    "Carmen",
    "Chiara",
    "Darius",
    "Eero",
    "Esra",
    "Farah",
    "Felipe",
    "Gwen",
    "Hamza",
    "Hye-jin",
    "Ingrid",
    "Ivo",
    "Jasmin",
    "Joaquín",
    "Kalani",
    "Kasia",
    "Lars",
    "Leilani",
    "Lucía",
    "Mads",
    "Mirela",
    "Nadia",
    "Nikolai",
    "Orla",
    "Paulo",
    "Radka",
    "Rui",
    "Saoirse",
    "Selin",
    "Siddharth",
    "Taini",
    "Teodora",
    "Thiago",
]
MORE_LAST_NAMES = [
    "Abara",
    "Achterberg",
    "Baptiste",
    "Bianchi",
    "Castillo",
    "Dąbrowski",
    "Eriksen",
    "Fontaine",
    "Galić",
    "Gruber",
    "Haugen",
    "Iwasaki",
    "Jovanović",
    "Kaya",
    "Keller",
    "Lindgren",
    "Madsen",
    "Moreau",
    "Navarro",
    "Nieminen",
    "Oliveira",
    "Pereira",
    "Quispe",
    "Rahman",
    "Ribeiro",
    "Sánchez",
    "Schäfer",
    "Sørensen",
    "Takahashi",
    "Tran",
    "Ueda",
    "Dijkstra",
    "Vasquez",
    "Wójcik",
    "Yamamoto",
    "Zielińska",
]

# What members put in their LinkedIn names: emoji, pronouns, credentials.
NAME_DECORATIONS = [" 🚀", " ✨", " 🌍", " ☕", " 🌻", " (she/her)", " (he/him)", ", MBA", ", PhD"]
MORE_COMPANIES = [
    f"{stem} {kind}"
    for stem in [
        "Lindqvist",
        "Brenner",
        "Okonkwo",
        "Sato",
        "Marlowe",
        "Fjord",
        "Cedar",
        "Altamira",
        "Kestrel",
        "Ampersand",
        "Halcyon",
        "Tessellate",
    ]
    for kind in ["Consulting", "GmbH", "Labs", "Group", "& Co.", "SAS", "Ltd", "Studio"]
]

# LinkedIn's note above the header of every export since 2021 (see tests/fixtures/linkedin).
CONNECTIONS_NOTE = (
    "When exporting your connection data, you may notice that some of the email addresses are "
    "missing. You will only see email addresses for connections who have allowed their "
    "connections to see or download their email address using this setting "
    "https://www.linkedin.com/psettings/privacy/email"
)
CONNECTIONS_HEADER = [
    "First Name",
    "Last Name",
    "URL",
    "Email Address",
    "Company",
    "Position",
    "Connected On",
]


@dataclass(frozen=True)
class DemoPerson:
    first_name: str
    last_name: str
    profile_url: str  # as LinkedIn writes it (non-ASCII slugs percent-encoded); "" when absent
    email: str
    company: str
    position: str


def demo_people(count: int, *, seed: int = 1) -> list[DemoPerson]:
    """`count` invented LinkedIn members as their connections' exports show them: names with
    accents, emoji, pronouns and credentials; companies from a few large employers down to
    many small ones; e-mail for about 6%; a profile URL for nearly all."""
    rng = random.Random(seed)
    companies = COMPANIES + MORE_COMPANIES
    # A few employers account for many connections, most for a handful (a Zipf-like spread).
    weights = [1 / (rank + 1) ** 0.9 for rank in range(len(companies))]
    rng.shuffle(companies)
    slugs: set[str] = set()
    people = []
    for _ in range(count):
        first = rng.choice(FIRST_NAMES + MORE_FIRST_NAMES)
        last = rng.choice(LAST_NAMES + MORE_LAST_NAMES)
        ascii_slug = _slug(f"{first}-{last}")
        if rng.random() < 0.1 and not (first + last).isascii():
            base = f"{first}-{last}".lower().replace(" ", "-").replace(",", "")  # kept as is
        else:
            base = ascii_slug or "member"
        slug = f"{base}-{rng.getrandbits(28):07x}"
        while slug in slugs:
            slug = f"{base}-{rng.getrandbits(28):07x}"
        slugs.add(slug)
        if rng.random() < 0.05:
            first += rng.choice(NAME_DECORATIONS[:5])
        elif rng.random() < 0.05:
            last += rng.choice(NAME_DECORATIONS)
        company = rng.choices(companies, weights)[0] if rng.random() > 0.04 else ""
        email = ""
        if rng.random() < 0.06:
            domain = _slug(company) or "mail"
            email = f"{ascii_slug.replace('-', '.') or 'hello'}@{domain}.example"
        people.append(
            DemoPerson(
                first_name=first,
                last_name=last,
                profile_url=""
                if rng.random() < 0.01
                else f"https://www.linkedin.com/in/{quote(slug, safe='-')}",
                email=email,
                company=company,
                position=rng.choice(POSITIONS) if rng.random() > 0.03 else "",
            )
        )
    return people


def demo_member_urn(profile_url: str) -> str:
    """A stable invented member URN for a person (LinkedIn's are opaque ids like `AbC12x9Q`)."""
    digest = hashlib.sha256(profile_url.encode()).hexdigest()
    return f"urn:li:person:{digest[:10]}"


def connections_csv(
    rows: Iterable[tuple[DemoPerson, date]],
    *,
    style: str = "current",
    ghost_rows: int = 0,
    junk_emails: int = 0,
    seed: int | str = 1,
) -> bytes:
    """A Connections.csv as LinkedIn exports it, newest connection first.

    style "current": the 2023→now export (note, URL column, `05 Jan 2026`, LF, no final
    newline). "excel": the same file after Excel re-saved it (UTF-8 BOM, CRLF, the note padded
    with commas, dates as `05-Jan-26`). "2022": the 2021–2023 export, without the URL column.
    Ghost rows (a date and nothing else) and junk e-mails (`urn:li:member:…`) are mixed in as
    real exports have them.
    """
    rng = random.Random(seed)
    with_url = style != "2022"
    header = [h for h in CONNECTIONS_HEADER if with_url or h != "URL"]
    date_format = "%d-%b-%y" if style == "excel" else "%d %b %Y"
    records = []
    for person, connected_on in sorted(rows, key=lambda row: row[1], reverse=True):
        email = person.email
        if junk_emails and not email and rng.random() < 0.01:
            email, junk_emails = f"urn:li:member:{rng.randrange(10**8, 10**9)}", junk_emails - 1
        record = [person.first_name, person.last_name]
        if with_url:
            record.append(person.profile_url)
        record += [email, person.company, person.position, connected_on.strftime(date_format)]
        records.append(record)
    for _ in range(ghost_rows):
        if records:
            position = rng.randrange(len(records))
            date_text = records[position][-1]
            records.insert(position, [""] * (len(header) - 1) + [date_text])
    out = io.StringIO()
    terminator = "\r\n" if style == "excel" else "\n"
    if style == "excel":
        out.write("Notes:" + "," * (len(header) - 1) + terminator)
        csv.writer(out, lineterminator=terminator).writerow(
            [CONNECTIONS_NOTE] + [""] * (len(header) - 1)
        )
        out.write("," * (len(header) - 1) + terminator)
    else:
        out.write("Notes:" + terminator)
        csv.writer(out, lineterminator=terminator).writerow([CONNECTIONS_NOTE])
        out.write(terminator)
    writer = csv.writer(out, lineterminator=terminator)
    writer.writerow(header)
    writer.writerows(records)
    text = out.getvalue().removesuffix(terminator)  # LinkedIn writes no final newline
    return ("\ufeff" if style == "excel" else "").encode() + text.encode("utf-8")


def _slug(text: str) -> str:
    import unicodedata

    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = "".join(ch if ch.isalnum() else " " for ch in ascii_text.lower()).split()
    return "-".join(words)
