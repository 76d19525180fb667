"""Native question answering: the same JSON object as `pressqa ask --json`."""

from __future__ import annotations

from fastapi import APIRouter

from service.api.deps import RuntimeDep
from service.api.schemas import Answer, AskRequest, ErrorResponse

router = APIRouter(prefix="/api", tags=["ask"])


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
    return runtime.chain.ask(body.question, history=body.history or None, since=body.since, until=body.until, source=body.source)
