"""The LinkedIn sandbox: a local LinkedIn look-alike for development and tests (docs/sandbox.md).

A real HTTP server (standard library only, no Django) that speaks the parts of LinkedIn's
protocol the product uses: OpenID Connect sign-in, token refresh and introspection, userinfo and
the Messages API, with LinkedIn's headers, status codes and error shapes. It keeps what it
accepted for inspection and fails on request the ways LinkedIn does (throttling, outages, slow
answers, dropped connections).

Development code, kept apart from the product: only `manage.py linkedin_sandbox` and the tests
import it. Anyone who can reach it can mint tokens: never run it in production.

- `server.py`: `LinkedInSandbox`, its state, clock, routing and lifecycle, and the HTTP server
- `oauth.py`: OpenID Connect, codes and tokens, introspection, userinfo
- `messages.py`: the Messages API
- `faults.py`: failing on request
- `control.py`: the sandbox's own `/sandbox/` endpoints
- `protocol.py`: requests, responses and LinkedIn's error bodies
- `members.py`, `pages.py`: the invented members; the sign-in and error pages
- `state.py`: the file that keeps what it issued across restarts
"""

from messaging.sandbox.members import DEFAULT_MEMBERS, SandboxMember
from messaging.sandbox.server import LinkedInSandbox
from messaging.sandbox.state import StateFileError

__all__ = ["DEFAULT_MEMBERS", "LinkedInSandbox", "SandboxMember", "StateFileError"]
