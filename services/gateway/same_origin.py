"""Cross-site request forgery: a browser's state-changing request must come from our pages.

The session cookie is SameSite=Strict, and on top of that an unsafe request (POST, PUT,
PATCH, DELETE) without a bearer token is refused when the browser says it is cross-site
(Sec-Fetch-Site) or its Origin is not this host. Clients with a bearer token send no cookie
a forger could ride on, and command-line clients send neither header.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import Request

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# "none" is a request the user made directly (typed, bookmarked); never a forged one.
ALLOWED_FETCH_SITES = frozenset({"same-origin", "none"})


def cross_site_refusal(request: Request) -> str | None:
    """Why the request looks forged, or None when it may go on."""
    if request.method in SAFE_METHODS or request.headers.get("authorization"):
        return None
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site not in ALLOWED_FETCH_SITES:
        return f"a {fetch_site} request may not change anything; use the gateway's own pages"
    origin = request.headers.get("origin")
    if origin is not None and urlsplit(origin).netloc != request.headers.get("host"):
        return "the Origin is not this gateway; cross-site requests may not change anything"
    return None
