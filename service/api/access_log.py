"""Access-log lines without credentials: query strings are redacted before uvicorn writes them.

Keys are only ever read from the Authorization header, but a client may still put one in the URL
(`?api_key=…`); uvicorn would log it verbatim. Values of credential-like parameters are replaced on every line,
and a refused request (401/403) is logged without its query at all: it is the line an attacker's probe makes.
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

SECRET_PARAM = re.compile(r"(?i)((?:^|[?&;])[^=&;]*(?:key|token|secret|password|passwd|auth|session|signature)[^=&;]*=)[^&;#]*")
REFUSED = {401, 403}


def redact_path(path: str, status: int | None = None) -> str:
    base, sep, query = path.partition("?")
    if not sep:
        return path
    if status in REFUSED:
        return base + "?[redacted]"
    return base + "?" + SECRET_PARAM.sub(r"\1[redacted]", query)


class RedactQueryFilter(logging.Filter):
    """For uvicorn.access records: args are (client, method, path with query, http version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 5 and isinstance(args[2], str):
            status = args[4] if isinstance(args[4], int) else None
            record.args = (*args[:2], redact_path(args[2], status), *args[3:])
        return True


def uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's own logging config with the filter on its access handler."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_query"] = {"()": RedactQueryFilter}
    config["handlers"]["access"].setdefault("filters", []).append("redact_query")
    return config
