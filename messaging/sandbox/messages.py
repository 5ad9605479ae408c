"""LinkedIn's Messages API: `POST /v2/messages`, its checks and the daily limit per member."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime
from typing import Any

from messaging.sandbox.protocol import Request, Response, api_error, iso_time

MESSAGES_PATH = "/v2/messages"
MAX_BODY_CHARS = 8000
MESSAGING_SCOPE = "w_member_social"
_PERSON_URN = re.compile(r"urn:li:person:([A-Za-z0-9_-]+)")


class MessagesAPI:
    """LinkedInSandbox's Messages API, and the messages it accepted.

    A part of LinkedInSandbox (server.py), whose lock, clock and state file it uses.
    """

    def _send_message(self, request: Request) -> Response:
        token = self._bearer(request)
        if request.headers.get("X-Restli-Protocol-Version") != "2.0.0":
            return api_error("bad_request", "Header X-Restli-Protocol-Version: 2.0.0 is required")
        if MESSAGING_SCOPE not in token.grant.scopes:
            return api_error("forbidden", "POST /messages")
        payload = request.json()
        problem = _message_problem(payload)
        if problem:
            return api_error("bad_request", problem)
        for urn in payload["recipients"]:
            person_id = urn.removeprefix("urn:li:person:")
            if person_id.startswith("unknown") or person_id in self.unreachable:
                return api_error("unreachable", urn)
        sender = token.grant.sub
        with self._lock:  # count and record in one step: concurrent sends must not overshoot
            now = self.now()
            day = (sender, datetime.fromtimestamp(now, UTC).date().isoformat())  # resets 00:00 UTC
            if self._daily_counts.get(day, 0) >= self.daily_limit:
                return api_error("throttled", "this resource")
            self._daily_counts[day] = self._daily_counts.get(day, 0) + 1
            message_id = f"urn:li:messagingMessage:sbx-{secrets.token_hex(12)}"
            message = {
                "id": message_id,
                "sender_sub": sender,
                "recipients": list(payload["recipients"]),
                "subject": payload.get("subject") or "",
                "body": payload["body"],
                "received_at": iso_time(now),
                "idempotency_key": request.headers.get("X-Idempotency-Key"),
            }
            self._sent.append(message)
            self._remember({"kind": "message", "day": day[1], "message": message})
        return Response(201, headers={"x-restli-id": message_id})

    def sent_messages(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(m, recipients=list(m["recipients"])) for m in self._sent]


def _message_problem(payload: Any) -> str | None:
    """Why a Messages API body is invalid, or None."""
    if not isinstance(payload, dict):
        return "The request body must be a JSON object"
    recipients = payload.get("recipients")
    if not isinstance(recipients, list) or not recipients:
        return "recipients must be a non-empty list of person URNs"
    for urn in recipients:
        if not isinstance(urn, str) or not _PERSON_URN.fullmatch(urn):
            return f"Invalid recipient {urn!r}: expected urn:li:person:<id>"
    body = payload.get("body")
    if not isinstance(body, str) or not body.strip():
        return "body must be a non-empty string"
    if len(body) > MAX_BODY_CHARS:
        return f"body must be at most {MAX_BODY_CHARS} characters"
    if not isinstance(payload.get("subject", ""), str | None):
        return "subject must be a string"
    if payload.get("messageType") != "MEMBER_TO_MEMBER":
        return "messageType must be MEMBER_TO_MEMBER"
    return None
