"""Bounded load run against a running server: N clients asking for S seconds while /healthz is probed.

    python -m bench.loadtest --url http://127.0.0.1:8000 --clients 20 --seconds 30
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time

import httpx

QUESTIONS = [
    "Who represented Turkmenistan at the Sixth China-Central Asia Foreign Ministers' Meeting?",
    "Who attended the China-Central Asia Foreign Ministers' Meeting for Kyrgyzstan?",
    "What did the Central Asian countries say about the Global Security Initiative?",
]


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1)


async def run(url: str, clients: int, seconds: float, api_key: str | None = None, timeout: float = 120.0) -> dict:
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    health: list[float] = []
    health_failures = 0
    deadline = time.monotonic() + seconds

    async def client_loop(http: httpx.AsyncClient, i: int) -> None:
        n = i
        while time.monotonic() < deadline:
            question = QUESTIONS[n % len(QUESTIONS)]
            n += 1
            started = time.monotonic()
            try:
                response = await http.post(url + "/api/ask", json={"question": question}, headers=headers)
                key = str(response.status_code)
            except httpx.HTTPError as exc:
                key = type(exc).__name__
            statuses[key] = statuses.get(key, 0) + 1
            if key == "200":
                latencies.append(time.monotonic() - started)

    async def probe(http: httpx.AsyncClient) -> None:
        nonlocal health_failures
        while time.monotonic() < deadline:
            started = time.monotonic()
            try:
                ok = (await http.get(url + "/healthz", timeout=5)).status_code == 200
            except httpx.HTTPError:
                ok = False
            health.append(time.monotonic() - started)
            health_failures += not ok
            await asyncio.sleep(0.2)

    limits = httpx.Limits(max_connections=clients + 2)
    async with httpx.AsyncClient(timeout=timeout, limits=limits) as http, httpx.AsyncClient() as prober:
        began = time.monotonic()
        await asyncio.gather(probe(prober), *(client_loop(http, i) for i in range(clients)))
        elapsed = time.monotonic() - began
    return {
        "clients": clients,
        "seconds": round(elapsed, 1),
        "answers_ok": len(latencies),
        "statuses": statuses,
        "requests_per_s": round(len(latencies) / elapsed, 2),
        "ask_ms": {"p50": _pct(latencies, 0.5), "p95": _pct(latencies, 0.95), "max": _pct(latencies, 1.0), "mean": round(statistics.fmean(latencies) * 1000, 1) if latencies else None},
        "healthz_ms": {"probes": len(health), "failures": health_failures, "p50": _pct(health, 0.5), "p95": _pct(health, 0.95), "max": _pct(health, 1.0)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--api-key")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.url.rstrip("/"), args.clients, args.seconds, args.api_key)), indent=2))


if __name__ == "__main__":
    main()
