"""Cross-encoder sentence scorer: MiniLM fine-tuned on (question, sentence) pairs, run as int8 ONNX (no torch).

The weights in service/reader/params/cross_encoder/ (model.onnx, tokenizer.json, meta.json) are made by
`python -m eval.fit_cross_encoder --final`. score() returns one raw logit per sentence (higher = more likely the
sentence holding the answer); they are not probabilities, combine them with the feature model's score by a fitted
weight rather than a hand-set threshold.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

DEFAULT_PATH = Path(__file__).resolve().parent / "params" / "cross_encoder"
MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
MAX_LENGTH = 128


class CrossEncoderMissing(FileNotFoundError):
    """The exported cross-encoder files are not where they were looked for."""


class CrossEncoderScorer:
    """Scores (question, sentence) pairs; score() is thread-safe (ONNX Runtime's run and the tokenizer are)."""

    def __init__(self, session, tokenizer) -> None:
        self._session = session
        self._tokenizer = tokenizer

    @classmethod
    def load(cls, path: Path | str | None = None, threads: int = 1) -> CrossEncoderScorer:
        folder = Path(path) if path is not None else DEFAULT_PATH
        missing = [name for name in (MODEL_FILE, TOKENIZER_FILE) if not (folder / name).is_file()]
        if missing:
            raise CrossEncoderMissing(
                f"cross-encoder files missing in {folder}: {', '.join(missing)}; "
                "make them with `python -m eval.fit_cross_encoder --final`"
            )
        import onnxruntime as ort
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
        tokenizer.enable_truncation(MAX_LENGTH, strategy="longest_first")
        tokenizer.no_padding()
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # Idle ORT threads spin by default, which steals the cores from the LLM and from Chroma.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        session = ort.InferenceSession(str(folder / MODEL_FILE), options, providers=["CPUExecutionProvider"])
        return cls(session, tokenizer)

    def score(self, question: str, sentences: list[str]) -> np.ndarray:
        """One raw logit per sentence, in order. One pair per run: int8 activations are scaled per run, so a batch
        would make a pair's score depend on its neighbours and on padding (as in core/onnx_minilm.py)."""
        out = np.zeros(len(sentences), dtype=np.float32)
        if not sentences:
            return out
        encodings = self._tokenizer.encode_batch([(question, s) for s in sentences])
        for row, enc in enumerate(encodings):
            ids = np.asarray([enc.ids], dtype=np.int64)
            feed = {
                "input_ids": ids,
                "attention_mask": np.ones_like(ids),
                "token_type_ids": np.asarray([enc.type_ids], dtype=np.int64),
            }
            out[row] = self._session.run(None, feed)[0].reshape(-1)[0]
        return out
