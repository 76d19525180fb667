"""Bearer-key check for every /api and /v1 route when PRESSQA_API_KEYS is set."""

from __future__ import annotations

import hmac

from fastapi import HTTPException, Request


def _key_matches(candidate: str, keys: list[str]) -> bool:
    """Constant-time against every key, so timing reveals neither the key nor which one matched."""
    given = candidate.encode("utf-8")
    found = False
    for key in keys:
        found |= hmac.compare_digest(given, key.encode("utf-8"))
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
