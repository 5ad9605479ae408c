"""The sandbox's LinkedIn members: invented people to sign in as, and their pictures."""

from __future__ import annotations

import hashlib
import html
from dataclasses import dataclass


@dataclass(frozen=True)
class SandboxMember:
    sub: str
    given_name: str
    family_name: str
    email: str

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @property
    def urn(self) -> str:
        return f"urn:li:person:{self.sub}"


# Invented people. One name is non-ASCII on purpose: real members' names are.
DEFAULT_MEMBERS = (
    SandboxMember("sbx-maya-okafor", "Maya", "Okafor", "maya.okafor@example.com"),
    SandboxMember("sbx-lukas-brenner", "Lukas", "Brenner", "lukas.brenner@example.com"),
    SandboxMember("sbx-sofia-marquez", "Sofía", "Márquez", "sofia.marquez@example.com"),
    SandboxMember("sbx-kenji-watanabe", "Kenji", "Watanabe", "kenji.watanabe@example.com"),
)


def avatar_svg(member: SandboxMember) -> str:
    initials = html.escape(member.given_name[:1] + member.family_name[:1])
    hue = int(hashlib.sha256(member.sub.encode()).hexdigest()[:2], 16) * 360 // 256
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100">'
        f'<circle cx="50" cy="50" r="50" fill="hsl({hue},45%,45%)"/><text x="50" y="62" '
        f'font-size="36" text-anchor="middle" fill="#fff" font-family="sans-serif">{initials}'
        "</text></svg>"
    )
