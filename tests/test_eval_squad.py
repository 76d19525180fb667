"""SQuAD 2.0 scoring against the official evaluation's behaviour on hand-made cases with known EM/F1, the
fixed sample, and the SQuAD question scorer (abstention = no-answer prediction, provenance)."""

import json

import pytest

from eval.squad import fixed_sample, load_squad, score_squad_question, summarize_squad
from eval.squad_official import compute_exact, compute_f1, exact_and_f1, normalize_answer
from pressqa.settings import REPO_ROOT
from service.records import Answer, Citation

SQUAD_FILE = REPO_ROOT / "eval/external/squad2-dev-computational-complexity.json"


@pytest.mark.parametrize(
    ("text", "normal"),
    [
        ("The Cat!", "cat"),
        ("an apple  a day", "apple day"),
        ("Theory of the Polynomial-Time", "theory of polynomialtime"),  # ASCII hyphen dropped, words join
        ("“quoted”", "“quoted”"),  # the official script drops only ASCII punctuation
        ("A", ""),
    ],
)
def test_official_normalisation(text, normal):
    assert normalize_answer(text) == normal


@pytest.mark.parametrize(
    ("gold", "prediction", "em", "f1"),
    [
        ("Computational complexity theory", "computational complexity theory.", 1, 1.0),
        ("the Turing machine", "Turing machine", 1, 1.0),
        # 2 shared tokens; precision 2/4, recall 2/2 -> F1 = 2*0.5*1/1.5
        ("Turing machine", "a deterministic Turing machine model", 0, 2 / 3),
        # precision 1/1, recall 1/3 -> 0.5
        ("polynomial time reduction", "polynomial", 0, 0.5),
        ("Cobham", "Alan Turing", 0, 0.0),
        # Counts are clipped: "time time" vs "time": 1 common; P 1/2, R 1 -> 2/3
        ("time", "time time", 0, 2 / 3),
        # An unanswerable question has gold "": only the empty prediction scores.
        ("", "", 1, 1.0),
        ("", "something", 0, 0.0),
        ("an answer", "", 0, 0.0),
    ],
)
def test_official_exact_and_f1(gold, prediction, em, f1):
    assert compute_exact(gold, prediction) == em
    assert compute_f1(gold, prediction) == pytest.approx(f1)


def test_max_over_gold_answers_and_no_answer():
    assert exact_and_f1(["Turing machine", "deterministic Turing machine"], "deterministic Turing machine") == (1, 1.0)
    em, f1 = exact_and_f1(["polynomial time", "in polynomial time"], "polynomial")
    assert em == 0 and f1 == pytest.approx(2 / 3)
    assert exact_and_f1([], "") == (1, 1.0)  # abstention on an unanswerable question
    assert exact_and_f1(["the", "a"], "") == (1, 1.0)  # answers that normalise to "" count as no answer


@pytest.fixture
def two_paragraphs(tmp_path):
    data = {"version": "v2.0", "data": [{"title": "Tiny_article", "paragraphs": [
        {"context": "Alan Cobham proposed the thesis in 1965.", "qas": [
            {"id": "q1", "question": "Who proposed the thesis?", "is_impossible": False,
             "answers": [{"text": "Alan Cobham", "answer_start": 0}, {"text": "Cobham", "answer_start": 5}]},
            {"id": "q2", "question": "Who refuted the thesis?", "is_impossible": True, "answers": [],
             "plausible_answers": [{"text": "Alan Cobham", "answer_start": 0}]}]},
        {"context": "The class P holds problems solvable in polynomial time.", "qas": [
            {"id": "q3", "question": "What does P hold?", "is_impossible": False,
             "answers": [{"text": "problems solvable in polynomial time", "answer_start": 16}]}]},
    ]}]}
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(data))
    return load_squad(path)


def cite(release_id, quote="q"):
    return Citation(n=1, release_id=release_id, title="t", quote=quote, start=0, end=len(quote))


def test_load_squad_makes_one_release_per_paragraph(two_paragraphs):
    assert [p.title for p in two_paragraphs.paragraphs] == ["Tiny article (1)", "Tiny article (2)"]
    assert [q.answerable for q in two_paragraphs.questions] == [True, False, True]
    assert two_paragraphs.questions[1].answers == []  # plausible answers are not gold answers


def test_squad_question_scoring(two_paragraphs):
    q1, q2, q3 = two_paragraphs.questions
    p1, p2 = (p.release_id for p in two_paragraphs.paragraphs)
    ctx = two_paragraphs.contexts
    right = score_squad_question(q1, ctx, Answer(answer="Alan Cobham proposed it [1].", abstained=False,
                                                  short_answer="Cobham", citations=[cite(p1)]))
    assert right.metrics["exact"] == 1.0 and right.metrics["provenance"] == 1.0 and right.passed
    wrong_paragraph = score_squad_question(q1, ctx, Answer(answer="Cobham", abstained=False, short_answer="Cobham",
                                                           citations=[cite(p2)]))
    assert wrong_paragraph.metrics["exact"] == 1.0 and wrong_paragraph.metrics["provenance"] == 0.0
    assert not wrong_paragraph.passed
    abstain = score_squad_question(q2, ctx, Answer(answer="The paragraphs do not say.", abstained=True))
    assert abstain.metrics["exact"] == 1.0 and abstain.passed
    answered = score_squad_question(q2, ctx, Answer(answer="Alan Cobham", abstained=False, citations=[cite(p1)]))
    assert answered.metrics["exact"] == 0.0 and not answered.passed
    missed = score_squad_question(q3, ctx, Answer(answer="none", abstained=True))
    errored = score_squad_question(q3, ctx, None, error="boom", latency_s=120.0)
    s = summarize_squad([right, abstain, answered, missed, errored])
    assert s["HasAns_exact"] == pytest.approx(1 / 3) and s["NoAns_exact"] == 0.5
    assert s["exact"] == pytest.approx(2 / 5) and s["provenance"] == pytest.approx(1 / 3)
    assert s["errors"] == 1 and s["latency_p95_s"] is not None


def test_fixed_sample_is_deterministic_and_stratified():
    squad = load_squad(SQUAD_FILE)
    assert len(squad.paragraphs) == 48 and len(squad.questions) == 418
    assert sum(not q.answerable for q in squad.questions) == 221
    sample = fixed_sample(squad.questions, 100)
    assert len(sample) == 100 and sum(not q.answerable for q in sample) == 50
    # The choice depends on the ids only, not on their order in the file.
    assert {q.id for q in sample} == {q.id for q in fixed_sample(list(reversed(squad.questions)), 100)}
    order = [q.id for q in squad.questions]
    assert [q.id for q in sample] == sorted((q.id for q in sample), key=order.index)  # file order
