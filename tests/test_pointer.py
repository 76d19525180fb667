"""The pointer model: where it points in a sentence, and how its scores become span features."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from service.reader.candidates import Candidate
from service.reader.pointer import PointerScores, best_span, load_pointer, scores_of
from service.reader.spans import pointer_features


def _scores(start, end, null=0.0):
    n = len(start)
    offsets = np.array([[4 * k, 4 * k + 3] for k in range(n)])  # tokens of 3 characters, one space apart
    start, end = np.asarray(start, dtype=float), np.asarray(end, dtype=float)
    return PointerScores(offsets, start, end, null, best_span(start, end)[0])


def test_best_span_never_ends_before_it_starts_nor_runs_too_long():
    # The highest end logit stands before the highest start: the best legal span is not their sum.
    score, first, last = best_span(np.array([-5.0, 5.0, 0.0]), np.array([9.0, 1.0, 2.0]))
    assert (first, last) == (1, 2) and score == 7.0
    score, first, last = best_span(np.array([5.0, 0.0, 0.0, 0.0]), np.array([0.0, 0.0, 0.0, 4.0]), max_tokens=3)
    assert last - first < 3


def test_a_candidate_scores_its_first_and_last_token_against_the_best_and_the_null():
    scores = _scores([0.0, 3.0, 0.0, 0.0], [0.0, 0.0, 2.0, 0.0], null=1.0)
    exact = Candidate("bbb ccc", 4, 11, 1, 3, "PERSON", 1)
    wider = Candidate("aaa bbb ccc ddd", 0, 15, 0, 4, "NP", 1)
    margin, over_null = pointer_features(scores, exact)
    assert margin == 0.0 and over_null == 4.0
    wide_margin, _ = pointer_features(scores, wider)
    assert wide_margin == -5.0
    assert pointer_features(None, exact) == (0.0, 0.0)


def test_scores_keep_only_the_sentence_tokens():
    # sequence ids: [CLS] question [SEP] sentence [SEP]
    sequence = [None, 0, 0, None, 1, 1, None]
    offsets = [(0, 0), (0, 3), (4, 7), (0, 0), (0, 5), (6, 9), (0, 0)]
    start = np.array([1.0, 9, 9, 9, 2, 0, 9])
    end = np.array([0.5, 9, 9, 9, 0, 3, 9])
    scored = scores_of(sequence, offsets, start, end)
    assert scored.offsets.tolist() == [[0, 5], [6, 9]]
    assert scored.null == 1.5 and scored.best == 5.0


@pytest.fixture(scope="module")
def pointer():
    return load_pointer()


def test_the_fitted_pointer_points_at_the_answer_of_a_made_up_sentence(pointer):
    sentence = "The meeting was chaired by Harbour Master Ilse Vandermeer of Antwerp."
    question = "who chaired the meeting?"
    scored = pointer.score(question, [sentence])[0]
    _, first, last = best_span(scored.start, scored.end)
    answer = sentence[scored.offsets[first, 0] : scored.offsets[last, 1]]
    assert "Vandermeer" in answer and "meeting" not in answer
    # A sentence without the answer: the pointer prefers "not here" to any span far more than in the one that has it.
    other = pointer.score(question, ["The delegates agreed to a joint drill in September 2024."])[0]
    assert other.best - other.null < scored.best - scored.null


def test_training_pairs_hold_the_answer_sentence_and_the_most_tempting_others():
    from eval.fit_pointer import PointerItem, _locate, pairs

    sentences = [
        "The port authorities met in Ghent on Tuesday.",
        "The meeting was chaired by Harbour Master Ilse Vandermeer of Antwerp.",
        "The meeting of the port authorities ended at noon.",
        "They pledged 4.5 million euros.",
    ]
    index, span = _locate(sentences, ["Ilse Vandermeer; Joris Haakma"], [])
    assert index == 1 and sentences[1][span[0] : span[1]] == "Ilse Vandermeer"
    item = PointerItem("q", "press", "g", "who chaired the meeting of the port authorities?", sentences, index, span)
    made = pairs([item], negatives=2)
    assert made[0] == (item.question, sentences[1], span)
    assert [s for _, s, target in made[1:]] == [sentences[2], sentences[0]] and all(t is None for *_, t in made[1:])


def test_a_group_keeps_its_pointer_fold_and_groups_spread_over_the_folds():
    from eval.fit_pointer import pointer_fold

    assert pointer_fold("squad:squad:jazz:1:3", 3) == pointer_fold("squad:squad:jazz:1:3", 3)
    counts = np.bincount([pointer_fold(f"release-{k}", 3) for k in range(300)], minlength=3)
    assert counts.min() >= 70


def test_a_pointer_network_exports_to_int8_onnx_that_points_like_torch(tmp_path):
    """eval.fit_pointer's export (the encoder's recipe, core.onnx_minilm.export_bert_int8) keeps the network's scores."""
    import torch

    from eval.fit_pointer import PointerNetwork, _tokenizer, export_int8
    from service.reader.pointer import load_pointer_file

    torch.manual_seed(0)
    network = PointerNetwork.build().eval()
    pointer = load_pointer_file(export_int8(network, tmp_path / "pointer.onnx"))
    question = "who chaired the meeting?"
    sentence = "The meeting was chaired by Harbour Master Ilse Vandermeer of Antwerp."
    scored = pointer.score(question, [sentence])[0]
    encoding = _tokenizer()(question, sentence, return_tensors="pt")
    with torch.no_grad():
        start, end = network(encoding["input_ids"], encoding["attention_mask"], encoding["token_type_ids"])
    context = [k for k, s in enumerate(encoding.sequence_ids(0)) if s == 1]
    assert len(scored.start) == len(context)
    for onnx, reference in ((scored.start, start[0, context]), (scored.end, end[0, context])):
        assert np.corrcoef(onnx, reference.numpy())[0, 1] > 0.95


def test_each_feed_question_trains_on_its_own_item_of_the_feed(tmp_path):
    # Every item of a feed shares the feed's path: each question must still be paired with its own item's text.
    from eval.fit_pointer import press_items

    items = [
        ("https://example.org/zorblax", "Zorblax talks", "The Zorblax delegation met in Quillport. Envoy Mira Tolen led it."),
        ("https://example.org/vantor", "Vantor accord", "Vantor signed a water accord. Minister Oskar Brell signed for Vantor."),
    ]
    feed = "".join(f"<item><title>{t}</title><link>{u}</link><description>{text}</description></item>" for u, t, text in items)
    (tmp_path / "news.rss").write_text(f'<?xml version="1.0"?><rss version="2.0"><channel><title>News</title>{feed}</channel></rss>')
    gold = tmp_path / "gold.yaml"
    gold.write_text(yaml.safe_dump([
        {"id": "q1", "question": "Who led the Zorblax delegation?", "answers": ["Mira Tolen"], "facts": ["Mira Tolen"],
         "source": "news.rss", "source_url": items[0][0], "evidence": "Envoy Mira Tolen led it."},
        {"id": "q2", "question": "Who signed for Vantor?", "answers": ["Oskar Brell"], "facts": ["Oskar Brell"],
         "source": "news.rss", "source_url": items[1][0], "evidence": "Minister Oskar Brell signed for Vantor."},
    ]))
    found = {item.id: item.sentences[item.answer_sentence][slice(*item.span)] for item in press_items(gold, tmp_path)}
    assert found == {"q1": "Mira Tolen", "q2": "Oskar Brell"}
