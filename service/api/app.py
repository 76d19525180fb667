"""The app factory: routers, auth, limits, error handlers and the start-up thread."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI
from starlette.middleware.trustedhost import TrustedHostMiddleware

from pressqa.settings import Settings
from service.api.auth import ApiKeyMiddleware, require_api_key
from service.api.errors import install_error_handlers
from service.api.limits import BodyLimitMiddleware
from service.api.origin import SameOriginWritesMiddleware
from service.api import docs
from service.api.routes import ask, health, openai_compat, page, releases
from service.api.startup import Startup

DESCRIPTION = """Question answering over press releases with exact-sentence citations.

* `/v1/chat/completions` speaks OpenAI's chat API (plain and streamed); citations travel in an extra
  `citations` field on the message (or on the final stream chunk) and as `[n]` markers in the text.
* `/api/*` is the native API: ask, list, read, upload and delete releases.
* When `PRESSQA_API_KEYS` is set, every `/api` and `/v1` route needs `Authorization: Bearer <key>`
  (checked before the body is read).
* Only the Host names in `PRESSQA_ALLOWED_HOSTS` are answered (400 otherwise), and a POST/PUT/PATCH/DELETE
  sent by a page of another origin is refused with 403.
"""


def create_app(settings: Settings, runtime: Any = None, *, index_bundled: bool = False) -> FastAPI:
    """Build the app; models load in a background thread when the app starts (lifespan)."""
    if runtime is None:
        from pressqa.runtime import Runtime

        runtime = Runtime(settings)
    startup = Startup(settings, runtime, index_bundled=index_bundled)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        startup.start()
        yield

    # docs_url=None: /docs is served from the bundled Swagger UI assets (service/api/docs.py), not a CDN.
    app = FastAPI(title="pressqa", version="0.1.0", description=DESCRIPTION, lifespan=lifespan, docs_url=None)
    app.state.settings = settings
    app.state.runtime = runtime
    app.state.startup = startup

    # Each add_middleware wraps the ones before it, so a request passes them bottom-up: Host, Origin, key, size.
    # No CORS middleware on purpose: browsers keep other origins from reading the API.
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.max_request_bytes,
        max_upload_bytes=settings.max_upload_bytes,
        upload_path="/api/releases",
    )
    app.add_middleware(ApiKeyMiddleware, keys=settings.api_key_list)
    app.add_middleware(SameOriginWritesMiddleware, extra_origins=settings.allowed_origin_list)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.allowed_host_list)
    install_error_handlers(app)

    protected = [Depends(require_api_key)]
    app.include_router(openai_compat.router, dependencies=protected)
    app.include_router(ask.router, dependencies=protected)
    app.include_router(releases.router, dependencies=protected)
    app.include_router(health.router)
    page.mount(app)
    docs.mount(app)
    return app
