"""``GET /dashboard``: one self-contained HTML page (inline CSS and JS) that watches the queue.

The page is a static shell: it holds no data and is public (see ``PUBLIC_PATHS``); everything it shows comes
from the JSON endpoints, which it calls with the operator's token when ``API_TOKEN`` is set.
"""

from __future__ import annotations

from importlib import resources

from aiohttp import web

routes = web.RouteTableDef()

#: read once at import: the page never changes while the process runs
PAGE: bytes = (resources.files('bloodq.api') / 'static' / 'dashboard.html').read_bytes()

#: the page loads nothing from elsewhere; inline style and script are its only code
CSP = "default-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'; img-src 'self' data:"

HEADERS = {
    'Cache-Control': 'no-store',
    'Content-Security-Policy': CSP,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
}


@routes.get('/dashboard')
async def dashboard(request: web.Request) -> web.Response:
    """The dashboard page, never cached, under a strict Content-Security-Policy."""
    return web.Response(body=PAGE, content_type='text/html', charset='utf-8', headers=HEADERS)
