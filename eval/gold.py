"""Gold-facts files (see eval/gold/FORMAT.md) loaded into typed, validated records."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from service.records import Message

# The press question files the reader and the pointer model are fitted on (FORMAT.md). dev.yaml and check-written.yaml
# are check sets: never fitted or tuned on.
FIT_GOLD = (Path("eval/gold/train.yaml"), Path("eval/gold/train-written.yaml"))

KNOWN_FIELDS = {"id", "question", "answers", "facts", "source", "source_url", "evidence", "answerable", "history", "tags"}
ROLES = {"system", "user", "assistant"}


class GoldError(ValueError):
    """A gold file that does not follow the format; the message names the file, line and question id."""


@dataclass(frozen=True)
class GoldSource:
    """One release a question is answered from: a path under the corpus root and/or the release's URL."""

    path: str | None = None
    url: str | None = None

    @property
    def release_key(self) -> str | None:
        """The one release this names: its path, or path and URL where the path is a feed of many releases."""
        from ingest.loaders import MANY_RELEASE_SUFFIXES

        if self.path and self.url and self.path.lower().endswith(MANY_RELEASE_SUFFIXES):
            return f"{self.path}#{self.url}"
        return self.path or self.url


@dataclass
class GoldQuestion:
    id: str
    question: str
    answers: list[str] = field(default_factory=list)
    facts: list[str] = field(default_factory=list)
    sources: list[GoldSource] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)
    answerable: bool = True
    history: list[Message] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    file: str = ""
    line: int = 0


def load_gold(paths: Path | str | list[Path | str]) -> list[GoldQuestion]:
    """Load one or more gold files; ids must be unique across all of them."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    questions: list[GoldQuestion] = []
    seen: dict[str, str] = {}
    for path in paths:
        for q in load_gold_file(Path(path)):
            where = f"{q.file}:{q.line}"
            if q.id in seen:
                raise GoldError(f"{where}: id={q.id}: duplicate id (first at {seen[q.id]})")
            seen[q.id] = where
            questions.append(q)
    return questions


def load_gold_file(path: Path) -> list[GoldQuestion]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise GoldError(f"{path}: cannot read gold file: {exc}") from exc
    try:
        data = yaml.safe_load(text)
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        raise GoldError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, list) or not data:
        raise GoldError(f"{path}: expected a non-empty YAML list of questions")
    # safe_load drops positions; the composed node tree keeps the line of each record.
    lines = [node.start_mark.line + 1 for node in root.value]
    return [_parse_record(item, path, line) for item, line in zip(data, lines)]


def _parse_record(item: object, path: Path, line: int) -> GoldQuestion:
    where = f"{path}:{line}"
    if not isinstance(item, dict):
        raise GoldError(f"{where}: each question must be a mapping, got {type(item).__name__}")
    qid = item.get("id")
    if not isinstance(qid, str) or not qid.strip():
        raise GoldError(f"{where}: missing or empty `id`")
    where = f"{where}: id={qid}"

    def fail(msg: str) -> GoldError:
        return GoldError(f"{where}: {msg}")

    question = item.get("question")
    if not isinstance(question, str) or not question.strip():
        raise fail("missing or empty `question`")
    unknown = sorted(set(item) - KNOWN_FIELDS)
    if unknown:
        warnings.warn(f"{where}: ignoring unknown field(s) {', '.join(unknown)}", stacklevel=2)

    answerable = item.get("answerable", True)
    if not isinstance(answerable, bool):
        raise fail("`answerable` must be true or false")

    answers = _strings(item.get("answers"), "answers", fail)
    facts = _strings(item.get("facts"), "facts", fail)
    tags = _strings(item.get("tags"), "tags", fail)
    evidence = _strings(item.get("evidence"), "evidence", fail)
    paths = _optional_strings(item.get("source"), "source", fail)
    urls = _optional_strings(item.get("source_url"), "source_url", fail)
    if paths and urls and len(paths) != len(urls):
        raise fail(f"`source` has {len(paths)} entries but `source_url` has {len(urls)}; they must be aligned")
    n = max(len(paths), len(urls))
    paths = paths or [None] * n
    urls = urls or [None] * n
    sources = [GoldSource(path=p, url=u) for p, u in zip(paths, urls)]
    if any(s.path is None and s.url is None for s in sources):
        raise fail("a source has neither `source` nor `source_url`")

    history = _history(item.get("history"), fail)
    return GoldQuestion(
        id=qid,
        question=question,
        answers=answers,
        facts=facts,
        sources=sources,
        evidence=evidence,
        answerable=answerable,
        history=history,
        tags=tags,
        file=str(path),
        line=line,
    )


def _strings(value: object, name: str, fail) -> list[str]:
    """A string or a list of strings (numbers in YAML, like `40`, are taken as their text)."""
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    out = []
    for v in items:
        if isinstance(v, bool) or not isinstance(v, (str, int, float)):
            raise fail(f"`{name}` must be a string or a list of strings, got {v!r}")
        out.append(str(v))
    return out


def _optional_strings(value: object, name: str, fail) -> list[str | None]:
    """Like _strings, but list entries may be null (a release without a URL)."""
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    out: list[str | None] = []
    for v in items:
        if v is None:
            out.append(None)
        elif isinstance(v, str) and v.strip():
            out.append(v.strip())
        else:
            raise fail(f"`{name}` entries must be non-empty strings or null, got {v!r}")
    return out


def _history(value: object, fail) -> list[Message]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise fail("`history` must be a list of {role, content} turns")
    turns = []
    for i, turn in enumerate(value):
        if not isinstance(turn, dict) or turn.get("role") not in ROLES or not isinstance(turn.get("content"), str):
            raise fail(f"`history[{i}]` must be {{role: user|assistant|system, content: text}}, got {turn!r}")
        turns.append(Message(role=turn["role"], content=turn["content"]))
    return turns
