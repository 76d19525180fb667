"""Fit the reader's models on the training questions, with grouped cross-validation; write service/reader/params.

    python -m eval.fit_pointer --folds 3 --fold-dir artifacts/pointer-folds --no-write   # once, ~25 min
    python -m eval.fit_reader [--squad-train] [--out service/reader/params/reader.json]

Training data: the press questions of eval.gold.FIT_GOLD (eval/gold/train.yaml and train-written.yaml, or --gold)
over the bundled corpus (indexed in ./data, or --data), and with --squad-train
the SQuAD 2.0 file's questions outside the fixed 100-question CI sample and every question of the articles in
eval/gold/reading/ (or --reading), each file over its own paragraphs in a temporary index. Every figure printed is
out-of-fold: each question is scored by models fitted without it. --hold-out-source NAME scores one file's
questions by models fitted on the others alone, as text of a kind never seen is.

Four models, in order, each fitted on the out-of-fold output of the one before:
  sentence: is this pool sentence the evidence?            (every pool sentence, cheap features)
  rerank:   … again, with MiniLM's features as well         (the sentence model's shortlist)
  span:     is this candidate the answer?                   (candidates of the sentences read closely)
  answerable: is the reader's best choice right?            (one row per question; its threshold maximises accuracy)
The sentence model is a LightGBM LambdaRank model over the sentences of each question, which beat logistic regression
in cross-validation (right sentence first 0.681 vs 0.610; 0.658 with 15 leaves instead of 7). The re-ranker is a
LambdaRank model over the shortlist's cheap features plus MiniLM's (service/reader/dense.py): out of fold, right
sentence first 0.677 vs 0.642 on press questions and 0.828 vs 0.676 on SQuAD. The span model stacks a
LambdaRank model and a logistic regression over the candidates (model.StackedSpanModel). Out of fold, on the
candidates of the evidence sentences, its first candidate is right 0.611 of the time on press questions and 0.417 on
SQuAD, against 0.539 and 0.371 for the regression alone; the ranker alone orders about as well (0.632, 0.424) but its
scores do not compare across questions, which answerability needs. Answerability is a logistic regression.
The span model also reads the pointer model's scores of each candidate (service/reader/pointer.py); a question's
come from the pointer fold model fitted without its release or paragraph (--pointer-folds), as every other score
the next model is fitted on is out of fold. The shipped pointer model (eval.fit_pointer without --folds) is fitted
on all of them.
Answerability also fits on unanswerable twins of the answerable questions (unanswerable_twins; --no-twins leaves
them out); the threshold and every figure printed come from the real questions only.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from eval.gold import FIT_GOLD  # noqa: E402
from eval.squad import PASS_F1  # noqa: E402
from eval.squad_official import compute_f1, normalize_answer  # noqa: E402

FOLDS = 5
# train.yaml's pools are cached under the key "press" (caches made before several files were fitted on still serve)
DEFAULT_GOLD = FIT_GOLD[0]
# SQuAD 2.0-format question sets over other kinds of text, written for fitting (eval/gold/reading/README.md).
READING_DIR = Path("eval/gold/reading")
SQUAD_PATH = Path("eval/external/squad2-dev-computational-complexity.json")
SQUAD_EXCLUDE = 100  # the CI sample of the SQuAD article (eval/thresholds-squad.yaml), never fitted on
MIN_LABEL_COUNT = 3  # a (wh, label) cell seen fewer times falls back to the label's rate over all questions
# Half-width of the window over which the abstention threshold's accuracy is averaged (choose_threshold).
SMOOTHING = 0.05


@dataclass
class Example:
    """One training question with its pool and gold labels."""

    id: str
    group: str  # questions sharing a group are kept in one fold (same source release or paragraph)
    answers: list[str]
    evidence: list[str]
    answerable: bool
    gathered: object  # service.chain.Gathered
    sentence_labels: np.ndarray | None = None
    reading: object = None
    synthetic: bool = False  # an unanswerable twin (unanswerable_twins): fitted on by answerability only, never scored


def _norm(text: str) -> str:
    from service.reader.lexicon import fold

    return re.sub(r"\s+", " ", fold(text)).strip().lower()


def sentence_is_evidence(sentence: str, evidence: list[str], answers: list[str]) -> bool:
    """Gold quotes (press) overlap the sentence; SQuAD has no quote, so the sentence must hold a gold answer."""
    s = _norm(sentence)
    if evidence:
        for ev in evidence:
            e = _norm(ev)
            if not e:
                continue
            if e in s or (len(s) >= 25 and s in e):
                return True
            words = e.split()
            # a quote spanning a sentence break: any 8 consecutive words of it in the sentence
            if any(" ".join(words[i : i + 8]) in s for i in range(0, max(1, len(words) - 7))) and len(words) >= 8:
                return True
        return False
    return any(_contains_answer(s, a) for a in answers)


def _contains_answer(sentence_norm: str, answer: str) -> bool:
    a = normalize_answer(answer)
    return bool(a) and f" {a} " in f" {normalize_answer(sentence_norm)} "


def best_f1(answers: list[str], prediction: str) -> float:
    return max((compute_f1(a, prediction) for a in answers), default=0.0)


# ---- data ------------------------------------------------------------------------------------------------------


def press_examples(runtime, questions) -> list[Example]:
    """Each gold question (eval.gold.GoldQuestion) with the pool the chain gathers for it."""
    from service.retrieval import Filters

    examples = []
    for q in questions:
        gathered = runtime.chain.gather(q.question, list(q.history) or None, Filters())
        examples.append(Example(q.id, press_group(q), list(q.answers), list(q.evidence), q.answerable, gathered))
    return examples


def press_group(question) -> str:
    """A press question's fold group: the release it is answered from (a feed item by its URL)."""
    return str((question.sources[0].release_key or question.id) if question.sources else question.id)


def source_of(example: Example) -> str:
    """Where a question comes from: "press", or the stem of its SQuAD-format file."""
    return example.group.split(":")[2] if example.group.startswith("squad:squad:") else "press"


def squad_examples(runtime, squad_path: Path, exclude_sample: int) -> list[Example]:
    from eval.squad import fixed_sample, load_squad, squad_releases
    from service.retrieval import Filters

    squad = load_squad(squad_path)
    runtime.indexer.ingest_releases(squad_releases(squad))
    held = {q.id for q in fixed_sample(squad.questions, exclude_sample)} if exclude_sample else set()
    examples = []
    for q in squad.questions:
        if q.id in held:
            continue
        gathered = runtime.chain.gather(q.question, None, Filters())
        examples.append(Example(q.id, "squad:" + q.paragraph, list(q.answers), [], bool(q.answers), gathered))
    return examples


# Entity types swapped to make an unanswerable twin: the things a question names that a release is about.
TWIN_LABELS = ("PERSON", "NORP", "FAC", "ORG", "GPE", "LOC", "EVENT")


def unanswerable_twins(examples: list[Example], reader, encode_query, seed: int = 0) -> list[Example]:
    """SQuAD 2.0-style unanswerable questions made from the answerable ones: one entity the question names is
    swapped for another of the same type, taken from another training question, that no release of the pool names
    (in any derived form). The pool is kept, as the rest of the question still retrieves it, so a twin is on topic
    and lacks the fact: what "who represented <a country that was not there>" looks like, and what the real
    unanswerable questions, too few, rarely show.
    """
    import dataclasses
    import random

    from service.reader.lexicon import content_stems, fold
    from service.reader.names import name_in

    answerable = [ex for ex in examples if ex.answerable and not ex.synthetic]
    docs = reader.parse([fold(ex.gathered.standalone) for ex in answerable])
    by_label: dict[str, dict[str, list[str]]] = {}  # label -> entity text -> its stems
    for doc in docs:
        for ent in doc.ents:
            if ent.label_ in TWIN_LABELS:
                by_label.setdefault(ent.label_, {})[ent.text] = content_stems(ent.text)
    rng = random.Random(seed)
    twins = []
    for ex, doc in zip(answerable, docs):
        ents = [e for e in doc.ents if e.label_ in TWIN_LABELS]
        if not ents:
            continue
        ent = rng.choice(ents)
        pool_stems = set()
        for release in {id(s.release): s.release for s in ex.gathered.pool}.values():
            pool_stems |= set(content_stems(release.text + " " + release.title))
        options = sorted(t for t, stems in by_label[ent.label_].items()
                         if stems and not any(name_in(st, pool_stems) for st in stems))
        if not options:
            continue
        text = doc.text[: ent.start_char] + rng.choice(options) + doc.text[ent.end_char :]
        gathered = dataclasses.replace(ex.gathered, question=text, standalone=text, analysis=reader.analyze(text),
                                       question_vector=encode_query(text))
        twins.append(Example(ex.id + "~twin", ex.group, [], [], False, gathered, synthetic=True))
    return twins


# ---- fitting ---------------------------------------------------------------------------------------------------


def folds_of(examples: list[Example], seed: int = 0, held_out: str | None = None) -> list[int]:
    """Fold of each example: whole groups per fold, spread by a stable hash (salted by `seed` when not 0, to see how
    much a figure moves with the split alone).

    `held_out` (a source, see source_of) puts that source's questions alone in fold 0 and spreads the rest over the
    others, so the held-out source is scored by models that never saw its kind of text, as a new user's text is.
    """
    import hashlib

    salt = f"{seed}:" if seed else ""

    def spread(e: Example, n: int) -> int:
        return int(hashlib.sha256((salt + e.group).encode()).hexdigest(), 16) % n

    if held_out is None:
        return [spread(e, FOLDS) for e in examples]
    return [0 if source_of(e) == held_out else 1 + spread(e, FOLDS - 1) for e in examples]


def type_table(examples: list[Example], span_labels: list[np.ndarray]) -> dict[str, dict[str, float]]:
    """Log-odds, per wh-word, that a candidate of a label is the answer, relative to all candidates (smoothed)."""
    counts: dict[str, dict[str, list[int]]] = {}
    overall: dict[str, list[int]] = {}
    for ex, labels in zip(examples, span_labels):
        for (_, cand), y in zip(ex.reading.span_index, labels):
            for key, table in ((ex.gathered.analysis.wh, counts.setdefault(ex.gathered.analysis.wh, {})), ("_all", overall)):
                cell = table.setdefault(cand.label, [0, 0])
                cell[0] += int(y)
                cell[1] += 1
    total_pos = sum(c[0] for c in overall.values()) + 1
    total = sum(c[1] for c in overall.values()) + 2
    base = math.log(total_pos / (total - total_pos))

    def odds(pos: int, n: int, prior: float) -> float:
        # additive smoothing towards the prior rate with the weight of 4 candidates
        p = (pos + 4 * prior) / (n + 4)
        return math.log(p / (1 - p)) - base

    global_rate = {l: (c[0] + 1) / (c[1] + 2) for l, c in overall.items()}
    table = {"_all": {l: odds(c[0], c[1], global_rate[l]) for l, c in overall.items()}}
    table["_all"]["_other"] = 0.0
    for wh, cells in counts.items():
        table[wh] = {l: odds(c[0], c[1], global_rate[l]) for l, c in cells.items() if c[1] >= MIN_LABEL_COUNT}
        table[wh]["_other"] = odds(0, 0, total_pos / total)
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gold", type=Path, nargs="+", default=list(FIT_GOLD),
                        help="press question files in the gold format (eval/gold/FORMAT.md), fitted on together")
    parser.add_argument("--data", type=Path, default=None, help="data dir holding the bundled corpus index")
    parser.add_argument("--squad", type=Path, default=SQUAD_PATH)
    parser.add_argument("--squad-train", action="store_true", help="also fit on the SQuAD questions outside the CI sample")
    parser.add_argument("--pointer-folds", type=Path, default=Path("artifacts/pointer-folds"),
                        help="fold models from `python -m eval.fit_pointer --folds 3 --fold-dir DIR`: each question's "
                             "pointer features come from the one fitted without its release or paragraph")
    parser.add_argument("--squad-exclude", type=int, default=SQUAD_EXCLUDE, help="size of the CI sample kept out of training")
    parser.add_argument("--reading", type=Path, nargs="*", default=None,
                        help="more SQuAD 2.0-format files (or folders of them) to fit on, every question, each over its own "
                             "paragraphs (default with --squad-train: eval/gold/reading/)")
    parser.add_argument("--hold-out-source", default=None,
                        help="measuring only: score this source (a SQuAD file's stem) by models fitted on the other sources")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--design", type=Path, default=None, help="write the design matrices (npz), sentence pairs, best choices and every candidate read (jsonl) here")
    parser.add_argument("--read-per-release", type=int, default=None,
                        help="sentences read from every release besides the best overall (default: the reader's own)")
    parser.add_argument("--pools", type=Path, default=None, help="cache of the gathered pools (reused when it exists)")
    parser.add_argument("--no-twins", action="store_true", help="fit answerability on the real questions only")
    parser.add_argument("--fold-seed", type=int, default=0, help="another split into folds (the figures' noise; the committed fit uses 0)")
    args = parser.parse_args(argv)

    from pressqa.runtime import Runtime
    from pressqa.settings import Settings
    from service.reader import RERANK_FEATURES, Reader, spread
    from service.reader.model import PARAMS_DIR, RERANK_PARAMS, LinearModel, ReaderParams, fit_linear, fit_ranker, stack
    from service.reader.answerability import ANSWERABLE_FEATURES
    from service.reader.sentences import SENTENCE_FEATURES
    from service.reader.spans import SPAN_FEATURES

    started = time.perf_counter()
    # A neutral reader (zero weights) lets the chain gather pools before any model exists.
    def neutral(features):
        n = len(features)
        return LinearModel(tuple(features), np.zeros(n), np.ones(n), np.zeros(n), 0.0)

    labels_list = ["PERSON", "NORP", "FAC", "ORG", "GPE", "LOC", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW", "LANGUAGE",
                   "DATE", "TIME", "PERCENT", "MONEY", "QUANTITY", "ORDINAL", "CARDINAL"]  # spaCy's OntoNotes labels
    params = ReaderParams(neutral(SENTENCE_FEATURES), neutral(SPAN_FEATURES), neutral(ANSWERABLE_FEATURES), {}, 0.5,
                          {"labels": labels_list})
    settings = Settings(**({"data": args.data} if args.data else {}))
    runtime = Runtime(settings)
    if not (args.pointer_folds / "folds.json").is_file():
        raise SystemExit(f"no pointer fold models in {args.pointer_folds}: run `python -m eval.fit_pointer --folds 3 "
                         f"--fold-dir {args.pointer_folds}` first (about 25 minutes on 2 cores)")
    pointers = FoldPointers(args.pointer_folds, args.hold_out_source)
    runtime.__dict__["reader"] = Reader(params, runtime.embedder.encode, encode_tokens=runtime.embedder.encode_tokens,
                                        pointer=pointers)
    import pickle

    from eval.gold import load_gold

    cached = pickle.loads(args.pools.read_bytes()) if args.pools and args.pools.exists() else {}
    examples, cache_changed = [], False
    for gold in args.gold:
        # train.yaml keeps the cache key it always had, so caches made before several files were read still serve
        key = "press" if gold == DEFAULT_GOLD else f"press:{gold.name}"
        questions = load_gold(gold)
        if key not in cached:
            cached[key] = press_examples(runtime, questions)
            cache_changed = True
        groups = {q.id: press_group(q) for q in questions}
        for ex in cached[key]:  # a cache keeps the grouping of the day it was made
            ex.group = groups.get(ex.id, ex.group)
        examples = examples + cached[key]
    print(f"press pools: {len(examples)} questions in {time.perf_counter() - started:.0f} s", flush=True)

    def paragraph_pools(path: Path, exclude: int) -> list[Example]:
        """The questions of one SQuAD-format file, each over that file's paragraphs alone (a temporary index)."""
        with tempfile.TemporaryDirectory(prefix="pressqa-fit-squad-") as tmp:
            squad_runtime = Runtime(Settings(data=Path(tmp), model_cache=settings.model_cache))
            squad_runtime.__dict__["embedder"] = runtime.embedder
            squad_runtime.__dict__["reader"] = runtime.reader
            found = squad_examples(squad_runtime, path, exclude)
            del squad_runtime
        print(f"{path.name} pools: {len(found)} questions", flush=True)
        return found

    reading_files: list[Path] = []
    if args.squad_train:
        for path in args.reading if args.reading is not None else [READING_DIR]:
            reading_files += sorted(path.glob("*.json")) if path.is_dir() else [path]
    for key, path, exclude in ([("squad", args.squad, args.squad_exclude)] if args.squad_train else []) + [
            (f"reading:{p.stem}", p, 0) for p in reading_files]:
        if key not in cached:
            cached[key] = paragraph_pools(path, exclude)
            cache_changed = True
        examples = examples + cached[key]
    if args.pools and cache_changed:
        args.pools.write_bytes(pickle.dumps(cached))
    reader = runtime.reader
    for ex in examples:  # pools may come from the cache: the question analysis is always today's
        ex.gathered.analysis = reader.analyze(ex.gathered.standalone, ex.gathered.pool)
    if not args.no_twins:
        twins = unanswerable_twins(examples, reader, runtime.embedder.encode_query)
        print(f"unanswerable twins: {len(twins)}", flush=True)
        examples += twins
    fold = np.array(folds_of(examples, args.fold_seed, args.hold_out_source))
    synthetic = np.array([ex.synthetic for ex in examples])

    # 1. sentence model
    rows, labels, owner = [], [], []
    from service.reader.sentences import sentence_features

    for i, ex in enumerate(examples):
        pool = ex.gathered.pool
        r = sentence_features(ex.gathered.analysis, pool)
        y = np.array([ex.answerable and sentence_is_evidence(s.text, ex.evidence, ex.answers) for s in pool], dtype=int)
        ex.sentence_labels = y
        rows.append(r)
        labels.append(y)
        owner.append(np.full(len(pool), i))
    X1, y1, o1 = np.concatenate(rows), np.concatenate(labels), np.concatenate(owner)
    oof1 = np.zeros(len(y1))
    for k in range(FOLDS):
        test = fold[o1] == k
        m = fit_ranker(X1[~test], y1[~test], o1[~test], SENTENCE_FEATURES)
        oof1[test] = m.logit(X1[test])
    sentence_model = fit_ranker(X1, y1, o1, SENTENCE_FEATURES)
    if args.design:
        args.design.mkdir(parents=True, exist_ok=True)
        with (args.design / "sentence_pairs.jsonl").open("w") as out:
            for i, ex in enumerate(examples):
                logits = oof1[o1 == i]
                for rank, j in enumerate(np.argsort(-logits)[:30]):
                    out.write(json.dumps({"question": ex.gathered.standalone, "sentence": ex.gathered.pool[j].text,
                                          "label": int(ex.sentence_labels[j]), "group": ex.group, "fold": int(fold[i]),
                                          "id": ex.id, "stage1_rank": rank, "stage1_logit": round(float(logits[j]), 4)}) + "\n")
    answerable_idx = [i for i, ex in enumerate(examples) if ex.answerable and ex.sentence_labels.any()]

    # 1b. the re-ranker, on the shortlist the out-of-fold sentence scores pick, with MiniLM's features as well.
    # Each pass reads the same sentences: parse and encode each once.
    read_options = {"parse": cached_parse(), "encode_tokens": cached_encode_tokens(reader.encode_tokens), "pointer": pointers}
    if args.read_per_release is not None:
        read_options["read_per_release"] = args.read_per_release
    short_reader = Reader(ReaderParams(sentence_model, params.span, params.answerable, {}, 0.5, params.meta), reader.encode, **read_options)
    shortlists, rowsR, labelsR, ownerR = [], [], [], []
    for i, ex in enumerate(examples):
        if not ex.gathered.pool:
            shortlists.append([])
            continue
        shortlist, r, _ = short_reader.shortlist_rows(ex.gathered.pool, X1[o1 == i], oof1[o1 == i], ex.gathered.question_vector,
                                                      short_reader.question_words(ex.gathered.analysis))
        shortlists.append(shortlist)
        rowsR.append(r)
        labelsR.append(ex.sentence_labels[shortlist])
        ownerR.append(np.full(len(shortlist), i))
    XR, yR, oR = np.concatenate(rowsR), np.concatenate(labelsR), np.concatenate(ownerR)
    oofR = np.zeros(len(yR))
    for k in range(FOLDS):
        test = fold[oR] == k
        oofR[test] = fit_ranker(XR[~test], yR[~test], oR[~test], RERANK_FEATURES, RERANK_PARAMS).logit(XR[test])
    rerank_model = fit_ranker(XR, yR, oR, RERANK_FEATURES, RERANK_PARAMS)
    final_logits = [spread(len(ex.gathered.pool), shortlists[i], oofR[oR == i]) for i, ex in enumerate(examples)]
    for name, scores in (("sentence model", [oof1[o1 == i] for i in range(len(examples))]), ("re-ranker", final_logits)):
        for kind in ("press", "squad"):
            idx = [i for i in answerable_idx if examples[i].group.startswith("squad:") == (kind == "squad")]
            firsts = [examples[i].sentence_labels[np.argsort(-scores[i], kind="stable")[:3]] for i in idx]
            print(f"{name} (out-of-fold), {kind}: right sentence first {np.mean([f[0] for f in firsts]):.3f}, "
                  f"top 3 {np.mean([f.any() for f in firsts]):.3f} of {len(idx)} answerable questions whose evidence "
                  f"is in the pool", flush=True)

    # 2. span model, on the sentences the out-of-fold re-ranked scores pick
    table_reader = Reader(ReaderParams(sentence_model, params.span, params.answerable, {}, 0.5, params.meta), reader.encode, **read_options)
    for i, ex in enumerate(examples):
        pointers.group = ex.group
        ex.reading = table_reader.featurize(ex.gathered.analysis, ex.gathered.pool, ex.gathered.question_vector, final_logits[i])
    span_labels = [span_labels_of(ex) for ex in examples]
    real = np.flatnonzero(~synthetic)
    # Held out, a source's labels must not reach the table either.
    tabled = [i for i in real if source_of(examples[i]) != args.hold_out_source]
    table = type_table([examples[i] for i in tabled], [span_labels[i] for i in tabled])
    table_reader = Reader(ReaderParams(sentence_model, params.span, params.answerable, table, 0.5, params.meta), reader.encode, **read_options)
    for i, ex in enumerate(examples):
        pointers.group = ex.group
        ex.reading = table_reader.featurize(ex.gathered.analysis, ex.gathered.pool, ex.gathered.question_vector, final_logits[i])
    X2 = np.concatenate([ex.reading.span_rows for ex in examples])
    y2 = np.concatenate(span_labels)
    o2 = np.concatenate([np.full(len(ex.reading.span_rows), i) for i, ex in enumerate(examples)])
    real2 = ~synthetic[o2]  # a twin's candidates are scored out of fold, never fitted on
    # A LambdaRank ranker and a logistic regression, stacked on their out-of-fold logits: the ranker learns how the
    # two kinds of text differ (one logistic regression fitted on both loses on each), the regression keeps the
    # ordering sane where the ranker's trees have seen little (a small pool of a small corpus), and the stack makes
    # one calibrated probability of the two.
    ranker_oof, linear_oof = np.zeros(len(y2)), np.zeros(len(y2))
    for k in range(FOLDS):
        test = fold[o2] == k
        fit_rows = ~test & real2
        ranker_oof[test] = fit_ranker(X2[fit_rows], y2[fit_rows], o2[fit_rows], SPAN_FEATURES).logit(X2[test])
        linear_oof[test] = fit_linear(X2[fit_rows], y2[fit_rows], SPAN_FEATURES).logit(X2[test])
    span_model = stack(fit_ranker(X2[real2], y2[real2], o2[real2], SPAN_FEATURES),
                       fit_linear(X2[real2], y2[real2], SPAN_FEATURES), ranker_oof[real2], linear_oof[real2], y2[real2])
    oof2 = 1.0 / (1.0 + np.exp(-span_model.combine(ranker_oof, linear_oof)))
    print(f"span model: ranker weight {span_model.ranker_weight:.3f}, linear weight {span_model.linear_weight:.3f}", flush=True)

    # 3. answerability, on the out-of-fold span scores
    rows3, y3 = [], []
    decider = Reader(ReaderParams(sentence_model, span_model, params.answerable, table, 0.5, params.meta), reader.encode,
                     encode_tokens=reader.encode_tokens, pointer=pointers)
    outcome = []
    for i, ex in enumerate(examples):
        reading = ex.reading
        decider.decide(reading, span_probabilities=oof2[o2 == i])
        correct, f1, sentence_right = judge(ex, reading)
        rows3.append(reading.answerable_row)
        y3.append(int(correct))
        outcome.append((correct, f1, sentence_right))
    has = [o for ex, o in zip(examples, outcome) if ex.answerable]  # twins are unanswerable: never in here
    reachable = [bool(np.any(l)) for ex, l in zip(examples, span_labels) if ex.answerable]
    print(f"best choice (out-of-fold, before abstention): sentence right {np.mean([o[2] for o in has]):.3f}, "
          f"right {np.mean([o[0] for o in has]):.3f}, mean F1 {np.mean([o[1] for o in has]):.3f}, "
          f"a right candidate among those read {np.mean(reachable):.3f}", flush=True)
    X3, y3 = np.array(rows3), np.array(y3)
    if args.design:
        with (args.design / "choices.jsonl").open("w") as out:  # what each question's best choice was, to read
            for ex, (correct, f1, _) in zip(examples, outcome):
                best = ex.reading.choices[0] if ex.reading.choices else None
                out.write(json.dumps({"id": ex.id, "question": ex.gathered.standalone, "answerable": ex.answerable,
                                      "squad": ex.group.startswith("squad:"), "synthetic": ex.synthetic,
                                      "answer": short_answer(ex.reading) if best else None,
                                      "sentence": best.sentence.text if best else None,
                                      "correct": bool(correct), "f1": round(f1, 3)}) + "\n")
        with (args.design / "spans.jsonl").open("w") as out:  # every candidate read, its label and out-of-fold score
            for i, ex in enumerate(examples):
                for (r_i, cand), y, p in zip(ex.reading.span_index, span_labels[i], oof2[o2 == i]):
                    sentence = ex.reading.readings[r_i].pool_index
                    out.write(json.dumps({"id": ex.id, "question": ex.gathered.standalone, "answers": ex.answers[:3],
                                          "reading": r_i, "sentence": ex.gathered.pool[sentence].text,
                                          "evidence": bool(ex.sentence_labels[sentence]),
                                          "candidate": cand.text, "label": cand.label, "y": int(y),
                                          "probability": round(float(p), 4)}) + "\n")
        np.savez(args.design / "design.npz", X1=X1, y1=y1, o1=o1, X2=X2, y2=y2, o2=o2, X3=X3, y3=y3, fold=fold, synthetic=synthetic,
                 answerable=np.array([e.answerable for e in examples]), squad=np.array([e.group.startswith("squad:") for e in examples]),
                 source=np.array([source_of(e) for e in examples]),
                 f1=np.array([o[1] for o in outcome]), sentence_right=np.array([o[2] for o in outcome]),
                 span_f1=np.concatenate([[best_f1(ex.answers, c.text) if ex.answerable else 0.0 for _, c in ex.reading.span_index] for ex in examples]),
                 span_sentence_ok=np.concatenate([[bool(ex.sentence_labels[ex.reading.readings[r].pool_index]) for r, _ in ex.reading.span_index] for ex in examples]))
    oof3 = np.zeros(len(y3))
    qfold = fold
    for k in range(FOLDS):
        test = qfold == k
        m = fit_linear(X3[~test], y3[~test], ANSWERABLE_FEATURES, c=0.3)
        oof3[test] = m.probability(X3[test])
    answerable_model = fit_linear(X3, y3, ANSWERABLE_FEATURES, c=0.3)
    # The threshold and every figure come from the real questions only.
    real_examples = [examples[i] for i in real]
    threshold, report = choose_threshold(real_examples, [outcome[i] for i in real], oof3[real])
    if not args.no_twins:
        report["twins"] = {"questions": int(synthetic.sum()),
                           "abstention_accuracy": round(float(np.mean(oof3[synthetic] < threshold)), 3) if synthetic.any() else None}
    print(json.dumps(report, indent=1))

    final = ReaderParams(sentence_model, span_model, answerable_model, table, threshold, {
        "labels": labels_list,
        "fitted_on": {"gold": [str(g) for g in args.gold], "squad": str(args.squad) if args.squad_train else None,
                      "squad_excluded_sample": args.squad_exclude if args.squad_train else None,
                      "reading": [str(p) for p in reading_files],
                      "questions": len(real), "unanswerable_twins": int(synthetic.sum()),
                      "pointer_folds": json.loads((args.pointer_folds / "folds.json").read_text(encoding="utf-8"))},
        "cross_validation": report,
        "refit": f"python -m eval.fit_pointer --folds {pointers.folds} --fold-dir {args.pointer_folds} --no-write && "
                 "python -m eval.fit_pointer && python -m eval.fit_reader" + (" --squad-train" if args.squad_train else "") + (" --no-twins" if args.no_twins else "")
        + (f" --read-per-release {args.read_per_release}" if args.read_per_release is not None else ""),
    }, rerank_model)
    final.save(args.out or PARAMS_DIR / "reader.json")
    print(f"wrote {args.out or PARAMS_DIR / 'reader.json'} in {time.perf_counter() - started:.0f} s")
    return 0


class FoldPointers:
    """The pointer model's fold fits (eval.fit_pointer --folds): a question is scored by the one fitted without its
    group, so its pointer features are out of fold as the span model's others are. Set `group` before featurizing."""

    def __init__(self, folder: Path, held_out: str | None) -> None:
        from service.reader.pointer import load_pointer_file

        meta = json.loads((folder / "folds.json").read_text(encoding="utf-8"))
        if meta.get("held_out") != held_out:
            raise SystemExit(f"{folder} was fitted holding out {meta.get('held_out')!r}, this fit holds out {held_out!r}")
        self.folds = int(meta["folds"])
        self.models = [load_pointer_file(folder / f"fold-{f}.onnx") for f in range(self.folds)]
        self.group: str | None = None
        self._seen: dict[tuple[int, str, str], object] = {}

    def score(self, question: str, texts: list[str]):
        from eval.fit_pointer import pointer_fold

        f = pointer_fold(self.group, self.folds)
        missing = [t for t in dict.fromkeys(texts) if (f, question, t) not in self._seen]
        if missing:
            self._seen.update(((f, question, t), s) for t, s in zip(missing, self.models[f].score(question, missing)))
        return [self._seen[(f, question, t)] for t in texts]


def cached_parse():
    """service.reader.nlp.parse, remembering each text's doc (the fit featurizes every question twice)."""
    from service.reader.nlp import parse

    docs: dict[str, object] = {}

    def parse_once(texts: list[str]):
        missing = [t for t in dict.fromkeys(texts) if t not in docs]
        docs.update(zip(missing, parse(missing)) if missing else ())
        return [docs[t] for t in texts]

    return parse_once


def cached_encode_tokens(encode_tokens):
    """Embedder.encode_tokens, remembering each text's output (the fit encodes every shortlist and reading twice)."""
    seen: dict[str, tuple[np.ndarray, object]] = {}

    def encode_once(texts: list[str]):
        missing = [t for t in dict.fromkeys(texts) if t not in seen]
        if missing:
            vectors, states = encode_tokens(missing)
            seen.update((t, (v, st)) for t, v, st in zip(missing, vectors, states))
        out = [seen[t] for t in texts]
        return (np.stack([v for v, _ in out]) if out else np.zeros((0, 0), dtype=np.float32)), [st for _, st in out]

    return encode_once


def span_labels_of(ex: Example) -> np.ndarray:
    """A candidate is the answer when its sentence is evidence and it matches a gold answer (SQuAD F1 ≥ 0.5)."""
    out = []
    for r_i, cand in ex.reading.span_index:
        sentence_ok = bool(ex.sentence_labels[ex.reading.readings[r_i].pool_index])
        out.append(int(ex.answerable and sentence_ok and best_f1(ex.answers, cand.text) >= 0.5))
    return np.array(out, dtype=int)


def short_answer(reading) -> str:
    """The best choice's short answer as the fit judges it: a list's items joined."""
    return " and ".join(c.text for c in reading.items())


def judge(ex: Example, reading) -> tuple[bool, float, bool]:
    """Whether the best choice is right, as the strict eval judges an answer, its short answer's F1, and whether it
    cites the evidence sentence.

    A press answer passes when it cites the evidence sentence (an answer quotes its sentence, so the facts are shown);
    a SQuAD answer only when its short answer reaches the eval's F1 (eval.squad.PASS_F1) as well.
    """
    if not ex.answerable or not reading.choices:
        return False, 0.0, False
    best = reading.items()
    f1 = best_f1(ex.answers, short_answer(reading))
    sentence_right = bool(ex.sentence_labels[reading.pool.index(best[0].sentence)]) if best[0].sentence in reading.pool else False
    correct = sentence_right and (f1 >= PASS_F1 if ex.group.startswith("squad:") else True)
    return correct, f1, sentence_right


def choose_threshold(examples: list[Example], outcome, confidence: np.ndarray) -> tuple[float, dict]:
    """The threshold with the best out-of-fold accuracy (right answer, or abstention on an unanswerable), smoothed.

    Accuracy is averaged over the kinds of text fitted on (press releases, encyclopedia paragraphs), so the larger
    set does not decide alone. It is flat near its best, within a question or two over 0.1 of threshold, so its
    single best point moved from 0.28 to 0.40 between two splits into folds of the same fit. The threshold is the
    best of the accuracy averaged over a window of ±SMOOTHING around each point of a 0.01 grid (the middle of a
    plateau of such bests), which moves less, and prefers a broad good region to a narrow lucky one.
    """
    step = 0.01
    grid = np.round(np.arange(0.05, 0.96, step), 2)
    kinds = np.array([e.group.startswith("squad:") for e in examples])
    right = np.array([(o[0]) for o in outcome])
    answerable = np.array([e.answerable for e in examples])
    present = [k for k in (False, True) if (kinds == k).any()]
    accuracies = []
    for t in grid:
        correct = np.where(confidence >= t, right, ~answerable)
        accuracies.append(float(np.mean([correct[kinds == k].mean() for k in present])))
    accuracies = np.array(accuracies)
    half = int(round(SMOOTHING / step))
    smoothed = np.array([accuracies[max(0, i - half) : i + half + 1].mean() for i in range(len(grid))])
    # On a plateau of equal smoothed accuracy, its middle.
    best_t = float(np.median(grid[smoothed >= smoothed.max() - 1e-9]))
    report = {"threshold": round(best_t, 4)}
    sources = sorted({source_of(e) for e in examples} - {"press"})
    kinds_reported = [("press", lambda e: not e.group.startswith("squad:")), ("squad", lambda e: e.group.startswith("squad:"))]
    if len(sources) > 1:  # each kind of paragraph text on its own as well
        kinds_reported += [(f"squad:{name}", lambda e, name=name: source_of(e) == name) for name in sources]
    for name, keep in kinds_reported:
        idx = [i for i, e in enumerate(examples) if keep(e)]
        if not idx:
            continue
        answered = [confidence[i] >= best_t for i in idx]
        has = [i for i in idx if examples[i].answerable]
        no = [i for i in idx if not examples[i].answerable]
        report[name] = {
            "questions": len(idx),
            "accuracy": round(float(np.mean([(a and outcome[i][0]) or (not a and not examples[i].answerable) for i, a in zip(idx, answered)])), 3),
            "sentence_right_and_answered": round(float(np.mean([confidence[i] >= best_t and outcome[i][2] for i in has])), 3) if has else None,
            "short_f1_hasans": round(float(np.mean([outcome[i][1] if confidence[i] >= best_t else 0.0 for i in has])), 3) if has else None,
            "false_abstention": round(float(np.mean([confidence[i] < best_t for i in has])), 3) if has else None,
            "abstention_accuracy": round(float(np.mean([confidence[i] < best_t for i in no])), 3) if no else None,
        }
    return best_t, report


if __name__ == "__main__":
    sys.exit(main())
