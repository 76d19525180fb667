"""OpenAI-compatible chat API: existing chat clients (the openai SDK, LangChain) work unchanged."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, HTTPException
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from service.api.deps import RuntimeDep
from service.chain_runnable import answer_runnable
from service.api.errors import ERROR_TYPES, llm_unavailable_class
from service.api.openai_params import AnswerLimit, StreamLimit, cited_prefix, refuse_unsupported
from service.api.schemas import (
    Answer,
    AnswerInfo,
    AssistantMessage,
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionRequest,
    Choice,
    ChunkChoice,
    ChunkDelta,
    ErrorResponse,
    Message,
    ModelCard,
    ModelList,
    QUESTION_MAX_CHARS,
    Usage,
)

router = APIRouter(prefix="/v1", tags=["openai-compatible"])

MODEL_ID = "pressqa"
_END = object()
_STARTED = int(time.time())


def approx_tokens(text: str) -> int:
    """About four characters a token: clients want a usage figure, not an exact tokenizer count."""
    return (len(text) + 3) // 4 if text else 0


def split_messages(body: ChatCompletionRequest) -> tuple[str, list[Message]]:
    """The last user message is the question; the turns before it are the history."""
    last = body.messages[-1]
    question = last.text().strip()
    if last.role != "user" or not question:
        raise HTTPException(400, "The last message must be a non-empty 'user' message: it is the question.")
    if len(question) > QUESTION_MAX_CHARS:
        raise HTTPException(400, f"The question is longer than {QUESTION_MAX_CHARS} characters.")
    history = []
    for m in body.messages[:-1]:
        role = "system" if m.role == "developer" else m.role
        if role in ("system", "user", "assistant") and m.text():
            history.append(Message(role=role, content=m.text()))
    return question, history


def _usage(body: ChatCompletionRequest, answer_text: str) -> Usage:
    prompt = sum(approx_tokens(m.text()) for m in body.messages)
    completion = approx_tokens(answer_text)
    return Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion)


def _info(answer: Answer) -> AnswerInfo:
    return AnswerInfo(
        abstained=answer.abstained,
        related=[r.model_dump() for r in answer.related],
        standalone_question=answer.standalone_question,
        timings=answer.timings,
    )


@router.get("/models", response_model=ModelList)
def list_models() -> ModelList:
    """The one model this server offers, `pressqa`: retrieval over the indexed releases plus the configured LLM.

    Any `model` value is accepted by `/v1/chat/completions`; this list exists because OpenAI clients ask for it.
    """
    return ModelList(data=[ModelCard(id=MODEL_ID, created=_STARTED)])


@router.get("/models/{model_id}", response_model=ModelCard, responses={404: {"model": ErrorResponse, "description": "Not a model this server lists."}})
def retrieve_model(model_id: str) -> ModelCard:
    """The model card of `pressqa`, the one listed model (OpenAI's `models.retrieve`)."""
    if model_id != MODEL_ID:
        raise HTTPException(404, f"The model {model_id!r} does not exist; this server offers {MODEL_ID!r}.")
    return ModelCard(id=MODEL_ID, created=_STARTED)


@router.post(
    "/chat/completions",
    response_model=ChatCompletion,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "A chat.completion, or with `stream: true` server-sent chat.completion.chunk events ending with `data: [DONE]`."},
        400: {"model": ErrorResponse, "description": "The last message is not a user message, or a parameter pressqa cannot honour (`n` > 1, `tools`, `response_format` other than text, `logprobs`); `error.param` names it."},
        401: {"model": ErrorResponse, "description": "API keys are set and the request has none or a wrong one."},
        503: {"model": ErrorResponse, "description": "Still loading, or the language model is unavailable."},
        504: {"model": ErrorResponse, "description": "The language model did not answer in time."},
    },
)
async def chat_completions(body: ChatCompletionRequest, runtime: RuntimeDep) -> Any:
    """Answer the last user message from the indexed press releases, OpenAI chat-completions style.

    **Conversation.** The last message (role `user`) is the question; the earlier `user`/`assistant`
    turns are the history, so a follow-up such as "And Kyrgyzstan?" is understood in context.
    `system`/`developer` messages are passed on as history.

    **Parameters.** `stop` ends the answer before the first stop sequence; `max_tokens` (or
    `max_completion_tokens`) truncates it to about that many tokens (four characters each) with
    `finish_reason: "length"`. Refused with a 400 naming the parameter: `n` other than 1, `tools` or
    `functions` (unless `tool_choice`/`function_call` is `"none"`), `response_format` other than
    `{"type": "text"}`, `logprobs: true`. Sampling parameters (`temperature`, `top_p`, `seed`, …) are
    accepted and have no effect: answers are quoted from the releases, not sampled.

    **Citations.** The content carries `[n]` markers. The structured list (release id, title, date, URL,
    origin, quote, start, end — the same fields as `pressqa ask --json`) is in an extra field
    `choices[0].message.citations`; when streaming, it is on the final chunk as
    `choices[0].delta.citations` and `choices[0].citations`. The extra top-level `pressqa` object says
    whether the service abstained and lists the closest releases. Unknown fields are ignored by the
    official `openai` SDK and by LangChain's `ChatOpenAI`.

    **Streaming.** With `stream: true` the answer arrives as server-sent events in OpenAI's
    `chat.completion.chunk` format, ending with `data: [DONE]`; with
    `stream_options.include_usage` a last chunk with empty `choices` carries `usage`. A backend failure
    before the first token is a 503/504 JSON error; after it, an `{"error": …}` event.

    **Filters** (pressqa extensions, e.g. through the SDK's `extra_body`): `since`, `until` (ISO dates),
    `source`. Token counts in `usage` are estimates (about four characters a token).
    """
    refuse_unsupported(body)
    question, history = split_messages(body)
    limit = AnswerLimit.of(body)
    chain_input = {"question": question, "history": history or None, "since": body.since, "until": body.until, "source": body.source}
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    created = int(time.time())
    model = body.model or MODEL_ID

    if not body.stream:
        answer: Answer = await run_in_threadpool(answer_runnable(runtime).invoke, chain_input)
        text, cut = limit.apply(answer.answer)
        message = AssistantMessage(content=text, citations=cited_prefix(answer.citations, text))
        return ChatCompletion(
            id=completion_id,
            created=created,
            model=model,
            choices=[Choice(message=message, finish_reason="length" if cut == "length" else "stop")],
            usage=_usage(body, text),
            pressqa=_info(answer),
        )

    stream = await run_in_threadpool(answer_runnable(runtime).stream, chain_input)
    # The first item is fetched before the response starts, so a backend that is down is a clean 503.
    first = await run_in_threadpool(next, stream, _END)
    events = _sse_events(first, stream, body, completion_id, created, model, StreamLimit(limit))
    return StreamingResponse(events, media_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


def _sse(payload: Any) -> str:
    if isinstance(payload, ChatCompletionChunk):
        data = payload.model_dump(mode="json", exclude_none=True)
        for choice, model_choice in zip(data["choices"], payload.choices):
            # OpenAI always sends these keys, null until the last chunk.
            choice.setdefault("finish_reason", None)
            choice.setdefault("logprobs", None)
            # Citations keep their null fields ("url": null), the same shape as in the plain response.
            if model_choice.citations is not None:
                choice["citations"] = [c.model_dump(mode="json") for c in model_choice.citations]
            if model_choice.delta.citations is not None:
                choice["delta"]["citations"] = [c.model_dump(mode="json") for c in model_choice.delta.citations]
        if payload.pressqa is not None:
            data["pressqa"] = payload.pressqa.model_dump(mode="json")
        payload = data
    return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"


def _sse_events(
    first: Any, stream: Iterator, body: ChatCompletionRequest, completion_id: str, created: int, model: str, limit: StreamLimit
) -> Iterator[str]:
    """Plain generator: Starlette runs each step in the thread pool."""

    def chunk(delta: ChunkDelta, **extra: Any) -> ChatCompletionChunk:
        choice_extra = {k: extra.pop(k) for k in ("finish_reason", "citations") if k in extra}
        return ChatCompletionChunk(id=completion_id, created=created, model=model, choices=[ChunkChoice(delta=delta, **choice_extra)], **extra)

    yield _sse(chunk(ChunkDelta(role="assistant", content="")))
    answer: Answer | None = None
    llm_error = llm_unavailable_class()
    try:
        item = first
        while item is not _END:
            if isinstance(item, str):
                # After a stop sequence or max_tokens nothing more is sent, but the stream is read to its end
                # for the answer's citations.
                piece = limit.feed(item)
                if piece:
                    yield _sse(chunk(ChunkDelta(content=piece)))
            else:
                answer = item
            item = next(stream, _END)
    except Exception as exc:
        status = 503 if llm_error is not None and isinstance(exc, llm_error) else 500
        message = f"The language model is unavailable: {exc}" if status == 503 else "Internal server error while streaming."
        yield _sse({"error": {"message": message, "type": ERROR_TYPES.get(status, "api_error"), "code": status}})
        yield "data: [DONE]\n\n"
        return
    # Defensive: the contract says deltas concatenate to the answer; finish() sends whatever is missing.
    rest = limit.finish(answer.answer if answer is not None else None)
    if rest:
        yield _sse(chunk(ChunkDelta(content=rest)))
    text = limit.text
    citations = cited_prefix(answer.citations, text) if answer is not None else []
    yield _sse(
        chunk(
            ChunkDelta(citations=citations),
            finish_reason="length" if limit.reason == "length" else "stop",
            citations=citations,
            pressqa=_info(answer) if answer is not None else None,
        )
    )
    if body.stream_options and body.stream_options.include_usage:
        usage_chunk = ChatCompletionChunk(id=completion_id, created=created, model=model, choices=[], usage=_usage(body, text))
        yield _sse(usage_chunk)
    yield "data: [DONE]\n\n"
