"""The sandbox's own endpoints under `/sandbox/`: what it holds, faults, resets, token expiry,
its clock, and members' pictures. LinkedIn has none of these."""

from __future__ import annotations

from messaging.sandbox.members import avatar_svg
from messaging.sandbox.messages import MESSAGES_PATH
from messaging.sandbox.protocol import Request, Response, api_error, iso_time, json_response


class ControlAPI:
    """LinkedInSandbox's control API: its in-process methods over HTTP, for the demo and for
    tests in other processes. A part of LinkedInSandbox (server.py)."""

    def _control_health(self, request: Request) -> Response:
        return json_response(200, {"status": "ok"})

    def _control_members(self, request: Request) -> Response:
        members = [
            {"sub": m.sub, "name": m.name, "email": m.email, "urn": m.urn}
            for m in self.members.values()
        ]
        return json_response(200, members)

    def _control_messages(self, request: Request) -> Response:
        return json_response(200, self.sent_messages())

    def _control_pending_faults(self, request: Request) -> Response:
        return json_response(200, self.pending_faults())

    def _control_faults(self, request: Request) -> Response:
        payload = request.json()
        try:
            faults = payload["faults"]
            if not isinstance(faults, list):
                raise ValueError("faults must be a list")
            pending = self.add_faults(faults, payload.get("path", MESSAGES_PATH))
        except (ValueError, KeyError, TypeError) as exc:
            return json_response(400, {"error": f"bad fault request: {exc}"})
        return json_response(200, {"queued": len(faults), "pending": pending})

    def _control_clear_faults(self, request: Request) -> Response:
        return json_response(200, {"cleared": self.clear_faults()})

    def _control_redirect_uris(self, request: Request) -> Response:
        return json_response(200, self.redirect_uris_used())

    def _control_authorizations(self, request: Request) -> Response:
        return json_response(200, self.authorizations())

    def _control_reset(self, request: Request) -> Response:
        self.reset()
        return json_response(200, {"reset": True})

    def _control_expire_token(self, request: Request) -> Response:
        payload = request.json()
        target = payload.get("sub") or payload.get("token") if isinstance(payload, dict) else None
        status = payload.get("status", "expired") if isinstance(payload, dict) else None
        if not isinstance(target, str) or status not in ("expired", "revoked"):
            return json_response(400, {"error": 'send {"sub": ...} or {"token": ...}'})
        return json_response(200, {"changed": self.expire_token(target, status=status)})

    def _control_clock(self, request: Request) -> Response:
        payload = request.json()
        try:
            self.advance_clock(float(payload["advance"]))
        except (ValueError, KeyError, TypeError):
            return json_response(400, {"error": 'send {"advance": seconds}'})
        return json_response(200, {"now": iso_time(self.now())})

    def _avatar(self, request: Request) -> Response:
        member = self.members.get(request.path.rsplit("/", 1)[-1].removesuffix(".svg"))
        if member is None:
            return api_error("not_found", request.path)
        return Response(200, avatar_svg(member).encode(), "image/svg+xml")
