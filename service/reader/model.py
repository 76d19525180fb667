"""Fitted linear models stored as JSON (feature names, scaling, weights): readable, diffable, no pickle."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

PARAMS_DIR = Path(__file__).resolve().parent / "params"


@dataclass(frozen=True)
class LinearModel:
    """A standardized logistic regression: p = sigmoid(w · (x - mean) / scale + b)."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float

    def logit(self, rows: np.ndarray) -> np.ndarray:
        if len(rows) == 0:
            return np.zeros(0)
        return ((rows - self.mean) / self.scale) @ self.weights + self.bias

    def probability(self, rows: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.logit(rows)))

    def to_dict(self) -> dict:
        return {
            "features": list(self.features),
            "mean": [round(float(v), 6) for v in self.mean],
            "scale": [round(float(v), 6) for v in self.scale],
            "weights": [round(float(v), 6) for v in self.weights],
            "bias": round(float(self.bias), 6),
        }

    @classmethod
    def from_dict(cls, data: dict) -> "LinearModel":
        return cls(
            tuple(data["features"]),
            np.array(data["mean"], dtype=np.float64),
            np.array(data["scale"], dtype=np.float64),
            np.array(data["weights"], dtype=np.float64),
            float(data["bias"]),
        )


def fit_linear(rows: np.ndarray, labels: np.ndarray, features: tuple[str, ...], c: float = 1.0) -> LinearModel:
    from sklearn.linear_model import LogisticRegression

    mean = rows.mean(axis=0)
    scale = rows.std(axis=0)
    scale[scale < 1e-6] = 1.0
    model = LogisticRegression(C=c, max_iter=2000, class_weight=None)
    model.fit((rows - mean) / scale, labels)
    return LinearModel(features, mean, scale, model.coef_[0].copy(), float(model.intercept_[0]))


class RankerModel:
    """A LightGBM LambdaRank model (a text file) scoring the rows of one question against each other.

    Its scores order rows within a question; they are not probabilities (the answerability model calibrates)."""

    def __init__(self, features: tuple[str, ...], model_text: str) -> None:
        import lightgbm

        self.features = tuple(features)
        self.model_text = model_text
        self._booster = lightgbm.Booster(model_str=model_text)

    def logit(self, rows: np.ndarray) -> np.ndarray:
        if len(rows) == 0:
            return np.zeros(0)
        # One thread: a question's few hundred rows cost microseconds, and threads would fight the server's.
        return self._booster.predict(np.asarray(rows, dtype=np.float64), num_threads=1)


# 7 leaves, chosen by grouped 5-fold CV over 4–31: right sentence first 0.681 vs 0.658 with 15 (top 3 0.899 vs 0.884).
RANKER_PARAMS = dict(
    objective="lambdarank", n_estimators=300, learning_rate=0.05, num_leaves=7, min_child_samples=20,
    deterministic=True, force_row_wise=True, random_state=0, n_jobs=1, verbose=-1,
)


# The shortlist re-ranker reads the cheap features and MiniLM's: 15 leaves, chosen by grouped 5-fold CV over
# 7/15/31 leaves and 20/50 rows per leaf (right sentence first, mean of press and SQuAD: 0.750 vs 0.729–0.740).
RERANK_PARAMS = {**RANKER_PARAMS, "num_leaves": 15}


def fit_ranker(
    rows: np.ndarray, labels: np.ndarray, owners: np.ndarray, features: tuple[str, ...], params: dict | None = None
) -> RankerModel:
    """LambdaRank over the rows of each question (`owners`: the question of each row, rows grouped contiguously)."""
    import lightgbm

    _, first, counts = np.unique(owners, return_index=True, return_counts=True)
    groups = counts[np.argsort(first)]
    model = lightgbm.LGBMRanker(**(params or RANKER_PARAMS))
    model.fit(np.asarray(rows, dtype=np.float64), labels, group=groups)
    return RankerModel(features, model.booster_.model_to_string())


class StackedSpanModel:
    """A ranker and a logistic regression over the same rows, combined by a two-weight logistic regression.

    The ranker orders the candidates of one question better; its scores mean nothing across questions. The stack
    turns both into one probability, fitted on out-of-fold scores, so it can be compared across questions (the
    answerability model reads it) and against 0.5 (list items)."""

    def __init__(self, ranker: RankerModel, linear: LinearModel, ranker_weight: float, linear_weight: float,
                 bias: float) -> None:
        if tuple(ranker.features) != tuple(linear.features):
            raise ValueError("a stacked model's ranker and linear model must read the same features")
        self.ranker = ranker
        self.linear = linear
        self.ranker_weight = float(ranker_weight)
        self.linear_weight = float(linear_weight)
        self.bias = float(bias)

    @property
    def features(self) -> tuple[str, ...]:
        return self.linear.features

    def combine(self, ranker_logits: np.ndarray, linear_logits: np.ndarray) -> np.ndarray:
        return self.ranker_weight * ranker_logits + self.linear_weight * linear_logits + self.bias

    def logit(self, rows: np.ndarray) -> np.ndarray:
        if len(rows) == 0:
            return np.zeros(0)
        return self.combine(self.ranker.logit(rows), self.linear.logit(rows))

    def probability(self, rows: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.logit(rows)))


def stack(ranker: RankerModel, linear: LinearModel, ranker_oof: np.ndarray, linear_oof: np.ndarray,
          labels: np.ndarray) -> StackedSpanModel:
    """Weights for the two models' out-of-fold logits: a logistic regression on those two columns alone."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=10.0, max_iter=2000)
    model.fit(np.column_stack([ranker_oof, linear_oof]), labels)
    w_ranker, w_linear = model.coef_[0]
    return StackedSpanModel(ranker, linear, w_ranker, w_linear, float(model.intercept_[0]))


def _load_model(data: dict, folder: Path):
    if data.get("kind") == "lambdarank":
        text = (folder / data["file"]).read_text()
        return RankerModel(tuple(data["features"]), text)
    if data.get("kind") == "stacked":
        ranker = RankerModel(tuple(data["features"]), (folder / data["ranker_file"]).read_text())
        return StackedSpanModel(ranker, LinearModel.from_dict(data["linear"]), data["ranker_weight"],
                                data["linear_weight"], data["bias"])
    return LinearModel.from_dict(data)


def _dump_model(model, name: str, folder: Path) -> dict:
    if isinstance(model, RankerModel):
        file = f"{name}.lightgbm.txt"
        (folder / file).write_text(model.model_text)
        return {"kind": "lambdarank", "file": file, "features": list(model.features)}
    if isinstance(model, StackedSpanModel):
        file = f"{name}.lightgbm.txt"
        (folder / file).write_text(model.ranker.model_text)
        return {"kind": "stacked", "features": list(model.features), "ranker_file": file,
                "ranker_weight": round(model.ranker_weight, 6), "linear_weight": round(model.linear_weight, 6),
                "bias": round(model.bias, 6), "linear": model.linear.to_dict()}
    return model.to_dict()


@dataclass(frozen=True)
class ReaderParams:
    """Everything fitted: the models, the answer-type table and the abstention threshold."""

    sentence: LinearModel | RankerModel
    span: LinearModel | StackedSpanModel  # its probabilities are compared across questions and decide list items: calibrated
    answerable: LinearModel
    type_table: dict[str, dict[str, float]]  # wh → candidate label → log-odds of being the answer
    threshold: float  # answer when P(answer is right) ≥ this; chosen by cross-validation
    meta: dict
    # re-orders the sentence model's shortlist with MiniLM's features as well (service/reader/dense.py); none in
    # parameters fitted before it, which then read the sentence model's order
    rerank: RankerModel | None = None

    @property
    def needs_pointer(self) -> bool:
        """The span model reads the pointer model's scores (service/reader/pointer.py): a reader must load it."""
        return "pointer_margin" in self.span.features

    @classmethod
    def load(cls, path: Path | None = None) -> "ReaderParams":
        path = path or PARAMS_DIR / "reader.json"
        if not path.exists():
            raise FileNotFoundError(f"{path}: the reader's fitted parameters are missing; refit with `python -m eval.fit_reader --squad-train`")
        data = json.loads(path.read_text())
        return cls(
            _load_model(data["sentence"], path.parent),
            _load_model(data["span"], path.parent),
            LinearModel.from_dict(data["answerable"]),
            data["type_table"],
            float(data["threshold"]),
            data.get("meta", {}),
            _load_model(data["rerank"], path.parent) if "rerank" in data else None,
        )

    def save(self, path: Path | None = None) -> None:
        path = path or PARAMS_DIR / "reader.json"
        data = {
            "meta": self.meta,
            "threshold": round(self.threshold, 4),
            "type_table": {k: {label: round(v, 4) for label, v in sorted(t.items())} for k, t in sorted(self.type_table.items())},
            "sentence": _dump_model(self.sentence, "sentence", path.parent),
            "span": _dump_model(self.span, "span", path.parent),
            "answerable": self.answerable.to_dict(),
        }
        if self.rerank is not None:
            data["rerank"] = _dump_model(self.rerank, "rerank", path.parent)
        path.write_text(json.dumps(data, indent=1) + "\n")


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))
