"""Fit the pointer model (service/reader/pointer.py): MiniLM fine-tuned to point at an answer's first and last token.

    python -m eval.fit_pointer                      # fit on every training source, write service/reader/params
    python -m eval.fit_pointer --folds 3 --fold-dir artifacts/pointer-folds   # also the models eval.fit_reader
                                                    # needs for out-of-fold span features (see its --pointer-folds)
    python -m eval.fit_pointer --hold-out-source jazz --no-write   # how it does on text it never saw

Training pairs are (question, sentence) at the grain the reader reads: the sentence holding a gold answer, with the
answer's characters as the target, and the question's most word-sharing other sentences of the same release or
paragraph with "no answer here" (the [CLS] token) as the target, so its scores compare across sentences. The sources
are eval.fit_reader's: eval/gold/train.yaml over the bundled corpus, the SQuAD article's questions outside the CI
sample, and the written articles of eval/gold/reading. Deterministic on one machine (seeded, two threads).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from eval.fit_reader import READING_DIR, SQUAD_EXCLUDE, SQUAD_PATH, sentence_is_evidence
from eval.gold import FIT_GOLD
from service.reader.lexicon import fold
from service.reader.pointer import MAX_TOKENS, POINTER_FILE, load_pointer_file

PARAMS_DIR = Path("service/reader/params")
# The pointer learns from more paragraph text than the reader's feature models: a network of 22 M weights gains from
# every question, while the feature models gained nothing from articles beyond the first seven
# (eval/EXPERIMENTS.md, sixth session).
POINTER_READING = (READING_DIR, READING_DIR / "pointer-only")
NEGATIVES = 2  # "no answer here" sentences per question
EPOCHS = 2.0
LEARNING_RATE = 5e-5
BATCH = 16
SEED = 0


@dataclass
class PointerItem:
    id: str
    source: str  # "press" or the stem of a SQuAD-format file (as eval.fit_reader.source_of)
    group: str  # eval.fit_reader's group: questions of one release or paragraph stay in one fold
    question: str
    sentences: list[str]  # of its release or paragraph
    answer_sentence: int | None  # index of the sentence holding the answer, None when unanswerable or not found
    span: tuple[int, int] | None  # the answer's characters in that sentence


def _sentences(text: str) -> list[str]:
    from core.chunking import split_sentences

    return [fold(text[s:e]) for s, e in split_sentences(text)]


def _locate(sentences: list[str], answers: list[str], evidence: list[str]) -> tuple[int | None, tuple[int, int] | None]:
    """The first sentence that is evidence (press: overlaps the gold quote; SQuAD: holds an answer) and holds an
    answer, with that answer's characters (the shortest answer found). A list answer ("A; B") counts any item."""
    answers = list(answers) + [part.strip() for a in answers if ";" in a for part in a.split(";") if part.strip()]
    for i, sentence in enumerate(sentences):
        if not sentence_is_evidence(sentence, evidence, answers):
            continue
        low = sentence.lower()
        for answer in sorted(answers, key=len):
            a = fold(answer).lower()
            at = low.find(a) if a else -1
            if at >= 0:
                return i, (at, at + len(a))
    return None, None


def squad_items(path: Path, exclude_sample: int = 0) -> list[PointerItem]:
    from eval.squad import fixed_sample, load_squad

    squad = load_squad(path)
    held = {q.id for q in fixed_sample(squad.questions, exclude_sample)} if exclude_sample else set()
    sentences = {rid: _sentences(text) for rid, text in squad.contexts.items()}
    items = []
    for q in squad.questions:
        if q.id in held:
            continue
        i, span = _locate(sentences[q.paragraph], q.answers, []) if q.answers else (None, None)
        items.append(PointerItem(q.id, path.stem, "squad:" + q.paragraph, fold(q.question), sentences[q.paragraph], i, span))
    return items


def press_items(gold: Path | list[Path], corpus: Path) -> list[PointerItem]:
    from eval.gold import load_gold
    from ingest.loaders import load_file

    items, files = [], {}
    for q in load_gold(gold):
        source = q.sources[0] if q.sources else None
        if source is None or not source.path:
            continue
        if source.path not in files:  # a feed file holds many releases: read it once, pick each by its URL
            files[source.path] = load_file(corpus / source.path)
        releases = files[source.path]
        match = [r for r in releases if not source.url or r.url == source.url] or releases
        sentences = _sentences(match[0].text)
        i, span = _locate(sentences, list(q.answers), list(q.evidence)) if q.answerable else (None, None)
        items.append(PointerItem(q.id, "press", source.release_key, fold(q.question), sentences, i, span))
    return items


def all_items(gold: Path | list[Path], corpus: Path, squad: Path, reading: list[Path]) -> list[PointerItem]:
    items = press_items(gold, corpus) + squad_items(squad, SQUAD_EXCLUDE)
    for path in reading:
        items += squad_items(path)
    return items


def pointer_fold(group: str, folds: int) -> int:
    """Stable fold of a group (eval.fit_reader reads the same function to pick the model that never saw it)."""
    return int(hashlib.sha256(("pointer:" + group).encode()).hexdigest(), 16) % folds


_WORD = re.compile(r"[a-z0-9]+")


def pairs(items: list[PointerItem], negatives: int = NEGATIVES) -> list[tuple[str, str, tuple[int, int] | None]]:
    """(question, sentence, answer characters or None) for training."""
    out = []
    for item in items:
        words = set(_WORD.findall(item.question.lower()))
        if item.span is not None:
            out.append((item.question, item.sentences[item.answer_sentence], item.span))
        others = [s for k, s in enumerate(item.sentences) if k != item.answer_sentence]
        others.sort(key=lambda s: -len(words & set(_WORD.findall(s.lower()))))
        out += [(item.question, s, None) for s in others[:negatives]]
    return out


# ---- the model ---------------------------------------------------------------------------------------------------


def _model_path() -> Path:
    from core.embeddings import default_model_path

    return default_model_path()


def _tokenizer():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(_model_path()))


class PointerNetwork:  # built lazily: torch is imported only when fitting
    @staticmethod
    def build():
        import torch
        from transformers import AutoModel

        class Network(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.encoder = AutoModel.from_pretrained(str(_model_path()))
                self.head = torch.nn.Linear(self.encoder.config.hidden_size, 2)

            def forward(self, input_ids, attention_mask, token_type_ids):
                hidden = self.encoder(
                    input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
                ).last_hidden_state
                logits = self.head(hidden)
                pad = attention_mask == 0
                return logits[..., 0].masked_fill(pad, -1e4), logits[..., 1].masked_fill(pad, -1e4)

        return Network()


def _targets(encoding, batch) -> tuple[list[int], list[int]]:
    """Token positions of each pair's answer (0, the [CLS] token, for none or an answer cut off by truncation)."""
    starts, ends = [], []
    for k, (_, _, span) in enumerate(batch):
        first = last = 0
        if span is not None:
            sequence = encoding.sequence_ids(k)
            offsets = encoding["offset_mapping"][k].tolist()
            inside = [t for t, (a, b) in enumerate(offsets) if sequence[t] == 1 and b > a and a >= span[0] and b <= span[1]]
            if inside:
                first, last = inside[0], inside[-1]
        starts.append(first)
        ends.append(last)
    return starts, ends


def _log(message: str) -> None:
    print(message, flush=True)


def train(data, epochs: float = EPOCHS, learning_rate: float = LEARNING_RATE, batch: int = BATCH, seed: int = SEED,
          log=_log):
    import torch

    torch.manual_seed(seed)
    torch.set_num_threads(2)
    rng = random.Random(seed)
    tokenizer = _tokenizer()
    network = PointerNetwork.build()
    data = list(data)
    steps = max(1, int(len(data) / batch * epochs))
    optimizer = torch.optim.AdamW(network.parameters(), lr=learning_rate, weight_decay=0.01)
    warmup = max(1, int(steps * 0.1))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda k: min(1.0, (k + 1) / warmup) * max(0.0, (steps - k) / max(1, steps - warmup))
    )
    network.train()
    started, step = time.perf_counter(), 0
    while step < steps:
        rng.shuffle(data)
        for b in range(0, len(data), batch):
            chunk = data[b : b + batch]
            encoding = tokenizer([q for q, _, _ in chunk], [s for _, s, _ in chunk], truncation="only_second",
                                 max_length=MAX_TOKENS, padding=True, return_offsets_mapping=True, return_tensors="pt")
            first, last = _targets(encoding, chunk)
            start, end = network(encoding["input_ids"], encoding["attention_mask"], encoding["token_type_ids"])
            loss = (torch.nn.functional.cross_entropy(start, torch.tensor(first))
                    + torch.nn.functional.cross_entropy(end, torch.tensor(last))) / 2
            loss.backward()
            torch.nn.utils.clip_grad_norm_(network.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            step += 1
            if step % 100 == 0 or step == steps:
                log(f"  step {step}/{steps}, loss {loss.item():.3f}, {time.perf_counter() - started:.0f} s")
            if step >= steps:
                break
    return network.eval()


def export_int8(network, target: Path) -> Path:
    """The network as an int8 ONNX file, by the recipe of the encoder (core.onnx_minilm.export_bert_int8)."""
    from core.onnx_minilm import export_bert_int8

    # One sentence per run at inference (service.reader.pointer), so it is traced with one.
    return export_bert_int8(network, network.encoder.config, target,
                            {name: {0: "batch", 1: "tokens"} for name in ("start_logits", "end_logits")}, sample_batch=1)


def evaluate(pointer, items: list[PointerItem]) -> dict:
    """On answerable items: F1 of the best span of the answer's sentence against the gold answer."""
    from eval.squad_official import compute_f1
    from service.reader.pointer import best_span

    f1s, scores, truth = [], [], []
    for item in items:
        if item.span is not None:
            sentence = item.sentences[item.answer_sentence]
            scored = pointer.score(item.question, [sentence])[0]
            _, a, b = best_span(scored.start, scored.end)
            predicted = sentence[scored.offsets[a, 0] : scored.offsets[b, 1]] if len(scored.offsets) else ""
            f1s.append(compute_f1(sentence[item.span[0] : item.span[1]], predicted))
    return {"answerable": len(f1s), "f1": float(np.mean(f1s)) if f1s else 0.0,
            "f1_at_least_half": float(np.mean(np.array(f1s) >= 0.5)) if f1s else 0.0}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gold", type=Path, nargs="+", default=list(FIT_GOLD),
                        help="press question files in the gold format (eval/gold/FORMAT.md)")
    parser.add_argument("--corpus", type=Path, default=Path("corpus"))
    parser.add_argument("--squad", type=Path, default=SQUAD_PATH)
    parser.add_argument("--reading", type=Path, nargs="*", default=None, help="SQuAD-format files or folders (default: eval/gold/reading and its pointer-only/)")
    parser.add_argument("--out", type=Path, default=PARAMS_DIR / POINTER_FILE)
    parser.add_argument("--folds", type=int, default=0, help="also fit this many fold models (for eval.fit_reader)")
    parser.add_argument("--fold-dir", type=Path, default=Path("artifacts/pointer-folds"))
    parser.add_argument("--hold-out-source", default=None, help="leave this source out of every model and report on it")
    parser.add_argument("--no-write", action="store_true", help="fit no final model (with --hold-out-source: a report)")
    parser.add_argument("--epochs", type=float, default=EPOCHS)
    parser.add_argument("--learning-rate", type=float, default=LEARNING_RATE)
    parser.add_argument("--negatives", type=int, default=NEGATIVES)
    args = parser.parse_args(argv)

    reading = []
    for path in args.reading if args.reading is not None else POINTER_READING:
        reading += sorted(path.glob("*.json")) if path.is_dir() else [path]
    items = all_items(args.gold, args.corpus, args.squad, reading)
    held = [i for i in items if i.source == args.hold_out_source]
    fit_on = [i for i in items if i.source != args.hold_out_source]
    found = sum(i.span is not None for i in items)
    print(f"{len(items)} questions ({found} with their answer located), {len(fit_on)} to fit on", flush=True)

    def fit(chosen: list[PointerItem], target: Path, what: str) -> Path:
        data = pairs(chosen, args.negatives)
        print(f"{what}: {len(data)} pairs from {len(chosen)} questions", flush=True)
        network = train(data, args.epochs, args.learning_rate)
        return export_int8(network, target)

    if args.folds:
        args.fold_dir.mkdir(parents=True, exist_ok=True)
        for f in range(args.folds):
            fit([i for i in fit_on if pointer_fold(i.group, args.folds) != f], args.fold_dir / f"fold-{f}.onnx", f"fold {f}")
        (args.fold_dir / "folds.json").write_text(json.dumps(
            {"folds": args.folds, "held_out": args.hold_out_source, "epochs": args.epochs, "negatives": args.negatives,
             "reading": [p.stem for p in reading]}, indent=1) + "\n")
        if not held:
            report = {}
            for f in range(args.folds):
                pointer = load_pointer_file(args.fold_dir / f"fold-{f}.onnx")
                for item in fit_on:
                    if pointer_fold(item.group, args.folds) == f:
                        report.setdefault(item.source, []).append((pointer, item))
            for source, pairs_ in sorted(report.items()):
                per = [evaluate(p, [i]) for p, i in pairs_]
                scored = [r for r in per if r["answerable"]]
                print(f"out of fold, {source}: answer-sentence F1 {np.mean([r['f1'] for r in scored]):.3f}, "
                      f"F1 >= 0.5 {np.mean([r['f1_at_least_half'] for r in scored]):.3f} ({len(scored)} answerable)")
    if held:
        model = args.fold_dir / "held-out.onnx" if args.no_write else args.out
        if not (args.folds and args.no_write):
            fit(fit_on, model, f"without {args.hold_out_source}")
        else:
            model = args.fold_dir / "fold-0.onnx"
        print(f"held out, {args.hold_out_source}: {evaluate(load_pointer_file(model), held)}", flush=True)
    elif not args.no_write:
        fit(fit_on, args.out, "final")
        print(f"wrote {args.out}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
