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


class Answer(BaseModel):
    answer: str
    abstained: bool
    citations: list[Citation] = Field(default_factory=list)
    related: list[RelatedRelease] = Field(
        default_factory=list,
        description="Retrieved releases in rank order (best first); shown to the user as 'closest releases' when abstaining.",
    )
    question: str = ""
    standalone_question: str = Field("", description="The question after rewriting a follow-up with the chat history.")
    timings: dict[str, float] = Field(default_factory=dict)
