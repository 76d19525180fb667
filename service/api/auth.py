"""Bearer-key check for every /api and /v1 route when PRESSQA_API_KEYS is set.

The check runs in ApiKeyMiddleware, before FastAPI reads or parses a body: a request without a valid key gets
401 whatever it carries (broken JSON, a 20 MiB upload it has not finished sending). The routers also declare
`require_api_key`, which puts the bearer scheme into OpenAPI (so /docs' "Try it out" can send a key) and checks
the key again for any route mounted outside the middleware's prefixes.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

from fastapi import HTTPException, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from service.api.errors import error_response

PROTECTED_PREFIXES = ("/api", "/v1")
MISSING_KEY = "Missing or wrong API key: send 'Authorization: Bearer <key>'."

bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="apiKey",
    description="One of PRESSQA_API_KEYS; needed only when the server has keys set.",
)


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode("utf-8")).digest()


def _key_matches(candidate: str, keys: list[str]) -> bool:
    """Constant time against every key (digests, so not even the length leaks); no early exit."""
    given = _digest(candidate)
    found = False
    for key in keys:
        found |= hmac.compare_digest(given, _digest(key))
    return found


def authorized(authorization: str, keys: list[str]) -> bool:
    scheme, _, token = authorization.partition(" ")
    return scheme.lower() == "bearer" and _key_matches(token.strip(), keys)


def is_protected(path: str, prefixes: Sequence[str] = PROTECTED_PREFIXES) -> bool:
    return any(path == p or path.startswith(p + "/") for p in prefixes)


class ApiKeyMiddleware:
    """401 before the body is read; `Connection: close`, so the server need not drain an unwanted upload."""

    def __init__(self, app: ASGIApp, keys: list[str], prefixes: Sequence[str] = PROTECTED_PREFIXES) -> None:
        self.app = app
        self.keys = list(keys)
        self.prefixes = tuple(prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.keys and is_protected(scope["path"], self.prefixes):
            if not authorized(Headers(scope=scope).get("authorization", ""), self.keys):
                response = error_response(401, MISSING_KEY, headers={"WWW-Authenticate": "Bearer", "Connection": "close"})
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def require_api_key(request: Request, _credentials: HTTPAuthorizationCredentials | None = Security(bearer_scheme)) -> None:
    keys: list[str] = request.app.state.settings.api_key_list
    if keys and not authorized(request.headers.get("authorization", ""), keys):
        raise HTTPException(status_code=401, detail=MISSING_KEY, headers={"WWW-Authenticate": "Bearer"})
