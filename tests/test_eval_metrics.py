"""The gold-facts metrics on hand-made cases, plus the gate."""

import pytest

from eval.gate import GateError, Thresholds, check_gate, load_thresholds
from eval.gold import GoldQuestion, GoldSource
from eval.metrics import (
    answer_contains,
    citation_precision,
    citation_recall,
    exact_match,
    f1,
    fact_recall,
    normalize_answer,
    percentile,
    quote_match,
    quote_overlaps,
    recall_at_k,
    reciprocal_rank,
    release_matches,
    score_question,
    summarize,
)
from service.records import Answer, Citation, RelatedRelease

SEED = GoldSource(path="seed/china-central-asia-foreign-ministers-meeting.txt")
TRUDEAU_URL = "https://bidenwhitehouse.archives.gov/briefing-room/statements-releases/2021/08/02/readout-trudeau/"
TRUDEAU = GoldSource(path="whitehouse/2021-08-02-readout-trudeau.md", url=TRUDEAU_URL)
FEED_ITEM = GoldSource(path="state-dept/press-releases.rss", url="https://www.state.gov/spavor/")
EVIDENCE = "President Biden thanked Switzerland for its 40 years of service as the U.S. Protecting Power in Iran."


def cite(release_id, origin=None, url=None, quote="q", n=1):
    return Citation(n=n, release_id=release_id, title="t", url=url, origin=origin, quote=quote, start=0, end=len(quote))


def rel(release_id, origin=None, url=None):
    return RelatedRelease(release_id=release_id, title="t", url=url, origin=origin)


SEED_CITE = cite("sha256:abc", origin="/repo/corpus/seed/china-central-asia-foreign-ministers-meeting.txt")
TRUDEAU_CITE = cite(TRUDEAU_URL, origin="/repo/corpus/whitehouse/2021-08-02-readout-trudeau.md", url=TRUDEAU_URL)
OTHER_CITE = cite("sha256:other", origin="/repo/corpus/whitehouse/2021-08-03-something-else.md")


@pytest.mark.parametrize(
    ("text", "normal"),
    [
        ("The Global Security Initiative.", "global security initiative"),
        ("  An   apple, a PEAR!  ", "apple pear"),
        ("Tampa Bay Lightning’s “win”", "tampa bay lightnings win"),
        ("$500 million", "500 million"),
        ("theme there", "theme there"),  # articles only as whole words
    ],
)
def test_squad_normalization(text, normal):
    assert normalize_answer(text) == normal


def test_exact_match_is_strict_and_contains_is_a_whole_token_span():
    aliases = ["Souda Bay", "U.S. Naval Support Activity Souda Bay"]
    assert exact_match("souda bay.", aliases) == 1.0
    assert exact_match("It was Souda Bay.", aliases) == 0.0
    assert answer_contains("It was the U.S. Naval Support Activity Souda Bay [1].", aliases) == 1.0
    assert answer_contains("Switzerland served for 400 years.", ["40"]) == 0.0
    assert answer_contains("Switzerland served for 40 years.", ["40"]) == 1.0


def test_wrong_answer_scores_zero():
    assert exact_match("Mukhtar Tileuberdi", ["Parahat Durdyev"]) == 0.0
    assert answer_contains("Mukhtar Tileuberdi", ["Parahat Durdyev"]) == 0.0
    assert f1("Mukhtar Tileuberdi", ["Parahat Durdyev"]) == 0.0
    assert fact_recall("Mukhtar Tileuberdi", ["Parahat Durdyev"]) == 0.0


def test_f1_takes_the_best_alias():
    assert f1("up to 110 million doses", ["110 million", "up to 110 million"]) == pytest.approx(2 * 0.8 * 1.0 / 1.8)


def test_partial_facts():
    facts = ["Germany", "35,000", "over 4,000"]
    assert fact_recall("Germany hosted 35,000 Afghans.", facts) == pytest.approx(2 / 3)
    assert fact_recall("Germany hosted 35,000; Italy over 4,000.", facts) == 1.0
    assert fact_recall("anything", []) is None


def test_release_matching_by_url_or_path_but_feed_items_only_by_url():
    assert release_matches(SEED_CITE.release_id, None, SEED_CITE.origin, SEED)
    assert release_matches(TRUDEAU_URL, TRUDEAU_URL, None, TRUDEAU)  # by URL alone
    assert release_matches("sha256:x", None, "/c/whitehouse/2021-08-02-readout-trudeau.md", TRUDEAU)  # by path alone
    assert not release_matches("sha256:x", None, "/c/other/china-central-asia-foreign-ministers-meeting.txt.bak", SEED)
    feed_origin = "/repo/corpus/state-dept/press-releases.rss#item-17"
    assert not release_matches("https://www.state.gov/other/", "https://www.state.gov/other/", feed_origin, FEED_ITEM)
    assert release_matches("https://www.state.gov/spavor", "https://www.state.gov/spavor", feed_origin, FEED_ITEM)


def test_citing_the_wrong_release_lowers_precision():
    assert citation_precision([SEED_CITE], [SEED]) == 1.0
    assert citation_precision([SEED_CITE, OTHER_CITE], [SEED]) == 0.5
    # Two quotes from one release are one release.
    assert citation_precision([SEED_CITE, cite(SEED_CITE.release_id, SEED_CITE.origin, n=2)], [SEED]) == 1.0
    assert citation_precision([], [SEED]) is None
    assert citation_recall([SEED_CITE], [SEED, TRUDEAU]) == 0.5
    assert citation_recall([SEED_CITE, TRUDEAU_CITE, OTHER_CITE], [SEED, TRUDEAU]) == 1.0


def test_quote_match():
    assert quote_overlaps("the U.S. Protecting   Power in Iran.", EVIDENCE)  # quote inside evidence, spacing differs
    assert quote_overlaps("Earlier sentence. " + EVIDENCE + " Later sentence.", EVIDENCE)  # evidence inside quote
    # A loader that cleaned differently (a dropped link, other quotes): token overlap still matches.
    assert quote_overlaps("President Biden thanked Switzerland for its 40 years of service as the Protecting Power.", EVIDENCE)
    assert not quote_overlaps("President Biden spoke today with Prime Minister Trudeau of Canada.", EVIDENCE)
    assert quote_match([EVIDENCE], [EVIDENCE, "Another quote entirely about something else."]) == 0.5
    assert quote_match([], [EVIDENCE]) == 0.0
    assert quote_match(["x"], []) is None


def test_recall_at_k_and_mrr():
    others = [rel(f"sha256:{i}", origin=f"/c/whitehouse/{i}.md") for i in range(6)]
    seed = rel("sha256:abc", origin=SEED_CITE.origin)
    assert recall_at_k([seed, *others], [SEED]) == 1.0
    assert reciprocal_rank([seed, *others], [SEED]) == 1.0
    assert reciprocal_rank([*others[:2], seed], [SEED]) == pytest.approx(1 / 3)
    assert recall_at_k([*others[:5], seed], [SEED], k=5) == 0.0  # rank 6 is outside the top 5
    assert reciprocal_rank([*others[:5], seed], [SEED]) == pytest.approx(1 / 6)
    assert reciprocal_rank(others, [SEED]) == 0.0
    trudeau = rel(TRUDEAU_URL, url=TRUDEAU_URL)
    assert recall_at_k([seed, trudeau], [SEED, TRUDEAU]) == 1.0
    assert recall_at_k([seed], [SEED, TRUDEAU]) == 0.5


def test_percentile():
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([5.0], 95) == 5.0
    assert percentile([], 50) is None


ANSWERABLE = GoldQuestion(
    id="q-answerable",
    question="Who represented Turkmenistan?",
    answers=["Parahat Durdyev"],
    facts=["Parahat Durdyev"],
    sources=[SEED],
    evidence=["Parahat Durdyev, Turkmenistan's Ambassador to China attended the meeting."],
    tags=["who"],
)
UNANSWERABLE = GoldQuestion(id="q-unanswerable", question="In which city?", answerable=False, sources=[SEED], tags=["where"])
ABSTAIN = Answer(answer="The releases do not say.", abstained=True)
GOOD = Answer(
    answer="Parahat Durdyev, Turkmenistan's Ambassador to China, represented Turkmenistan [1].",
    abstained=False,
    citations=[cite(SEED_CITE.release_id, SEED_CITE.origin, quote="Parahat Durdyev, Turkmenistan's Ambassador to China attended the meeting.")],
    related=[rel(SEED_CITE.release_id, origin=SEED_CITE.origin)],
)


def test_abstention_on_answerable_is_a_miss_and_on_unanswerable_a_hit():
    miss = score_question(ANSWERABLE, ABSTAIN, latency_s=1.0)
    assert not miss.passed and "abstained" in miss.reason
    assert miss.metrics["lenient_fact_recall"] == 0.0 and miss.metrics["abstention_correct"] == 0.0
    hit = score_question(UNANSWERABLE, ABSTAIN, latency_s=1.0)
    assert hit.passed and hit.metrics["abstention_correct"] == 1.0
    assert hit.metrics["lenient_fact_recall"] is None and hit.metrics["citation_recall"] is None  # only abstention is scored
    answered = score_question(UNANSWERABLE, GOOD, latency_s=1.0)
    assert not answered.passed and answered.metrics["abstention_correct"] == 0.0
    # Its citation (the seed release is not a source of an unanswerable question) counts against precision.
    no_source = GoldQuestion(id="q-none", question="In which city?", answerable=False)
    assert score_question(no_source, GOOD).metrics["citation_precision"] == 0.0

    summary = summarize([miss, hit, score_question(ANSWERABLE, GOOD, latency_s=3.0)])
    assert summary["abstention_accuracy"] == 1.0
    assert summary["false_abstention_rate"] == 0.5
    assert summary["lenient_fact_recall"] == 0.5 and summary["strict_fact_recall"] == 0.5
    assert summary["hasans_count"] == 2 and summary["noans_count"] == 1 and summary["hasans_pass_rate"] == 0.5
    assert summary["latency_p50_s"] == 1.0


def test_good_answer_scores_full_marks():
    r = score_question(ANSWERABLE, GOOD, latency_s=0.5)
    assert r.passed and r.lenient_passed and r.reason == ""
    assert r.metrics["answer_contains"] == 1.0 and r.metrics["exact_match"] == 0.0  # a sentence, not the bare alias
    for k in ("strict_fact_recall", "lenient_fact_recall", "provenance", "citation_precision", "citation_recall",
              "quote_match", "retrieval_recall_at_5", "mrr"):
        assert r.metrics[k] == 1.0, k
    assert {k for k, ok in r.checks.items() if not ok} == {"exact_match", "f1"}  # long sentence vs short alias
    assert r.answer_words == 8


def test_short_answer_is_what_em_and_f1_score():
    short = GOOD.model_copy(update={"short_answer": "Parahat Durdyev"})
    r = score_question(ANSWERABLE, short)
    assert r.passed and r.metrics["exact_match"] == 1.0 and r.metrics["f1"] == 1.0
    assert r.short_answer == "Parahat Durdyev"


def test_number_canonicalisation_in_em_and_f1():
    assert exact_match("thirteen", ["13"]) == 1.0
    assert exact_match("Thirteen.", ["thirteen"]) == 1.0
    assert exact_match("201st", ["201"]) == 0.0
    assert exact_match("the twenty-first", ["21st"]) == 1.0
    assert exact_match("35,000", ["35000"]) == 1.0
    assert f1("over four thousand", ["over 4,000"]) == 1.0
    assert answer_contains("It was the 201st anniversary.", ["201"]) == 0.0


def test_error_scores_worst_values():
    r = score_question(ANSWERABLE, None, error="RuntimeError: boom")
    assert not r.passed and r.error == "RuntimeError: boom"
    assert r.metrics["lenient_fact_recall"] == 0.0 and r.metrics["mrr"] == 0.0
    assert summarize([r])["false_abstention_rate"] == 1.0
    assert summarize([r])["latency_p50_s"] is None
    timed = score_question(ANSWERABLE, None, error="no answer within 120 s", latency_s=120.0, timed_out=True)
    assert timed.reason.startswith("timeout") and summarize([timed])["timeouts"] == 1
    assert summarize([timed])["latency_p95_s"] == 120.0


def test_gate_pass_and_fail(tmp_path):
    summary = {"lenient_fact_recall": 0.6, "mrr": 0.4, "false_abstention_rate": 0.3, "latency_p95_s": 2.0,
               "abstention_accuracy": None, "f1": float("nan")}
    ok = Thresholds(minimum={"lenient_fact_recall": 0.5, "mrr": 0.4}, maximum={"false_abstention_rate": 0.3})
    assert check_gate(summary, ok) == ([], [])
    bad = Thresholds(minimum={"lenient_fact_recall": 0.7, "abstention_accuracy": 0.5, "f1": 0.1}, maximum={"latency_p95_s": 1.0})
    missed, unmeasured = check_gate(summary, bad)
    assert len(missed) == 2 and missed[0].startswith("lenient_fact_recall") and missed[1].startswith("latency_p95_s")
    # Unmeasured (None) and NaN gated metrics are reported, and the runner fails the gate on them.
    assert unmeasured == ["abstention_accuracy", "f1"]

    path = tmp_path / "t.yaml"
    path.write_text("min: {lenient_fact_recall: 0.5}\nmax: {latency_p95_s: 10}\nsets: {dev: {min: {pass_rate: 0.4}}}\n")
    loaded = load_thresholds(path)
    assert loaded.minimum == {"lenient_fact_recall": 0.5} and loaded.maximum == {"latency_p95_s": 10.0}
    assert loaded.for_set("dev").minimum == {"lenient_fact_recall": 0.5, "pass_rate": 0.4}
    assert loaded.for_set("train").minimum == {"lenient_fact_recall": 0.5}
    assert check_gate({"lenient_fact_recall": 0.9, "latency_p95_s": 1.0, "pass_rate": 0.3}, loaded, "dev")[0] == [
        "pass_rate = 0.3 < minimum 0.4"]
    path.write_text("min: {fact_recal: 0.5}\n")
    with pytest.raises(GateError, match="unknown metric `fact_recal`"):
        load_thresholds(path)


def test_checked_in_thresholds_load_and_can_fail():
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "eval"
    for name in ("thresholds.yaml", "thresholds-squad.yaml"):
        t = load_thresholds(root / name)
        assert "latency_p95_s" in t.maximum and t.maximum["latency_p95_s"] < 30, name
        for set_name in ("dev", "train", None):
            bounds = t.for_set(set_name)
            # A minimum of 0 or a maximum of 1 on a rate could never fail.
            assert all(v > 0 for v in bounds.minimum.values()), (name, bounds.minimum)
            assert all(v < 1 for k, v in bounds.maximum.items() if k.endswith("_rate")), (name, bounds.maximum)
