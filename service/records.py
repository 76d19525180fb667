"""Typed records of the answer path; the API returns these and FastAPI documents them."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class Message(BaseModel):
    role: Literal["system", "user", "assistant"]
    content: str


class Citation(BaseModel):
    n: int = Field(description="The [n] marker used in the answer text.")
    release_id: str
    title: str
    date: str | None = None
    url: str | None = None
    origin: str | None = Field(None, description="File path or feed item the release was loaded from.")
    quote: str = Field(description="Exact text of the release: text[start:end] == quote.")
    start: int
    end: int


class RelatedRelease(BaseModel):
    release_id: str
    title: str
    date: str | None = None
    url: str | None = None
    origin: str | None = None
    score: float = 0.0


class ChainStatus(BaseModel):
    """What the chain is doing while an answer is made ("searching", "reading 5 releases"); streamed before it."""

    stage: str = Field(description="A short machine name: condense, retrieve, read, rank, phrase.")
    message: str = Field(description="The same for a person: 'searching…', 'reading 5 releases…'.")


class Answer(BaseModel):
    answer: str
    abstained: bool
    short_answer: str | None = Field(
        None, description="The answer itself (a name, a date, a number, a phrase), a span of the first citation's quote."
    )
    confidence: float | None = Field(None, description="The reader's calibrated probability that the answer is right.")
    answer_start: int | None = Field(None, description="Start of short_answer inside citations[0].quote.")
    answer_end: int | None = Field(None, description="End of short_answer inside citations[0].quote.")
    citations: list[Citation] = Field(default_factory=list)
    related: list[RelatedRelease] = Field(
        default_factory=list,
        description="Retrieved releases in rank order (best first); shown to the user as 'closest releases' when abstaining.",
    )
    question: str = ""
    standalone_question: str = Field("", description="The question after rewriting a follow-up with the chat history.")
    timings: dict[str, float] = Field(default_factory=dict)
