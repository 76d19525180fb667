"""The abstention threshold: the best of the out-of-fold accuracy averaged over a window, not its single best point."""

from types import SimpleNamespace

import numpy as np

from eval.fit_reader import choose_threshold


def questions(confidences_right_wrong_unanswerable):
    """Examples and outcomes from (confidence, kind) pairs: kind is 'right', 'wrong' or 'unanswerable'."""
    examples, outcome, confidence = [], [], []
    for value, kind in confidences_right_wrong_unanswerable:
        examples.append(SimpleNamespace(group="press", answerable=kind != "unanswerable"))
        outcome.append((kind == "right", 0.0, kind == "right"))
        confidence.append(value)
    return examples, outcome, np.array(confidence)


def test_on_a_plateau_the_threshold_is_its_middle_not_its_edge():
    # Confident right answers, unsure unanswerables: every threshold from 0.21 to 0.80 is right on all of them.
    pairs = [(0.8, "right")] * 40 + [(0.2, "unanswerable")] * 40
    threshold, report = choose_threshold(*questions(pairs))
    assert 0.45 <= threshold <= 0.55  # the single best point would be the plateau's first, 0.21
    assert report["press"]["accuracy"] == 1.0


def test_a_mistake_beside_the_threshold_moves_it_away():
    pairs = [(0.8, "right")] * 40 + [(0.2, "unanswerable")] * 40 + [(v, "unanswerable") for v in (0.55, 0.6, 0.65)]
    threshold, _ = choose_threshold(*questions(pairs))
    assert 0.65 < threshold <= 0.8


def test_the_threshold_follows_where_accuracy_is_best():
    # Unanswerables up to 0.6, right answers above it: the threshold sits between them.
    pairs = [(v, "unanswerable") for v in np.linspace(0.1, 0.6, 30)] + [(v, "right") for v in np.linspace(0.65, 0.95, 30)]
    threshold, _ = choose_threshold(*questions(pairs))
    assert 0.6 <= threshold <= 0.7


def test_a_held_out_source_is_alone_in_its_fold_and_the_rest_never_in_it():
    from eval.fit_reader import folds_of, source_of

    press = [SimpleNamespace(group=f"corpus/release-{i}.md") for i in range(40)]
    article = [SimpleNamespace(group=f"squad:squad:rivers:1:{i}") for i in range(20)]
    other = [SimpleNamespace(group=f"squad:squad:jazz:1:{i}") for i in range(20)]
    examples = press + article + other
    assert [source_of(e) for e in (press[0], article[0], other[0])] == ["press", "rivers", "jazz"]
    mixed = folds_of(examples)
    assert set(mixed[40:60]) != {0}  # without holding out, a source spreads over the folds
    held = folds_of(examples, held_out="rivers")
    assert held[40:60] == [0] * 20
    assert 0 not in held[:40] + held[60:]
    assert set(held[:40]) == {1, 2, 3, 4}
