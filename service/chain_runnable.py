"""The answer chain as a LangChain Runnable: invoke, stream, batch and callbacks, so it composes and shows in tracing.

`AnswerRunnable(chain)` wraps a `service.chain.AnswerChain` (whose own API stays as it is). The input is a
question string or a dict `{"question", "history", "since", "until", "source"}` (history items as
`service.records.Message` or `{"role", "content"}` dicts); the output is the chain's `Answer`. `stream` yields the
chain's own events: `ChainStatus` while it works, the answer text in pieces, then the complete `Answer`. Every
call reports `on_chain_start` / `on_chain_end` (or `on_chain_error`) to the callbacks in LangChain's `config`.
The service's routes answer through it (`runtime.answer_runnable`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Union

from langchain_core.runnables import Runnable, RunnableConfig
from langchain_core.runnables.config import ensure_config, get_callback_manager_for_config

from service.records import Answer, Message

AnswerInput = Union[str, dict]
ARGS = ("history", "since", "until", "source")


def chain_args(value: AnswerInput) -> tuple[str, dict]:
    """(question, keyword arguments of AnswerChain.ask/stream) from a string or a dict."""
    if isinstance(value, str):
        return value, {}
    if not isinstance(value, dict) or not isinstance(value.get("question"), str):
        raise TypeError("AnswerRunnable takes a question string or a dict with a 'question' string")
    kwargs = {k: value[k] for k in ARGS if value.get(k) is not None}
    if "history" in kwargs:
        kwargs["history"] = [m if isinstance(m, Message) else Message(**m) for m in kwargs["history"]] or None
    return value["question"], kwargs


class AnswerRunnable(Runnable[AnswerInput, Answer]):
    """A LangChain Runnable over an AnswerChain (or anything with its ask/stream)."""

    name = "pressqa_answer"

    def __init__(self, chain: Any) -> None:
        self.chain = chain

    @property
    def InputType(self) -> type:  # noqa: N802 (LangChain's name)
        return AnswerInput  # type: ignore[return-value]

    @property
    def OutputType(self) -> type[Answer]:  # noqa: N802
        return Answer

    def _ask(self, value: AnswerInput) -> Answer:
        question, kwargs = chain_args(value)
        return self.chain.ask(question, **kwargs)

    def invoke(self, input: AnswerInput, config: RunnableConfig | None = None, **kwargs: Any) -> Answer:
        return self._call_with_config(self._ask, input, config, run_type="chain")

    def stream(self, input: AnswerInput, config: RunnableConfig | None = None, **kwargs: Any) -> Iterator[Any]:
        """The chain's events as they come; callbacks see one chain run ending with the Answer."""
        question, chain_kwargs = chain_args(input)  # a bad input fails before any run is reported
        config = ensure_config(config)
        manager = get_callback_manager_for_config(config)
        run = manager.on_chain_start(
            None, input, run_type="chain", name=config.get("run_name") or self.get_name(), run_id=config.pop("run_id", None)
        )
        answer = None
        try:
            for event in self.chain.stream(question, **chain_kwargs):
                if isinstance(event, Answer):
                    answer = event
                yield event
        except BaseException as exc:
            run.on_chain_error(exc)
            raise
        run.on_chain_end(answer)


def answer_runnable(runtime: Any) -> AnswerRunnable:
    """The runtime's Runnable; a runtime without one (a test's stand-in) gets one over its chain."""
    runnable = getattr(runtime, "answer_runnable", None)
    return runnable if runnable is not None else AnswerRunnable(runtime.chain)
