"""Invented but realistic people for demos and benchmarks — never real LinkedIn data."""

import random
from datetime import date, timedelta

FIRST_NAMES = [
    "Anna", "Ben", "Chloé", "Dmitri", "Elif", "François", "Giulia", "Hannah", "Ibrahim", "Jürgen",
    "Kaito", "Laura", "Mateo", "Nora", "Oğuz", "Priya", "Quentin", "Renée", "Søren", "Tomás",
    "Ulla", "Valentina", "Wei", "Ximena", "Yusuf", "Zoë", "Aarav", "Björn", "Camila", "Dara",
    "Émile", "Fatima", "Grzegorz", "Hiroshi", "Ines", "Jana", "Kwame", "Lena", "Małgorzata",
    "Niamh", "Olumide", "Pooja", "Rafael", "Sakura", "Thandiwe", "Uwe", "Vikram", "Wiktoria",
    "Yara", "Zainab", "李", "María José", "Seo-yeon", "Anaïs", "Łukasz", "Noémie", "Ahmad",
]
LAST_NAMES = [
    "Müller", "Schmidt", "García", "Rossi", "Dubois", "Nowak", "Johansson", "Kowalski", "Smith",
    "Okafor", "Tanaka", "Kim", "Nguyen", "Patel", "Singh", "Silva", "Santos", "O'Brien", "Murphy",
    "Jansen", "de Vries", "Novák", "Horváth", "Popescu", "Yılmaz", "Papadopoulos", "Andersen",
    "Virtanen", "Costa", "Ferreira", "Lefèvre", "Østergaard", "Brown", "Wilson", "Martínez",
    "López", "Hernández", "Ivanova", "Kuznetsov", "Cohen", "Haddad", "Mensah", "Chen", "Wang",
    "Zhang", "Liu", "佐藤", "Fischer", "Weber", "Becker", "Goslee, CPA", "Ó Súilleabháin",
]
COMPANIES = [
    "Acme Analytics", "Brightwave Labs", "Northwind Traders", "Globex", "Initech", "Umbrella Health",
    "Stark Logistics", "Wayne Capital", "Hooli", "Pied Piper", "Soylent Foods", "Vandelay Industries",
    "Blue Harbor Consulting", "Nordlicht GmbH", "Société Lumière", "Cervantes & Asociados",
    "Kōbō Studio", "Tidewater Bank", "Quantum Ridge", "Maple & Oak Recruiting", "Helios Energy",
    "Aurora Robotics", "Bergström AB", "Polaris Data", "Cobalt Security", "Zephyr Travel",
    "Lindqvist Design", "Orbital Media", "Redwood Legal", "Saffron Kitchens", "Atlas Freight",
    "Meridian Pharma", "Evergreen Schools", "Copperleaf Software", "Granite Insurance",
    "Harbor Lights Hotels", "Ironclad Manufacturing", "Jade Dragon Trading", "Kestrel Ventures",
    "Lumen Optics", "Mosaic Marketing", "Nimbus Cloud", "Opal Fintech", "Pinnacle Partners",
    "Quill Publishing", "Riverbend Farms", "Sequoia Health", "Tundra Outdoor", "Unity Telecom",
    "Vertex Engineering", "Willow Care", "Xylo Music", "Yonder Games", "Zenith Aerospace",
]
POSITIONS = [
    "Head of Sales", "Account Executive", "Software Engineer", "Senior Software Engineer",
    "Engineering Manager", "CTO", "CEO & Co-founder", "Product Manager", "Talent Acquisition Lead",
    "Recruiter", "Marketing Director", "Growth Marketer", "Data Scientist", "Finance Manager",
    "Operations Lead", "Customer Success Manager", "UX Designer", "HR Business Partner",
    "Partner", "Consultant", "VP Business Development", "Procurement Manager", "Founder",
    "Chief Revenue Officer", "Solutions Architect", "Sales Development Representative",
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
