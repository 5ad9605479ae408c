"""What goes over the wire: a request as the handlers see it, their responses, and LinkedIn's
error bodies."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from typing import Any
from urllib.parse import parse_qsl

# (status, serviceErrorCode, message). 65600-65604 and 100 are LinkedIn's own codes; the others
# are stand-ins where LinkedIn documents none.
_API_ERRORS: dict[str, tuple[int, int, str]] = {
    "empty_token": (401, 65604, "Empty oauth2_access_token"),
    "invalid_token": (401, 65600, "Invalid access token"),
    "revoked": (401, 65601, "The token used in the request has been revoked by the user"),
    "expired": (401, 65602, "The token used in the request has expired"),
    "forbidden": (403, 100, "Not enough permissions to access: {}"),
    "bad_request": (400, 2, "{}"),
    "unreachable": (422, 3, "{} is not a first-degree connection of the sender"),
    "throttled": (429, 101, "Resource level throttle MEMBER DAY limit for calls to {} reached"),
    "not_found": (404, 4, "No resource at {}"),
    "server": (500, 1, "{}"),
}


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: Message
    body: bytes

    def form(self) -> dict[str, str]:
        content_type = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if content_type != "application/x-www-form-urlencoded":
            return {}
        return dict(parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True))

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except (ValueError, UnicodeDecodeError):
            raise Reject(api_error("bad_request", "The request body is not valid JSON")) from None


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


class Reject(Exception):
    """Raised by a check deep in a handler to answer with an error response at once."""

    def __init__(self, response: Response) -> None:
        self.response = response


def json_response(status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(status, json.dumps(payload).encode(), "application/json", dict(headers or {}))


def html_response(status: int, page: str) -> Response:
    return Response(status, page.encode(), "text/html; charset=utf-8")


def api_error(kind: str, detail: str = "") -> Response:
    status, code, message = _API_ERRORS[kind]
    payload = {"message": message.format(detail), "serviceErrorCode": code, "status": status}
    return json_response(status, payload)


def oauth_error(status: int, error: str, description: str) -> Response:
    return json_response(status, {"error": error, "error_description": description})


def iso_time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()
