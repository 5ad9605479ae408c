"""Failing on request the ways LinkedIn does: error statuses, Retry-After, slow answers and
dropped connections, queued per path through the control API or in process."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from messaging.sandbox.messages import MESSAGES_PATH
from messaging.sandbox.protocol import Response, api_error, json_response, oauth_error

# After a 500/502/504 LinkedIn may have acted (the message may be delivered); after 429, 503 or
# 401 it did nothing. Faults mirror that: the first kind processes the request before failing.
AMBIGUOUS_FAULT_STATUSES = frozenset({500, 502, 504})


@dataclass
class Fault:
    path: str
    status: int | None = None
    retry_after: str | None = None
    delay: float = 0.0
    drop: bool = False


class FaultInjection:
    """LinkedInSandbox's queue of faults, which its `handle` (server.py) consumes. A part of
    LinkedInSandbox, whose lock it uses."""

    def add_faults(self, faults: Iterable[dict[str, Any]], path: str = MESSAGES_PATH) -> int:
        """Queue faults; each request to their path consumes the next one. Returns the backlog."""
        parsed = [_parse_fault(raw, path) for raw in faults]
        with self._lock:
            self._faults.extend(parsed)
            return len(self._faults)

    def clear_faults(self) -> int:
        """Drop the faults still waiting for a request; returns how many."""
        with self._lock:
            count, self._faults = len(self._faults), []
            return count

    def pending_faults(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(vars(f)) for f in self._faults]

    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for index, fault in enumerate(self._faults):
                if fault.path == path:
                    return self._faults.pop(index)
        return None

    def _fault_response(self, path: str, fault: Fault) -> Response:
        status = fault.status or 500
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = f"HTTP {status}"
        if path.startswith("/oauth/"):
            response = oauth_error(status, "server_error", reason)
        elif status in (401, 429):
            response = api_error("invalid_token" if status == 401 else "throttled", path)
        else:
            response = json_response(
                status, {"message": reason, "serviceErrorCode": 1, "status": status}
            )
        if fault.retry_after is not None:
            response.headers["Retry-After"] = fault.retry_after
        return response


def _parse_fault(raw: Any, default_path: str) -> Fault:
    if not isinstance(raw, dict):
        raise ValueError("each fault must be an object")
    if unknown := set(raw) - {"status", "retry_after", "delay", "drop", "path"}:
        raise ValueError(f"unknown fault keys {sorted(unknown)}")
    path, status, delay = raw.get("path", default_path), raw.get("status"), raw.get("delay", 0)
    if not isinstance(path, str) or not path.startswith("/") or path.startswith("/sandbox/"):
        raise ValueError("a fault's path must be a LinkedIn path such as /v2/messages")
    if status is not None and (not isinstance(status, int) or not 400 <= status <= 599):
        raise ValueError("status must be an HTTP error status, 400-599")
    if not isinstance(delay, int | float) or not 0 <= delay <= 120:
        raise ValueError("delay must be 0-120 seconds")
    if status is None and not delay and not raw.get("drop"):
        raise ValueError("a fault needs a status, a delay or drop")
    retry_after = raw.get("retry_after")
    return Fault(
        path,
        status,
        None if retry_after is None else str(retry_after),
        delay,
        bool(raw.get("drop")),
    )
