"""The demo's dealings with the LinkedIn sandbox's control API (messaging/sandbox/)."""

from __future__ import annotations

import datetime

import requests


def sandbox_answers(base_url: str) -> bool:
    try:
        response = requests.get(f"{base_url}/sandbox/health", timeout=3)
        return response.ok and response.json().get("status") == "ok"
    except (requests.RequestException, ValueError):
        return False


class SandboxClock:
    """Keeps the sandbox's clock at the demo's time (over its control API), so that the tokens
    it issues and the messages it accepts carry the dates the demo says they happened."""

    # A little behind ours: an ID token signed "in the future" of our clock would be refused.
    LAG = datetime.timedelta(seconds=30)

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        self.moved = 0.0
        self.synced_for: datetime.datetime | None = None

    def sync(self, when: datetime.datetime, *, force: bool = False) -> None:
        # Within half an hour is close enough for a message's date; a sign-in syncs exactly.
        if (
            not force
            and self.synced_for
            and abs(when - self.synced_for) < datetime.timedelta(minutes=30)
        ):
            return
        theirs = datetime.datetime.fromisoformat(self._advance(0)["now"])
        delta = (when - self.LAG - theirs).total_seconds()
        if abs(delta) >= 1:
            self._advance(delta)
            self.moved += delta
        self.synced_for = when

    def restore(self) -> None:
        if self.moved:
            self._advance(-self.moved)
            self.moved = 0.0

    def _advance(self, seconds: float) -> dict:
        response = self.session.post(
            f"{self.base_url}/sandbox/clock", json={"advance": seconds}, timeout=10
        )
        response.raise_for_status()
        return response.json()
