"""Shared fixtures: the real bundled MiniLM (loaded once) and a real on-disk Chroma store per test."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import pytest


@pytest.fixture(scope="session")
def embedder():
    from ingest.embeddings import Embedder

    return Embedder()


@pytest.fixture
def store(tmp_path):
    from ingest.store import make_store
    from pressqa.settings import Settings

    return make_store(Settings(data=tmp_path / "data", chroma_url=None))
