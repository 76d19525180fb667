"""Cross-site requests refused: a page of another origin must not upload, delete or ask through a local pressqa.

A multipart or text/plain POST is a CORS "simple request": the browser sends it without a preflight and only
hides the response, so the write itself would happen. Browsers name the sending page in `Origin` on every
cross-origin POST/PUT/PATCH/DELETE (and `Sec-Fetch-Site` when they send no Origin), so comparing it with the
server's own origin stops such writes. Clients that are not browsers (curl, the SDKs, the CLI) send neither
header and are unaffected. CORS is off, so no page of another origin could use the API legitimately anyway.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from service.api.errors import error_response

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CROSS_SITE_FETCH = frozenset({"cross-site", "same-site"})


class SameOriginWritesMiddleware:
    """403 for an unsafe request whose Origin is neither this server's own origin nor one of `extra_origins`.

    The own origin is the request's scheme and Host header; TrustedHostMiddleware runs first, so that Host is one
    of the configured names (a DNS-rebound page has a matching Origin but a foreign Host, and is refused there).
    """

    def __init__(self, app: ASGIApp, extra_origins: Iterable[str] = ()) -> None:
        self.app = app
        self.extra_origins = frozenset(o.lower().rstrip("/") for o in extra_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in UNSAFE_METHODS:
            reason = self._refusal(scope)
            if reason:
                await error_response(403, reason)(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _refusal(self, scope: Scope) -> str | None:
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if origin is None:
            if headers.get("sec-fetch-site", "").lower() in CROSS_SITE_FETCH:
                return "Cross-site request refused: it comes from another site's page."
            return None
        own = f"{scope.get('scheme', 'http')}://{headers.get('host', '')}".lower()
        sent = origin.strip().lower().rstrip("/")
        if sent == own or sent in self.extra_origins:
            return None
        return f"Cross-origin request refused: Origin {origin[:200]!r} is not this server's ({own}); see PRESSQA_ALLOWED_ORIGINS."
