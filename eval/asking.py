"""Asking the chain under test: in process or over HTTP, one question at a time, each with a deadline."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from service.records import Answer, Message


class HttpChain:
    """The chain of a running pressqa service, asked through POST /api/ask."""

    def __init__(self, url: str, api_key: str | None = None, timeout_s: float = 120.0) -> None:
        import httpx

        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.url = url.rstrip("/")
        self.client = httpx.Client(base_url=self.url, headers=headers, timeout=timeout_s)

    def ask(self, question: str, history: list[Message] | None = None) -> Answer:
        body = {"question": question, "history": [m.model_dump() for m in history or []]}
        response = self.client.post("/api/ask", json=body)
        if response.status_code >= 400:
            raise RuntimeError(f"HTTP {response.status_code} from {self.url}/api/ask: {response.text[:300]}")
        return Answer.model_validate(response.json())

    def close(self) -> None:
        self.client.close()


@dataclass
class Outcome:
    """What one question got: an answer, or an error (a timeout is one), and the latency to report.

    The latency of an error or a timeout is the timeout itself, so a failing chain cannot look fast.
    """

    answer: Answer | None
    error: str | None
    latency_s: float
    timed_out: bool = False


def ask_with_deadline(chain, question: str, history: list[Message] | None, timeout_s: float) -> Outcome:
    """Ask in a worker thread and wait at most timeout_s.

    An in-process chain cannot be interrupted: a question past its deadline is abandoned (its thread is a
    daemon and finishes or dies with the process) and the run moves on.
    """
    box: dict = {}

    def work() -> None:
        try:
            box["answer"] = chain.ask(question, history=history)
        except Exception as exc:  # one failing question never stops the run
            box["error"] = f"{type(exc).__name__}: {exc}"

    start = time.perf_counter()
    worker = threading.Thread(target=work, name="pressqa-eval-ask", daemon=True)
    worker.start()
    worker.join(timeout_s)
    elapsed = time.perf_counter() - start
    if worker.is_alive():
        return Outcome(None, f"no answer within {timeout_s:g} s", timeout_s, timed_out=True)
    if "error" in box:
        return Outcome(None, box["error"], timeout_s)
    raw = box.get("answer")
    try:
        answer = raw if isinstance(raw, Answer) else Answer.model_validate(raw)
    except Exception as exc:
        return Outcome(None, f"malformed answer: {type(exc).__name__}: {exc}", timeout_s)
    return Outcome(answer, None, elapsed)


def warm_up(chain, question: str | None, timeout_s: float) -> float | None:
    """One untimed question first: latency figures are for a warm chain (models in memory, BM25 built)."""
    if not question:
        return None
    outcome = ask_with_deadline(chain, question, None, timeout_s)
    return None if outcome.error else round(outcome.latency_s, 3)
