"""The sandbox's HTML: the sign-in (consent) page a member approves on, and its error page."""

from __future__ import annotations

import html

from messaging.sandbox.members import SandboxMember

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} · LinkedIn sandbox</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem}}
fieldset{{border:1px solid #ccc;border-radius:.5rem}}.member{{margin:.5rem 0}}
.hint{{color:#555;font-size:.9em}}button{{padding:.5rem 1.2rem;margin-right:.5rem}}
[role=alert]{{color:#a00}}</style></head>
<body><p class="hint">LinkedIn sandbox: a local stand-in for linkedin.com</p>
<main>{content}</main></body></html>"""


def error_page(message: str) -> str:
    content = f"<h1>Something went wrong</h1><p role='alert'>{html.escape(message)}</p>"
    return _PAGE.format(title="Error", content=content)


def consent_page(
    members: list[SandboxMember],
    hidden: dict[str, str],
    scopes: tuple[str, ...],
    selected: str,
    problem: str | None,
) -> str:
    e = html.escape
    if selected not in {m.sub for m in members}:
        selected = members[0].sub if members else ""
    # Labelled radios and named buttons, so a browser test can pick "Maya Okafor" by its label.
    rows = "".join(
        f'<div class="member"><input type="radio" name="sandbox_member" id="member-{e(m.sub)}" '
        f'value="{e(m.sub)}" aria-describedby="email-{e(m.sub)}"'
        f"{' checked' if m.sub == selected else ''}> "
        f'<label for="member-{e(m.sub)}">{e(m.name)}</label> '
        f'<span class="hint" id="email-{e(m.sub)}">{e(m.email)}</span></div>'
        for m in members
    )
    fields = "".join(
        f'<input type="hidden" name="{e(k)}" value="{e(v)}">'
        for k, v in hidden.items()
        if k != "sandbox_member"
    )
    content = (
        f"<h1>Sign in with LinkedIn</h1><p>The application <strong>"
        f"{e(hidden.get('client_id', ''))}</strong> asks for: {e(', '.join(scopes))}.</p>"
        + (f"<p role='alert'>{e(problem)}</p>" if problem else "")
        + f'<form method="post" action="/oauth/v2/authorization">{fields}'
        f"<fieldset><legend>Sign in as</legend>{rows}</fieldset>"
        '<p><button type="submit" name="decision" value="approve">Approve</button>'
        '<button type="submit" name="decision" value="cancel">Cancel</button></p></form>'
    )
    return _PAGE.format(title="Sign in", content=content)
