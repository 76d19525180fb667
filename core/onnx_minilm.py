"""The sentence encoder as an int8 ONNX Runtime model: exported once from the bundled weights and cached.

Embedding is ~90% of ingest time. On CPUs with AVX512-VNNI (or AVX-VNNI) ONNX Runtime's int8 matrix kernels run
MiniLM about twice as fast as torch fp32. Weights are quantized per output channel (per-tensor int8 drifted to a
cosine of 0.90 on corpus chunks); the Embedder measures the drift against fp32 and keeps this encoder only when it
stays small.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import threading
import warnings
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

CACHE_DIRNAME = "minilm-onnx"
INT8_FILE = "model-int8.onnx"
# Bumped whenever the export recipe changes, so an older cached file is not reused.
RECIPE = "bert-fused-dynamic-int8-per-channel-v1"
INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def _weights_key(model_path: Path) -> str:
    """Short hash of the weight files and the recipe: the cache entry belongs to exactly these weights."""
    digest = hashlib.sha256(RECIPE.encode())
    for name in sorted(p.name for p in model_path.iterdir() if p.suffix in (".safetensors", ".bin", ".json")):
        with open(model_path / name, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:16]


def ensure_int8_model(transformer, model_path: Path, cache_dir: Path, hidden_size: int, heads: int) -> Path:
    """The cached int8 ONNX file for these weights, exported from `transformer` (a loaded HF BERT) the first time."""
    target = cache_dir / CACHE_DIRNAME / _weights_key(model_path) / INT8_FILE
    if target.is_file():
        return target
    log.info("exporting the embedding model to int8 ONNX once (a few seconds) into %s", target.parent)
    # The tracer warns about data-dependent branches and index ops in its output on the console; the exported
    # encoder is checked against fp32 on real sentences before it is used (MIN_INT8_COSINE), which is the check.
    return export_bert_int8(
        output_of(transformer, "last_hidden_state"), transformer.config, target,
        {"last_hidden_state": {0: "batch", 1: "tokens"}}, heads=heads, hidden_size=hidden_size,
    )


def output_of(model, name: str):
    """`model` (a Hugging Face BERT) as a module that returns only its output `name`, as export_bert_int8 takes it."""
    import torch

    class Output(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            out = self.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return getattr(out, name)

    return Output()


def export_bert_int8(
    module, config, target: Path, outputs: dict[str, dict[int, str]], heads: int | None = None,
    hidden_size: int | None = None, sample_batch: int = 2,
) -> Path:
    """Export `module` (a BERT with a head: forward(input_ids, attention_mask, token_type_ids) -> outputs) to `target`
    as int8 ONNX: the fused BERT graph, weights quantized per output channel with dynamic int8 activations.

    One recipe for every MiniLM pressqa runs (the encoder here, the pointer model, the cross-encoder experiment), so
    that what was measured on one holds for the others. `outputs` names each output with its dynamic axes. A killed
    export leaves only a hidden tmp folder beside `target`, never a half-written model file.
    """
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers import optimizer

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=target.parent))
    try:
        attn = config._attn_implementation
        config._attn_implementation = "eager"  # the ONNX attention fusion recognises the eager graph
        try:
            sample = torch.ones((sample_batch, 8), dtype=torch.long)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                torch.onnx.export(
                    module.eval(),
                    (sample, sample, torch.zeros_like(sample)),
                    str(tmp / "fp32.onnx"),
                    input_names=list(INPUTS),
                    output_names=list(outputs),
                    dynamic_axes={**{name: {0: "batch", 1: "tokens"} for name in INPUTS}, **outputs},
                    opset_version=17,
                    dynamo=False,
                )
        finally:
            config._attn_implementation = attn
        fused = optimizer.optimize_model(
            str(tmp / "fp32.onnx"), model_type="bert", num_heads=heads or config.num_attention_heads,
            hidden_size=hidden_size or config.hidden_size, opt_level=1,
        )
        fused.save_model_to_file(str(tmp / "fused.onnx"))
        quantize_dynamic(
            str(tmp / "fused.onnx"),
            str(tmp / "int8.onnx"),
            weight_type=QuantType.QInt8,
            per_channel=True,
            # Fused ops (Attention, SkipLayerNormalization) are outside ONNX shape inference: their outputs are float.
            extra_options={"DefaultTensorType": 1},
        )
        os.replace(tmp / "int8.onnx", target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


class OnnxEncoder:
    """Mean-pooled, L2-normalized sentence embeddings from the ONNX model; run() is thread-safe."""

    def __init__(self, onnx_path: Path, tokenizer_json: str, max_seq_length: int, threads: int) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_str(tokenizer_json)
        self._tokenizer.enable_truncation(max_seq_length)
        self._tokenizer.no_padding()
        self._sessions: dict[int, object] = {}
        self._path = str(onnx_path)
        self._ort = ort
        self._threads = threads
        self._lock = threading.Lock()

    def _session(self, threads: int):
        with self._lock:
            if threads not in self._sessions:
                options = self._ort.SessionOptions()
                options.intra_op_num_threads = threads
                options.inter_op_num_threads = 1
                # Idle ORT threads spin by default, which steals the cores from the LLM and from Chroma.
                options.add_session_config_entry("session.intra_op.allow_spinning", "0")
                self._sessions[threads] = self._ort.InferenceSession(
                    self._path, options, providers=["CPUExecutionProvider"]
                )
            return self._sessions[threads]

    def _hidden_states(self, texts: list[str]):
        """(tokenizer encoding, last hidden state) of each text, one run per text.

        One text per run: int8 activations are scaled per run, so a batch would make a text's embedding depend on
        its neighbours and on padding (measured cosine 0.991 between one text alone and in a batch), and unpadded
        single runs are also the fastest here (65.5 chunks/s, vs 60.7 at 8 and 56.0 at 16 per batch)."""
        # One short text (a query) gains nothing from more threads (see Embedder._encode).
        session = self._session(1 if len(texts) == 1 else self._threads)
        for encoding in self._tokenizer.encode_batch(list(texts)):
            ids = np.asarray([encoding.ids], dtype=np.int64)
            feed = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}
            yield encoding, session.run(None, feed)[0][0]

    def encode(self, texts: list[str]) -> np.ndarray:
        """Mean-pooled, L2-normalized embeddings; a text's token states are dropped as soon as they are pooled."""
        return unit_rows([hidden.mean(axis=0) for _, hidden in self._hidden_states(texts)])

    def encode_tokens(self, texts: list[str]) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
        """encode(), and each text's contextual token vectors with their character offsets ((n, 2), (n, dim))."""
        tokens = [(np.asarray(encoding.offsets, dtype=np.int64), hidden) for encoding, hidden in self._hidden_states(texts)]
        return unit_rows([hidden.mean(axis=0) for _, hidden in tokens]), tokens


def unit_rows(rows: list[np.ndarray]) -> np.ndarray:
    """Stack pooled vectors and scale each to unit length (float32; (0, 0) for none)."""
    if not rows:
        return np.zeros((0, 0), dtype=np.float32)
    out = np.stack(rows).astype(np.float32, copy=False)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return (out / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)
