"""The LinkedIn sandbox: a local LinkedIn look-alike for development and tests (DESIGN §8).

Development code, kept apart from the product: only `manage.py linkedin_sandbox` and the tests
import it. Anyone who can reach it can mint tokens: never run it in production.

`server.py` holds the sandbox and its HTTP server; `state.py` the file that keeps what it
issued across restarts.
"""

from messaging.sandbox.server import DEFAULT_MEMBERS, LinkedInSandbox, SandboxMember
from messaging.sandbox.state import StateFileError

__all__ = ["DEFAULT_MEMBERS", "LinkedInSandbox", "SandboxMember", "StateFileError"]
