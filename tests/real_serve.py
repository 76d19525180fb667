"""A real `pressqa serve` process for the security and conformance tests (no LLM: answers quote the evidence)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from support import free_port, stop_process

PRESSQA = [str(Path(sys.executable).with_name("pressqa"))] if Path(sys.executable).with_name("pressqa").exists() else [sys.executable, "-m", "pressqa.cli"]


@dataclass
class Served:
    url: str
    port: int
    proc: subprocess.Popen
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def serve_env(**extra: str) -> dict:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PRESSQA_LLM_BACKEND": "none", "PRESSQA_API_KEYS": ""}
    env.pop("PRESSQA_CHROMA_URL", None)
    env.update(extra)
    return env


def start_serve(data: Path, log: Path, **env: str) -> Served:
    port = free_port()
    out = log.open("wb")
    proc = subprocess.Popen(
        [*PRESSQA, "serve", "--host", "127.0.0.1", "--port", str(port), "--data", str(data)],
        env=serve_env(**env), stdout=out, stderr=subprocess.STDOUT, cwd=data.parent,
    )
    return Served(f"http://127.0.0.1:{port}", port, proc, log)


def wait_ready(served: Served, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if served.proc.poll() is not None:
            raise AssertionError(f"pressqa serve exited {served.proc.returncode}: {served.log_text()[-3000:]}")
        try:
            if httpx.get(served.url + "/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"pressqa serve not ready in {timeout} s: {served.log_text()[-3000:]}")


def stop(served: Served) -> None:
    stop_process(served.proc, timeout=20)
