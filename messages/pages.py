"""Plain, accessible HTML pages for the browser routes (no external assets, no secrets).

Every page is built here from escaped text, so a handler only chooses a title,
a message and a status code.
"""

from __future__ import annotations

from html import escape

from starlette.responses import HTMLResponse

STYLE = (
    "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:36rem;margin:4rem auto;"
    "padding:0 1rem;line-height:1.5;color:#1d1c1d}h1{font-size:1.5rem}"
    ".ok h1{color:#007a5a}.error h1{color:#b01c1c}p.hint{color:#616061;font-size:.9rem}"
)


def render(title: str, message: str, *, hint: str = "", kind: str = "ok") -> str:
    hint_html = f'<p class="hint">{escape(hint)}</p>' if hint else ""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)} · Quolum</title><style>{STYLE}</style></head>"
        f'<body class="{kind}"><main role="main"><h1>{escape(title)}</h1>'
        f"<p>{escape(message)}</p>{hint_html}</main></body></html>"
    )


def page(title: str, message: str, *, status: int = 200, hint: str = "") -> HTMLResponse:
    kind = "ok" if status < 400 else "error"
    return HTMLResponse(
        render(title, message, hint=hint, kind=kind),
        status_code=status,
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


# Slack install pages
INSTALL_SUCCESS_TITLE = "Quolum is installed"
INSTALL_SUCCESS = (
    "Quolum Bot was added to {team}. In Slack, type /quolum connect to connect your SaaS accounts."
)
INSTALL_FAILURE_TITLE = "Installation did not finish"
INSTALL_FAILURE = "Slack did not complete the installation ({reason}). Nothing was changed."
INSTALL_FAILURE_HINT = (
    "Start again from the install link. If it keeps failing, contact whoever runs this bot."
)
