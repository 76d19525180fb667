"""The Markdown table of a bench run, with each target marked met or missed."""

from __future__ import annotations


def _mark(ok: bool | None) -> str:
    return "—" if ok is None else ("met" if ok else "**missed**")


def _ingest_rows(title: str, ing: dict, ratio_target: float) -> list[str]:
    p, t = ing["pressqa"], ing["tutorial"]
    ok = ing["chunks_per_s_ratio"] >= ratio_target and p["recall_at_5"] >= t["recall_at_5"]
    return [
        f"| {title}: releases | {ing['releases']} | {ing['releases']} | |",
        f"| {title}: chunks (chars/chunk) | {p['chunks']} ({ing['chars_per_chunk']['pressqa']}) "
        f"| {t['chunks']} ({ing['chars_per_chunk']['tutorial']}) | |",
        f"| {title}: ingest time | {p['ingest_s']} s | {t['ingest_s']} s | ×{ing['time_ratio']} faster |",
        f"| {title}: chunks/s | {p['chunks_per_s']} | {t['chunks_per_s']} | ×{ing['chunks_per_s_ratio']} (target ≥ ×{ratio_target}: {_mark(ok)}) |",
        f"| {title}: recall@5, {ing['questions']} dev questions | {p['recall_at_5']:.3f} | {t['recall_at_5']:.3f} | "
        f"{_mark(p['recall_at_5'] >= t['recall_at_5'])} |",
        f"| {title}: model load | {p['model_load_s']} s | {t['model_load_s']} s | |",
        f"| {title}: peak RSS of the ingest process | {p['peak_rss_mb']} MB | {t['peak_rss_mb']} MB | |",
    ]


def markdown(r: dict) -> str:
    m = r["machine"]
    targets = r["targets"]
    lines = [
        f"## pressqa benchmark — {m['date']}",
        "",
        f"{m['cpu']}, {m['cores']} cores (bf16: {m['bf16']}, int8 VNNI: {m.get('int8_vnni')}), Python {m['python']}; "
        f"load average {m['load_avg_at_start']} at start, {m.get('load_avg_at_end')} at end.",
        "",
        "| measure | pressqa | LangChain tutorial | ratio / target |",
        "|---|---|---|---|",
    ]
    lines += _ingest_rows("bundled", r["ingest"], targets["ingest_ratio"])
    if "ingest_whitehouse_all" in r:
        lines += _ingest_rows("White House", r["ingest_whitehouse_all"], targets["ingest_ratio"])
    p = r["ingest"]["pressqa"]
    lines += [
        f"| embeddings | {p['embedding_dtype']} (min cosine to fp32 {p.get('min_cosine_to_fp32', p.get('bf16_min_cosine_to_fp32'))}) | fp32 | |",
    ]
    enc = r.get("encoders")
    if enc:
        lines += ["", f"| encoder, {enc['texts']} stored chunks (~{enc['mean_chars']} chars) | chunks/s | × fp32 | cosine to fp32 min / mean |",
                  "|---|---|---|---|"]
        for dtype in ("fp32", "bf16", "int8"):
            if dtype in enc:
                e = enc[dtype]
                lines.append(f"| {dtype} | {e['chunks_per_s']} | {e.get('speedup_vs_fp32', 1.0)} | "
                             f"{e['min_cosine_to_fp32']} / {e['mean_cosine_to_fp32']} |")
    lines += [
        "",
        "| query latency | chunks | p50 | p95 | max | target |",
        "|---|---|---|---|---|---|",
    ]
    lat = r["latency"]
    for size in ("bundled", "large"):
        s = lat[size]
        rt, an = s["retrieval"], s["answer"]
        ok = rt["p95_ms"] <= targets["retrieval_p95_ms_at_50k"] if size == "large" and s["chunks"] >= 50_000 else None
        lines.append(f"| retrieval ({rt['n']} searches) | {s['chunks']} | {rt['p50_ms']} ms | {rt['p95_ms']} ms | {rt['max_ms']} ms | "
                     f"{'p95 ≤ 50 ms: ' + _mark(ok) if ok is not None else ''} |")
        lines.append(f"| full answer, local SmolLM2 ({an['n']} questions, {an['abstained']} abstained) | {s['chunks']} | "
                     f"{an['p50_ms'] / 1000:.2f} s | {an['p95_ms'] / 1000:.2f} s | {an['max_ms'] / 1000:.2f} s | |")
    g = lat["growth"]
    lines += [
        "",
        f"Large index: {g['synthetic_chunks']} synthetic chunks ({g['synthetic_releases']} releases) written in {g['write_s']} s; "
        f"BM25 over {lat['large']['chunks']} chunks: full build in a fresh process {g.get('lexical_full_build_s')} s, "
        f"re-sync after one release was re-ingested {g.get('lexical_resync_after_one_write_s')} s "
        f"({g.get('lexical_releases_reread')} release re-read). "
        f"Peak RSS of the latency process (embedder + SmolLM2 + index): {lat['peak_rss_mb']} MB.",
        "",
        "| service cold start (`pressqa serve`, existing index, cached models) | to /readyz 200 | first answer | peak RSS | target |",
        "|---|---|---|---|---|",
    ]
    for i, c in enumerate(r["cold_start"], 1):
        ok = c["ready_s"] is not None and c["ready_s"] <= targets["cold_start_s"]
        lines.append(f"| run {i} | {c['ready_s']} s | {c.get('first_answer_s')} s | {c['peak_rss_mb']} MB | ≤ 10 s: {_mark(ok)} |")
    lines += ["", f"Whole run: {r['bench_s']} s.", ""]
    return "\n".join(lines)
