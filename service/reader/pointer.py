"""The pointer model: MiniLM fine-tuned to point at an answer's first and last token inside one sentence.

Fitted by eval/fit_pointer.py on the training questions (press and paragraph text) and shipped as an int8 ONNX
file. It proposes nothing on its own: the span model reads, for each of spaCy's candidates, how strongly the pointer
model points at exactly that span, against the best span of the sentence and against "no answer here".
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

POINTER_FILE = "pointer-int8.onnx"
# Tokens of question and sentence together; longer sentences are cut (their tail is rarely read closely anyway).
MAX_TOKENS = 160
# Longest span, in tokens, the best-span score looks at (answers are short; spaCy's longest candidate is 14 words).
MAX_SPAN_TOKENS = 30


@dataclass
class PointerScores:
    """Start and end logits for the tokens of one sentence (offsets are characters into the sentence)."""

    offsets: np.ndarray  # (n, 2)
    start: np.ndarray  # (n,)
    end: np.ndarray  # (n,)
    null: float  # start + end logit of the [CLS] token: the model's "the answer is not here"
    best: float  # the best start + end over spans of at most MAX_SPAN_TOKENS

    def span(self, start_char: int, end_char: int) -> float:
        """Start logit of the first token inside [start_char, end_char) plus end logit of the last one."""
        inside = np.flatnonzero((self.offsets[:, 0] >= start_char) & (self.offsets[:, 1] <= end_char))
        if not len(inside):
            return self.null - 10.0
        return float(self.start[inside[0]] + self.end[inside[-1]])


def best_span(start: np.ndarray, end: np.ndarray, max_tokens: int = MAX_SPAN_TOKENS) -> tuple[float, int, int]:
    """(score, first, last) of the best span with last - first < max_tokens."""
    n = len(start)
    if n == 0:
        return -1e9, 0, 0
    # scores[i, j] = start[i] + end[j] for i <= j < i + max_tokens
    scores = start[:, None] + end[None, :]
    i, j = np.indices((n, n))
    scores = np.where((j >= i) & (j - i < max_tokens), scores, -np.inf)
    flat = int(np.argmax(scores))
    a, b = divmod(flat, n)
    return float(scores[a, b]), a, b


class Pointer:
    """Runs the int8 ONNX pointer model; thread-safe (one ONNX Runtime session, runs are independent)."""

    def __init__(self, onnx_path: Path | str, tokenizer_json: str, threads: int = 1) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        path = Path(onnx_path)
        if not path.is_file():
            raise FileNotFoundError(
                f"The pointer model is missing at {path}; refit it with `python -m eval.fit_pointer` "
                "(it ships with pressqa under service/reader/params)."
            )
        self._tokenizer = Tokenizer.from_str(tokenizer_json)
        self._tokenizer.enable_truncation(MAX_TOKENS, strategy="only_second")
        self._tokenizer.no_padding()
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self._lock = threading.Lock()

    def score(self, question: str, sentences: list[str]) -> list[PointerScores]:
        """One run per sentence: int8 activations are scaled per run, so a batch would make scores depend on padding."""
        out = []
        for encoding in self._tokenizer.encode_batch([(question, s) for s in sentences]):
            ids = np.asarray([encoding.ids], dtype=np.int64)
            feed = {
                "input_ids": ids,
                "attention_mask": np.ones_like(ids),
                "token_type_ids": np.asarray([encoding.type_ids], dtype=np.int64),
            }
            start, end = (x[0] for x in self._session.run(None, feed))
            out.append(scores_of(encoding.sequence_ids, encoding.offsets, start, end))
        return out


def scores_of(sequence_ids, offsets, start: np.ndarray, end: np.ndarray) -> PointerScores:
    """PointerScores from one run's logits: the sentence's tokens (sequence 1) and the [CLS] token's null score."""
    context = np.asarray([k for k, s in enumerate(sequence_ids) if s == 1], dtype=np.int64)
    offs = np.asarray(offsets, dtype=np.int64)[context] if len(context) else np.zeros((0, 2), dtype=np.int64)
    s, e = np.asarray(start, dtype=np.float64)[context], np.asarray(end, dtype=np.float64)[context]
    return PointerScores(offs, s, e, float(start[0] + end[0]), best_span(s, e)[0])


def load_pointer(params_path: Path | str | None = None, model_path: Path | str | None = None, threads: int = 2) -> Pointer:
    """The pointer model beside the reader's parameters (reader.json)."""
    from service.reader.model import PARAMS_DIR

    folder = Path(params_path).parent if params_path else PARAMS_DIR
    return load_pointer_file(folder / POINTER_FILE, model_path, threads)


def load_pointer_file(onnx_path: Path | str, model_path: Path | str | None = None, threads: int = 2) -> Pointer:
    """A pointer model file (the shipped one, or a fold's of eval.fit_pointer) with the embedding model's tokenizer."""
    from core.embeddings import default_model_path

    tokenizer = (Path(model_path) if model_path else default_model_path()) / "tokenizer.json"
    return Pointer(onnx_path, tokenizer.read_text(encoding="utf-8"), threads)
