"""OpenAI request parameters: the ones an extractive answer can honour (stop, max_tokens), and the refused rest.

An OpenAI-compatible server must not pretend: a client that asks for two choices, a tool call or JSON output
and gets one plain answer back has been misled. Those requests get a 400 naming the parameter, in OpenAI's
error shape, the way OpenAI and other compatible servers answer parameters they do not support.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from service.api.errors import ParameterError
from service.api.schemas import ChatCompletionRequest

MAX_STOP_SEQUENCES = 4  # OpenAI's limit
CHARS_PER_TOKEN = 4  # the same estimate as `usage`, so completion_tokens never exceeds max_tokens
_MARKER = re.compile(r"\[(\d+)\]")


def refuse_unsupported(body: ChatCompletionRequest) -> None:
    """400 for what pressqa cannot do; returns quietly when the request is answerable as asked."""
    if body.n is not None and body.n != 1:
        raise ParameterError("n", "n must be 1: pressqa gives one extractive answer per question.")
    for name, tools, choice in (("tools", body.tools, body.tool_choice), ("functions", body.functions, body.function_call)):
        if tools and choice != "none":
            raise ParameterError(name, f"{name} are not supported: pressqa answers from press releases and never calls a tool (send {'tool_choice' if name == 'tools' else 'function_call'}='none' to keep them in the request).")
    if body.tool_choice not in (None, "none") and not body.tools:
        raise ParameterError("tool_choice", "tool_choice is only allowed when tools are specified.")
    if body.response_format is not None and body.response_format.get("type", "text") != "text":
        raise ParameterError("response_format", f"response_format {body.response_format.get('type')!r} is not supported: answers are text with [n] citation markers; only {{'type': 'text'}} is.")
    if body.logprobs:
        raise ParameterError("logprobs", "logprobs are not supported: answers are quoted from releases, not sampled token by token.")
    for name in ("max_tokens", "max_completion_tokens"):
        value = getattr(body, name)
        if value is not None and value < 1:
            raise ParameterError(name, f"{name} must be at least 1.")
    stops = stop_sequences(body)
    if len(stops) > MAX_STOP_SEQUENCES:
        raise ParameterError("stop", f"At most {MAX_STOP_SEQUENCES} stop sequences.")


def stop_sequences(body: ChatCompletionRequest) -> list[str]:
    stop = body.stop
    items = [stop] if isinstance(stop, str) else list(stop or [])
    return [s for s in items if s]


@dataclass(frozen=True)
class AnswerLimit:
    """Where an answer ends: before the first stop sequence, or after `max_chars`."""

    stops: Sequence[str] = ()
    max_chars: int | None = None

    @classmethod
    def of(cls, body: ChatCompletionRequest) -> AnswerLimit:
        tokens = [t for t in (body.max_tokens, body.max_completion_tokens) if t is not None]
        return cls(tuple(stop_sequences(body)), min(tokens) * CHARS_PER_TOKEN if tokens else None)

    def apply(self, text: str) -> tuple[str, str | None]:
        """(the kept text, "stop" | "length" when the limit cut it, else None)."""
        found = [i for i in (text.find(s) for s in self.stops) if i >= 0]
        cut = min(found) if found else None
        if cut is not None and (self.max_chars is None or cut <= self.max_chars):
            return text[:cut], "stop"
        if self.max_chars is not None and len(text) > self.max_chars:
            return text[: self.max_chars], "length"
        return text, None

    @property
    def holdback(self) -> int:
        """Characters a stream keeps back: the start of a stop sequence that the next delta may complete."""
        return max((len(s) for s in self.stops), default=1) - 1


def cited_prefix(citations: list, text: str) -> list:
    """The citations the kept text still refers to: the list up to its highest [n], so citations[n-1] stays [n]."""
    numbers = [int(n) for n in _MARKER.findall(text)]
    return citations[: max(numbers)] if numbers else []


class StreamLimit:
    """The same limit applied to deltas as they arrive: feed() returns what may be sent now."""

    def __init__(self, limit: AnswerLimit) -> None:
        self.limit = limit
        self.seen = ""
        self.sent = 0
        self.reason: str | None = None

    @property
    def done(self) -> bool:
        return self.reason is not None

    def feed(self, piece: str) -> str:
        if self.done:
            return ""
        self.seen += piece
        kept, self.reason = self.limit.apply(self.seen)
        safe = len(kept) if self.done else max(self.sent, len(kept) - self.limit.holdback)
        return self._emit(kept[:safe])

    def finish(self, full_text: str | None = None) -> str:
        """The rest once the answer is complete (`full_text`: the final answer, when it differs from the deltas)."""
        if not self.done:
            if full_text is not None and full_text.startswith(self.seen[: self.sent]):
                self.seen = full_text
            kept, self.reason = self.limit.apply(self.seen)
            return self._emit(kept)
        return ""

    @property
    def text(self) -> str:
        return self.seen[: self.sent]

    def _emit(self, upto: str) -> str:
        out = upto[self.sent :]
        self.sent = len(upto)
        return out
