"""Service cold start: `pressqa serve` on an existing index, from process start to /readyz 200."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _peak_rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


def cold_start(data: Path, question: str, log: Path, timeout_s: float = 180.0, chroma_url: str | None = None) -> dict:
    """Seconds to /readyz 200 (models from the local cache), then the first answer's latency and peak memory."""
    port = _free_port()
    exe = Path(sys.executable).with_name("pressqa")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "pressqa.cli"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PRESSQA_LLM_BACKEND": "local", "PRESSQA_API_KEYS": ""}
    if chroma_url:
        env["PRESSQA_CHROMA_URL"] = chroma_url
    url = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen([*cmd, "serve", "--host", "127.0.0.1", "--port", str(port), "--data", str(data)],
                                env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            ready_s = None
            while time.perf_counter() - t0 < timeout_s:
                if proc.poll() is not None:
                    break
                try:
                    if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                        ready_s = time.perf_counter() - t0
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.05)
            result: dict = {"ready_s": round(ready_s, 2) if ready_s else None}
            if ready_s:
                t1 = time.perf_counter()
                r = httpx.post(f"{url}/api/ask", json={"question": question}, timeout=timeout_s)
                result["first_answer_s"] = round(time.perf_counter() - t1, 2)
                result["first_answer_status"] = r.status_code
            result["peak_rss_mb"] = _peak_rss_mb(proc.pid)
            return result
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
