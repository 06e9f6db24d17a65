"""The staff console's page. Like the portal it is a client of the public /v1 operations and signs in
through the same browser session (``/portal/session``: an HttpOnly, SameSite=Strict cookie and a CSRF
token); the page itself holds no data and no secret, so serving it to anyone is safe: the API decides
what each role may read or change."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from litestar import Controller, Response, get

CONSOLE_ASSETS = Path(__file__).resolve().parent.parent / "static" / "console"
CONSOLE_ASSETS_URL = "/console/assets"

# Scripts and styles from this origin only (the portal's request module included); no inline code.
CONSOLE_POLICY = (
    "default-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


@cache
def _shell() -> str:
    return (CONSOLE_ASSETS / "index.html").read_text()


class ConsoleController(Controller):
    tags = ["console"]

    @get("/console", include_in_schema=False, media_type="text/html")
    async def page(self) -> Response[str]:
        return Response(
            _shell(),
            media_type="text/html",
            headers={
                "Content-Security-Policy": CONSOLE_POLICY,
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "same-origin",
                "Cache-Control": "no-store",
            },
        )
