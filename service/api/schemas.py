"""Request and response models of the HTTP API; FastAPI documents them at /docs."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from service.records import Answer, Citation, Message

__all__ = [
    "Answer",
    "AskRequest",
    "ChatCompletion",
    "ChatCompletionChunk",
    "ChatCompletionRequest",
    "Citation",
    "ErrorBody",
    "ErrorResponse",
    "IngestReport",
    "Message",
    "ModelCard",
    "ModelList",
    "ReleaseDeleted",
    "ReleaseDetail",
    "ReleasePage",
    "ReleaseSummary",
]

QUESTION_MAX_CHARS = 4000


class ErrorBody(BaseModel):
    message: str
    type: str
    code: int | str | None = None
    param: str | None = Field(None, description="The request parameter at fault, when one is.")
    details: list[dict[str, Any]] | None = None


class ErrorResponse(BaseModel):
    """Every error, on /api and /v1 alike, in OpenAI's shape so its SDK shows the message."""

    error: ErrorBody


# --- native API ------------------------------------------------------------------------------


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1, max_length=QUESTION_MAX_CHARS, examples=["Who represented Turkmenistan at the Sixth China-Central Asia Foreign Ministers' Meeting?"])
    history: list[Message] = Field(default_factory=list, max_length=50, description="Earlier turns, oldest first.")
    since: date | None = Field(None, description="Only releases published on/after this date.")
    until: date | None = Field(None, description="Only releases published on/before this date.")
    source: str | None = Field(None, max_length=200, description="Only releases from this source/publisher.")


class ReleaseSummary(BaseModel):
    id: str
    title: str
    published: str | None = None
    source: str | None = None
    url: str | None = None
    place: str | None = None
    origin: str | None = None
    chunk_count: int = 0


class ReleaseDetail(ReleaseSummary):
    text: str = Field(description="The release body every citation offset points into.")


class ReleasePage(BaseModel):
    items: list[ReleaseSummary]
    offset: int
    limit: int
    total: int = Field(description="Number of indexed releases (all dates).")
    has_more: bool = Field(description="Whether a further page exists for this filter.")


class ReleaseDeleted(BaseModel):
    deleted: str


class SkippedFile(BaseModel):
    path: str
    reason: str


class FailedFile(BaseModel):
    path: str
    error: str


class TitleKept(BaseModel):
    """A file whose text and metadata were already indexed under another file name: the stored title stays."""

    id: str
    path: str | None = None
    title: str = Field(description="The stored title, kept.")
    name_title: str = Field(description="The title this file's name would have given, not applied.")


class IngestReport(BaseModel):
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    chunks: int = 0
    skipped: list[SkippedFile] = Field(default_factory=list)
    errors: list[FailedFile] = Field(default_factory=list)
    titles_kept: list[TitleKept] = Field(default_factory=list)


# --- OpenAI-compatible API -------------------------------------------------------------------


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: str
    text: str | None = None


class ChatMessageIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[ContentPart] | None = None
    name: str | None = None

    def text(self) -> str:
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "".join(p.text or "" for p in self.content if p.type in ("text", "input_text"))


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="ignore")

    include_usage: bool = False


class ChatCompletionRequest(BaseModel):
    """OpenAI's request. `stop` and `max_tokens` shape the answer; `n` > 1, `tools`, `logprobs` and a
    `response_format` other than text are refused (400); sampling parameters (`temperature`, `top_p`, `seed`, …)
    are accepted and have no effect, because answers are quoted, not sampled."""

    model_config = ConfigDict(extra="ignore")

    model: str = "pressqa"
    messages: list[ChatMessageIn] = Field(min_length=1, max_length=100)
    stream: bool = False
    stream_options: StreamOptions | None = None
    temperature: float | None = None
    max_tokens: int | None = Field(None, description="Truncate the answer to about this many tokens (four characters each); finish_reason is then 'length'.")
    max_completion_tokens: int | None = Field(None, description="The newer name of max_tokens; the smaller of the two applies.")
    stop: str | list[str] | None = Field(None, description="Up to 4 strings; the answer ends before the first one it contains.")
    n: int | None = Field(None, description="Only 1: there is one extractive answer per question.")
    tools: list[dict[str, Any]] | None = Field(None, description="Refused unless tool_choice is 'none': pressqa never calls tools.")
    tool_choice: str | dict[str, Any] | None = None
    functions: list[dict[str, Any]] | None = Field(None, description="Deprecated form of tools; refused the same way.")
    function_call: str | dict[str, Any] | None = None
    response_format: dict[str, Any] | None = Field(None, description="Only {'type': 'text'}.")
    logprobs: bool | None = Field(None, description="Refused when true: quoted answers have no token probabilities.")
    since: date | None = Field(None, description="pressqa extension (send through extra_body): only releases on/after this date.")
    until: date | None = Field(None, description="pressqa extension: only releases on/before this date.")
    source: str | None = Field(None, max_length=200, description="pressqa extension: only releases from this source.")


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str
    citations: list[Citation] = Field(default_factory=list, description="pressqa extension: what each [n] marker in content cites.")


class Choice(BaseModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: Literal["stop", "length"] = "stop"
    logprobs: None = None


class AnswerInfo(BaseModel):
    """pressqa extension on the completion: what the OpenAI shape has no place for."""

    abstained: bool
    related: list[dict[str, Any]] = Field(default_factory=list)
    standalone_question: str = ""
    timings: dict[str, float] = Field(default_factory=dict)


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage
    pressqa: AnswerInfo | None = None


class ChunkDelta(BaseModel):
    role: Literal["assistant"] | None = None
    content: str | None = None
    citations: list[Citation] | None = None


class ChunkChoice(BaseModel):
    index: int = 0
    delta: ChunkDelta
    finish_reason: Literal["stop", "length"] | None = None
    logprobs: None = None
    citations: list[Citation] | None = None


class ChatCompletionChunk(BaseModel):
    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    choices: list[ChunkChoice]
    usage: Usage | None = None
    pressqa: AnswerInfo | None = None


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str = "pressqa"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]
