"""Bearer-key check for every /api and /v1 route when PRESSQA_API_KEYS is set."""

from __future__ import annotations

import hashlib
import hmac

from fastapi import HTTPException, Request


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode("utf-8")).digest()


def _key_matches(candidate: str, keys: list[str]) -> bool:
    """Constant time against every key (digests, so not even the length leaks); no early exit."""
    given = _digest(candidate)
    found = False
    for key in keys:
        found |= hmac.compare_digest(given, _digest(key))
    return found


def require_api_key(request: Request) -> None:
    keys: list[str] = request.app.state.settings.api_key_list
    if not keys:
        return
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not _key_matches(token.strip(), keys):
        raise HTTPException(
            status_code=401,
            detail="Missing or wrong API key: send 'Authorization: Bearer <key>'.",
            headers={"WWW-Authenticate": "Bearer"},
        )
