"""Liveness and readiness probes; both stay open when API keys are set."""

from __future__ import annotations

import anyio
from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from service.api.deps import StartupDep

router = APIRouter(tags=["health"])

STORE_CHECK_S = 5.0


@router.get("/healthz")
async def healthz() -> dict:
    """Liveness: answers at once, even while answers are being generated.

    It touches neither the models nor the index, and runs on the event loop while every chain call
    runs in the thread pool, so a slow answer can never block it.
    """
    return {"alive": True}


@router.get("/readyz", responses={503: {"description": "Models or index not loaded yet, or the store is unreachable."}})
async def readyz(startup: StartupDep) -> JSONResponse:
    """Readiness: 200 once the models and the index are loaded and the store answers, 503 before.

    The body also reports the start-up `phase` and the background indexing of the bundled corpus:
    `indexing.releases_done` of `indexing.releases_total` releases (a feed's items counted; `percent`),
    `indexing.chunks_written`, `indexing.done` of `indexing.total` files, and `indexing.releases` /
    `indexing.chunks` searchable now. Questions are answered from what is indexed so far, so readiness does
    not wait for indexing to finish.
    """
    status = startup.status()
    if status["ready"]:
        try:
            with anyio.fail_after(STORE_CHECK_S):
                # Counted now, not at the last bundled batch: uploads and deletes change both.
                status["indexing"]["releases"] = await run_in_threadpool(startup.runtime.store.count_releases)
                status["indexing"]["chunks"] = await run_in_threadpool(startup.runtime.store.count_chunks)
        except Exception as exc:
            status["ready"] = False
            status["error"] = f"store unreachable: {type(exc).__name__}: {exc}"
    return JSONResponse(status, status_code=200 if status["ready"] else 503)
