"""`python -m bench`: pressqa vs the LangChain tutorial pipeline, latency at two sizes, memory and cold start.

Writes a Markdown table to stdout and everything measured to artifacts/bench.json (and bench.md).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from bench import report
from bench.pipelines import peak_rss_mb, pressqa_ingest, run_isolated, tutorial_ingest
from bench.workload import gold_questions, load_releases, retrieval_queries, select
from pressqa.settings import REPO_ROOT, Settings

TARGETS = {"ingest_ratio": 4.0, "retrieval_p95_ms_at_50k": 50.0, "cold_start_s": 10.0}


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def machine() -> dict:
    model = ""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        model = next((ln.split(":", 1)[1].strip() for ln in out.splitlines() if ln.startswith("Model name")), "")
    except OSError:
        pass
    from core.cpu import cpu_has_bf16, cpu_has_vnni

    return {
        "cpu": model or platform.processor(),
        "cores": len(os.sched_getaffinity(0)),
        "bf16": cpu_has_bf16(),
        "int8_vnni": cpu_has_vnni(),
        "load_avg_at_start": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def compare_ingest(name: str, releases, queries, work: Path) -> dict:
    """Both pipelines on the same releases, each in its own process; recall@5 on the same queries."""
    log(f"{name}: pressqa ingest of {len(releases)} releases")
    ours = run_isolated(pressqa_ingest, releases, str(work / f"{name}-pressqa"), queries)
    log(f"{name}: pressqa {ours['chunks']} chunks in {ours['ingest_s']} s; tutorial ingest next")
    theirs = run_isolated(tutorial_ingest, releases, str(work / f"{name}-tutorial"), queries)
    log(f"{name}: tutorial {theirs['chunks']} chunks in {theirs['ingest_s']} s")
    return {
        "releases": len(releases),
        "questions": len(queries),
        "pressqa": ours,
        "tutorial": theirs,
        "chunks_per_s_ratio": round(ours["chunks_per_s"] / theirs["chunks_per_s"], 2),
        "time_ratio": round(theirs["ingest_s"] / ours["ingest_s"], 2),
        "chars_per_chunk": {
            "pressqa": round(sum(len(r.text) for r in releases) / max(1, ours["chunks"])),
            "tutorial": round(sum(len(r.text) for r in releases) / max(1, theirs["chunks"])),
        },
    }


def lexical_after_one_write(runtime, releases) -> dict:
    """What a write costs the lexical index at this size: a fresh process's full build, and an existing index's
    re-sync after one release is re-ingested (what every serving process pays after an upload elsewhere)."""
    from core.lexical import LexicalIndex

    t0 = time.perf_counter()
    LexicalIndex(runtime.store).refresh()
    full_build_s = time.perf_counter() - t0
    release = releases[0]
    changed = type(release)(**{**release.__dict__, "text": release.text + "\n\nAn added closing paragraph."})
    runtime.indexer.ingest_releases([changed])
    t0 = time.perf_counter()
    runtime.lexical.refresh()
    resync_s = time.perf_counter() - t0
    runtime.indexer.ingest_releases([release])  # put the original back for the latency runs
    runtime.lexical.refresh()
    return {"lexical_full_build_s": round(full_build_s, 2), "lexical_resync_after_one_write_s": round(resync_s, 2),
            "lexical_releases_reread": runtime.lexical.last_sync.get("releases_read")}


def measure_latency(data: Path, releases, queries, all_queries, args) -> dict:
    from bench.latency import answer_latency, grow, retrieval_latency, sentence_pool
    from pressqa.runtime import Runtime

    runtime = Runtime(Settings(data=data, chroma_url=None, llm_backend="local"))
    retriever = runtime.chain.retriever
    n_answers = 5 if args.quick else args.answers
    out: dict = {}
    log(f"latency at {runtime.store.count_chunks()} chunks")
    out["bundled"] = {
        "chunks": runtime.store.count_chunks(),
        "retrieval": retrieval_latency(retriever, all_queries, repeats=1 if args.quick else 3),
        "answer": answer_latency(runtime.chain, queries[:n_answers]),
    }
    log(f"growing the index to {args.chunks} chunks with synthetic releases")
    out["growth"] = grow(runtime.store, args.chunks, sentence_pool(releases))
    t0 = time.perf_counter()
    runtime.lexical.refresh()
    out["growth"]["lexical_sync_after_growth_s"] = round(time.perf_counter() - t0, 2)
    out["growth"].update(lexical_after_one_write(runtime, releases))
    log(f"latency at {runtime.store.count_chunks()} chunks (lexical: {out['growth']})")
    out["large"] = {
        "chunks": runtime.store.count_chunks(),
        "retrieval": retrieval_latency(retriever, all_queries, repeats=1 if args.quick else 3),
        "answer": answer_latency(runtime.chain, queries[:n_answers]),
    }
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--corpus", type=Path, default=REPO_ROOT / "corpus", help="Corpus root (default: the bundled corpus).")
    parser.add_argument("--whitehouse-all", type=Path, help="Also compare ingest on this folder (e.g. ../shared/corpus/whitehouse).")
    parser.add_argument("--limit", type=int, help="Use this many releases: every gold source, then others spread evenly.")
    parser.add_argument("--chunks", type=int, default=50_000, help="Index size for the large-index latency (default 50000).")
    parser.add_argument("--answers", type=int, default=8, help="Gold questions answered per size for full-answer latency.")
    parser.add_argument("--quick", action="store_true", help="Smoke run: 150 releases, 10000 chunks, 5 answers, one cold start.")
    parser.add_argument("--work", type=Path, help="Keep the indexes here (default: a temporary folder).")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "artifacts" / "bench.json")
    parser.add_argument("--resume", action="store_true",
                        help="Keep the phases already in --out (saved after each phase) and run the rest; needs --work.")
    args = parser.parse_args(argv)
    if args.quick:
        args.limit = args.limit or 150
        args.chunks = min(args.chunks, 10_000)

    started = time.perf_counter()
    result: dict = {"machine": machine(), "args": {k: str(v) for k, v in vars(args).items()}, "targets": TARGETS}
    if args.resume:
        if not args.work or not args.out.exists():
            parser.error("--resume needs --work and an earlier --out")
        done = json.loads(args.out.read_text())
        result.update({k: v for k, v in done.items() if k in ("load", "ingest", "ingest_whitehouse_all", "encoders", "latency", "cold_start")})
        result["resumed_from"] = done.get("machine", {}).get("date")

    def save() -> None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2, default=str) + "\n")

    gold = gold_questions()
    queries = retrieval_queries(gold)
    all_queries = retrieval_queries(gold, answerable_only=False)

    with tempfile.TemporaryDirectory(prefix="pressqa-bench-") as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        log(f"loading {args.corpus}")
        t0 = time.perf_counter()
        loaded, problems = load_releases([args.corpus])
        releases = select(loaded, gold, args.limit)
        result["load"] = {"releases_loaded": len(loaded), "releases_used": len(releases), "problems": problems,
                          "load_s": round(time.perf_counter() - t0, 2)}
        if "ingest" not in result:
            result["ingest"] = compare_ingest("bundled", releases, queries, work)
            save()

        if args.whitehouse_all and "ingest_whitehouse_all" not in result:
            log(f"loading {args.whitehouse_all}")
            wh, wh_problems = load_releases([args.whitehouse_all])
            wh_used = select(wh, gold, args.limit)
            wh_queries = [q for q in queries if all((s.path or "").startswith("whitehouse/") for s in q.gold.sources)]
            result["ingest_whitehouse_all"] = {
                "path": str(args.whitehouse_all), "releases_loaded": len(wh), "problems": len(wh_problems),
                **compare_ingest("whitehouse", wh_used, wh_queries, work),
            }
            save()

        data = work / "bundled-pressqa"
        if "encoders" not in result:
            from bench.encoders import compare_encoders
            from core.store import make_store

            log("encoder variants on 256 stored chunks")
            store = make_store(Settings(data=data, chroma_url=None))
            texts = store.chunks.get(limit=256, include=["documents"])["documents"]
            result["encoders"] = compare_encoders(texts)
            save()
        if "latency" not in result:
            result["latency"] = measure_latency(data, releases, queries, all_queries, args)
            save()
        log("cold start of `pressqa serve` (twice: the second with the OS file cache warm)")
        from bench.coldstart import cold_start

        runs = 1 if args.quick else 2
        result["cold_start"] = [cold_start(data, queries[0].gold.question, work / f"serve-{i}.log") for i in range(runs)]
    result["bench_s"] = round(time.perf_counter() - started, 1)
    result["machine"]["load_avg_at_end"] = [round(x, 2) for x in os.getloadavg()]

    save()
    markdown = report.markdown(result)
    args.out.with_suffix(".md").write_text(markdown)
    print(markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
