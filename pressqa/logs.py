"""Console output in one place: library verbosity, progress bars and the format of pressqa's own log lines.

pressqa prints one line per start-up phase ("embedder ready (int8) in 3.1 s"); libraries print nothing below a
warning, and no progress bars (the ONNX Runtime quantizer alone logs hundreds of INFO lines on the root logger).
"""

from __future__ import annotations

import logging
import os

# Read by the libraries when they are imported, so set before any of them is.
QUIET_ENV = {
    "HF_HUB_OFFLINE": "1",  # every model is bundled; a missing one must fail with a clear message
    "TRANSFORMERS_OFFLINE": "1",
    "ANONYMIZED_TELEMETRY": "False",  # Chroma
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "TQDM_DISABLE": "1",  # tqdm reads TQDM_* as defaults: "Converting and de-quantizing GGUF tensors…", "Batches:"
    "ORT_LOG_SEVERITY_LEVEL": "3",  # ONNX Runtime's C++ log: errors only
}

# pressqa's own loggers keep INFO (its phase lines); everything else only warnings and above.
OWN_LOGGERS = ("pressqa", "core", "ingest", "service", "eval")
NOISY_LOGGERS = ("onnxruntime", "onnx", "transformers", "sentence_transformers", "chromadb", "httpx", "urllib3",
                 "huggingface_hub", "torch", "accelerate", "gguf", "spacy")
LINE_FORMAT = "%(asctime)s pressqa: %(message)s"
DATE_FORMAT = "%H:%M:%S"


def quiet_libraries() -> None:
    """Environment for the libraries (a value the user set wins). Call before importing them."""
    for key, value in QUIET_ENV.items():
        os.environ.setdefault(key, value)


class _DropLibraryChatter(logging.Filter):
    """ONNX Runtime's quantizer logs through the root logger (logging.info/warning), so its name says nothing."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.ERROR:
            return True
        return f"{os.sep}onnxruntime{os.sep}quantization{os.sep}" not in record.pathname


class _DropProbes(logging.Filter):
    """uvicorn's access line for every /readyz and /healthz poll (the page polls each second while indexing)."""

    PROBES = ("/readyz", "/healthz")

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 5 and isinstance(args[2], str):
            path = args[2].split("?", 1)[0]
            # 503 is the probe's normal answer while the models load; anything else (a 500) stays in the log.
            return not (path in self.PROBES and args[4] in (200, 503))
        return True


def setup_logging(level: int = logging.INFO) -> None:
    """One handler on stderr: pressqa's lines at `level`, libraries at WARNING, the quantizer's chatter dropped."""
    quiet_libraries()
    root = logging.getLogger()
    if not any(getattr(h, "_pressqa", False) for h in root.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(LINE_FORMAT, DATE_FORMAT))
        handler.addFilter(_DropLibraryChatter())
        handler._pressqa = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(logging.WARNING)
    for name in OWN_LOGGERS:
        logging.getLogger(name).setLevel(level)
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    access = logging.getLogger("uvicorn.access")  # uvicorn's dictConfig later replaces handlers, keeps filters
    if not any(isinstance(f, _DropProbes) for f in access.filters):
        access.addFilter(_DropProbes())
    try:  # transformers keeps its own verbosity and progress-bar switches besides the environment
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
    except ImportError:
        pass


def seconds(value: float) -> str:
    """A duration as a person reads it: '0.4 s', '12 s', '4 min 37 s'."""
    if value < 10:
        return f"{value:.1f} s"
    if value < 60:
        return f"{value:.0f} s"
    minutes, rest = divmod(round(value), 60)
    return f"{minutes} min {rest} s"
