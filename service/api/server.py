"""`pressqa serve`: uvicorn on settings.host:settings.port; the page is up before the models are."""

from __future__ import annotations

import logging

import uvicorn

from pressqa.settings import Settings
from service.api.app import create_app


def serve(settings: Settings, index_bundled: bool = False) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_app(settings, index_bundled=index_bundled)
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    print(f"pressqa: chat page at http://{host}:{settings.port}/  (API docs at /docs; models load in the background, see /readyz)", flush=True)
    if index_bundled:
        print(f"pressqa: indexing the bundled corpus {settings.corpus} in the background (seed first)", flush=True)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="info", proxy_headers=False, server_header=False)
