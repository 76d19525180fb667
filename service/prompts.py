"""Prompts are text files in prompts/, loaded by name; no prompt text lives in code."""

from __future__ import annotations

import string
from pathlib import Path

from langchain_core.prompts import ChatPromptTemplate

from pressqa.settings import REPO_ROOT

PROMPTS_DIR = REPO_ROOT / "prompts"

# What the chain passes to each prompt; tests/test_prompts.py holds every file to exactly these.
PROMPT_VARIABLES: dict[str, frozenset[str]] = {
    "condense": frozenset({"history", "question"}),  # chat: condense.system.txt + condense.user.txt
    "choose": frozenset({"question", "sentences"}),  # chat: choose.system.txt + choose.user.txt (service/choose.py)
    "abstain": frozenset({"scope"}),  # plain text: abstain.txt, filled with str.format
}


class PromptNotFound(LookupError):
    """No prompt file of that name in the prompts folder."""


def _read(path: Path, name: str, directory: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        known = sorted({p.name.split(".")[0] for p in directory.glob("*.txt")})
        raise PromptNotFound(f"no prompt {name!r}: {path} does not exist (prompts in {directory}: {', '.join(known) or 'none'})") from None


def load_text(name: str, directory: Path | None = None) -> str:
    """A plain-text prompt, `<name>.txt`, for str.format by the caller."""
    directory = directory or PROMPTS_DIR
    return _read(directory / f"{name}.txt", name, directory)


def load_prompt(name: str, directory: Path | None = None) -> ChatPromptTemplate:
    """A chat prompt from `<name>.system.txt` + `<name>.user.txt` (f-string variables; `{{`/`}}` for braces)."""
    directory = directory or PROMPTS_DIR
    system = _read(directory / f"{name}.system.txt", name, directory)
    user = _read(directory / f"{name}.user.txt", name, directory)
    return ChatPromptTemplate.from_messages(
        [("system", system.strip()), ("human", user.strip())], template_format="f-string"
    )


def prompt_variables(name: str, directory: Path | None = None) -> set[str]:
    """The variables a prompt file actually uses (chat prompt, or plain `<name>.txt`)."""
    directory = directory or PROMPTS_DIR
    if (directory / f"{name}.system.txt").exists() or (directory / f"{name}.user.txt").exists():
        return set(load_prompt(name, directory).input_variables)
    text = load_text(name, directory)
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}
