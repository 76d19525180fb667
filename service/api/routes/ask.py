"""Native question answering: the same JSON object as `pressqa ask --json`, plain or as server-sent events."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from service.api.deps import RuntimeDep
from service.chain_runnable import answer_runnable
from service.api.errors import ERROR_TYPES, llm_unavailable_class
from service.api.schemas import Answer, AskRequest, ErrorResponse
from service.records import ChainStatus

router = APIRouter(prefix="/api", tags=["ask"])
log = logging.getLogger("pressqa.api")


@router.post(
    "/ask",
    response_model=Answer,
    responses={
        401: {"model": ErrorResponse, "description": "API keys are set and the request has none or a wrong one."},
        503: {"model": ErrorResponse, "description": "Still loading, or the language model is unavailable."},
        504: {"model": ErrorResponse, "description": "The language model did not answer in time."},
    },
)
def ask(body: AskRequest, runtime: RuntimeDep) -> Answer:
    """Answer a question from the indexed press releases, citing the exact sentences, or abstain.

    The answer text carries `[n]` markers; `citations[n-1]` gives, for each, the release id, title,
    date, URL, origin and the quoted span (`quote == release.text[start:end]`), so a client can fetch
    `GET /api/releases/{release_id}` and highlight the sentence. When the releases do not support an
    answer, `abstained` is true and `related` lists the closest releases.

    `history` holds the earlier turns (oldest first) so that follow-ups such as "And Kyrgyzstan?" are
    rewritten into a standalone question (`standalone_question`). `since`, `until` (ISO dates) and
    `source` restrict which releases are searched.

    Runs in the thread pool, so `/healthz` stays responsive while answers are generated.
    """
    return answer_runnable(runtime).invoke(_chain_input(body))


_END = object()


def _chain_input(body: AskRequest) -> dict:
    return {"question": body.question, "history": body.history or None, "since": body.since, "until": body.until, "source": body.source}

STREAM_DESCRIPTION = (
    "Server-sent events, in this order: `status` events while the answer is made (`{\"stage\": \"retrieve\", "
    "\"message\": \"searching…\"}`), `delta` events with the answer text in pieces (`{\"text\": \"…\"}`), then one "
    "`answer` event with the same object as `POST /api/ask`. A failure after the stream started is an `error` event "
    "(`{\"error\": {\"message\", \"type\", \"code\"}}`)."
)


@router.post(
    "/ask/stream",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": STREAM_DESCRIPTION},
        401: {"model": ErrorResponse, "description": "API keys are set and the request has none or a wrong one."},
        503: {"model": ErrorResponse, "description": "Still loading, or the language model is unavailable."},
        504: {"model": ErrorResponse, "description": "The language model did not answer in time."},
    },
)
async def ask_stream(body: AskRequest, runtime: RuntimeDep) -> StreamingResponse:
    """Like `POST /api/ask`, streamed: what the chain is doing (`status`), the text as it comes (`delta`), the `answer`.

    The status events let a client show "searching…", "reading 5 releases…" during a slow answer instead of an
    empty bubble.
    """
    stream = await run_in_threadpool(answer_runnable(runtime).stream, _chain_input(body))
    # The first item is fetched before the response starts, so a backend that is down is a clean 503.
    first = await run_in_threadpool(next, stream, _END)
    return StreamingResponse(
        _answer_events(first, stream), media_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )


def sse(event: str, payload: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(payload, ensure_ascii=False)}\n\n"


def _answer_events(first: Any, stream: Iterator) -> Iterator[str]:
    """Plain generator: Starlette runs each step in the thread pool. Works whether or not the chain yields statuses."""
    llm_error = llm_unavailable_class()
    item = first
    try:
        while item is not _END:
            if isinstance(item, ChainStatus):
                yield sse("status", item.model_dump(mode="json"))
            elif isinstance(item, str):
                if item:
                    yield sse("delta", {"text": item})
            elif isinstance(item, Answer):
                yield sse("answer", item.model_dump(mode="json"))
            item = next(stream, _END)
    except Exception as exc:
        status = 503 if llm_error is not None and isinstance(exc, llm_error) else 500
        if status == 500:
            log.exception("streaming an answer failed")
        message = f"The language model is unavailable: {exc}" if status == 503 else "Internal server error while streaming."
        yield sse("error", {"error": {"message": message, "type": ERROR_TYPES.get(status, "api_error"), "code": status}})
