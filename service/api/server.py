"""`pressqa serve`: uvicorn on settings.host:settings.port; the page is up before the models are."""

from __future__ import annotations

import sys

import uvicorn

from core.store_lock import DataDirInUse, hold_data_dir
from pressqa.logs import setup_logging
from pressqa.settings import Settings
from service.api.access_log import uvicorn_log_config
from service.api.app import create_app


def serve(settings: Settings, index_bundled: bool = False) -> None:
    setup_logging()
    # Refuse at once, not in the background start-up: a second server on an embedded store would drift apart.
    try:
        data_dir_hold = None if settings.chroma_url else hold_data_dir(settings.data)
    except DataDirInUse as exc:
        print(f"pressqa: cannot serve: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None
    app = create_app(settings, index_bundled=index_bundled)
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    print(f"pressqa: chat page at http://{host}:{settings.port}/  (API docs at /docs; models load in the background, see /readyz)", flush=True)
    if index_bundled:
        print(f"pressqa: indexing the bundled corpus {settings.corpus} in the background (seed first)", flush=True)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="info", log_config=uvicorn_log_config(), proxy_headers=False, server_header=False)
    del data_dir_hold  # held until uvicorn returns
