"""All pressqa settings in one place: PRESSQA_* environment variables or a .env file."""

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Created only at the composition roots (CLI, app factory) and passed down."""

    model_config = SettingsConfigDict(env_prefix="PRESSQA_", env_file=".env", extra="ignore")

    # Storage
    data: Path = Field(Path("data"), description="Data dir: Chroma on disk, cached model weights.")
    chroma_url: str | None = Field(None, description="Use a Chroma server (http://host:port) instead of the on-disk store.")
    collection_prefix: str = "pressqa"
    corpus: Path = Field(REPO_ROOT / "corpus", description="Bundled corpus indexed by the main job and the eval.")

    model_cache: Path = Field(
        Path.home() / ".cache" / "pressqa",
        description="Converted models (SmolLM2 GGUF → safetensors, MiniLM → int8 ONNX), shared by every data dir on this machine.",
    )

    # Embeddings
    embedding_model: Path | None = Field(None, description="Path of a sentence-transformers model; default: the bundled all-MiniLM-L6-v2.")
    embedding_dtype: Literal["auto", "int8", "bf16", "fp32"] = Field(
        "auto", description="auto: int8 ONNX on every CPU (one index whatever machine built it), else bf16 where native, else fp32; each kept only if close to fp32."
    )
    embedding_batch_size: int = 64
    chunk_max_tokens: int = 256

    # Retrieval
    retrieve_k: int = 8
    dense_candidates: int = 40
    lexical_candidates: int = 40

    # LLM
    llm_backend: Literal["local", "openai", "none"] = "local"
    llm_model_file: Path | None = Field(None, description="GGUF file of the local model; default: the bundled SmolLM2-135M-Instruct.")
    llm_base_url: str | None = None
    llm_model: str = "SmolLM2-135M-Instruct"
    llm_api_key: str = "not-needed"
    llm_timeout_s: float = 30.0
    llm_max_new_tokens: int = 96
    llm_dtype: Literal["auto", "bf16", "fp32"] = Field("auto", description="Local model dtype; auto: bf16 where the CPU has native bf16 (measured faster), else fp32.")
    llm_threads: int | None = Field(None, description="Torch threads for the local model; default: the CPUs this process may use.")
    llm_choice_candidates: int = Field(
        10, description="With llm_backend=openai: how many of the reader's candidate sentences the model chooses among."
    )
    llm_choice_max_tokens: int = Field(
        128, ge=16, description="With llm_backend=openai: the most tokens the model may write for its JSON choice."
    )
    llm_choice_json_mode: bool = Field(
        True,
        description="With llm_backend=openai: ask for response_format=json_object (a server that refuses it is asked "
        "once more without it, and no longer after that).",
    )

    # Reader
    reader_params: Path | None = Field(
        None, description="Fitted reader parameters (JSON); default: service/reader/params/reader.json, refit by `python -m eval.fit_reader --squad-train`."
    )

    # Service
    host: str = "127.0.0.1"
    port: int = 8000
    api_keys: str | None = Field(None, description="Comma-separated API keys; when set every API route needs a Bearer key.")
    max_upload_bytes: int = 20 * 1024 * 1024
    max_request_bytes: int = 1024 * 1024
    allowed_hosts: str = Field(
        "127.0.0.1,localhost,[::1]",
        description="Comma-separated Host names the server answers to (the bind address is always added); "
        "others get 400, which defeats DNS rebinding. '*' accepts any.",
    )
    allowed_origins: str | None = Field(
        None,
        description="Comma-separated extra origins (scheme://host[:port]) whose pages may upload and delete releases, "
        "e.g. the public URL behind a reverse proxy; the server's own origin is always allowed.",
    )

    @property
    def api_key_list(self) -> list[str]:
        return [k.strip() for k in (self.api_keys or "").split(",") if k.strip()]

    @property
    def allowed_host_list(self) -> list[str]:
        hosts = [h.strip().lower() for h in self.allowed_hosts.split(",") if h.strip()]
        bind = self.host.strip().lower()
        bind = f"[{bind.strip('[]')}]" if ":" in bind else bind
        return hosts if bind in hosts else [*hosts, bind]

    @property
    def allowed_origin_list(self) -> list[str]:
        return [o.strip().rstrip("/").lower() for o in (self.allowed_origins or "").split(",") if o.strip()]
