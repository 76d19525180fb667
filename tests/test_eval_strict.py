"""The strict pass: each hole of the lenient pass (wrong release, dump answer, quote from another release,
a negated answer) is a failing case, and a right, cited, precise answer passes."""

from eval.gold import GoldQuestion, GoldSource
from eval.metrics import score_question, summarize
from eval.strict import MAX_EXTRA_WORDS, quote_aligns
from service.records import Answer, Citation

SEED = GoldSource(path="seed/china-central-asia-foreign-ministers-meeting.txt")
SEED_ORIGIN = "/corpus/seed/china-central-asia-foreign-ministers-meeting.txt"
OTHER_ORIGIN = "/corpus/whitehouse/2021-08-02-readout-trudeau.md"
EVIDENCE = (
    "Murat Nurtleu, deputy prime minister and minister of foreign affairs of Kazakhstan, Wang Yi, a member of the "
    "Political Bureau of the Communist Party of China Central Committee and Minister of Foreign Affairs, Jeenbek "
    "Kulubaev, Minister of Foreign Affairs of Kyrgyzstan, Sirojiddin Muhriddin, Minister of Foreign Affairs of "
    "Tajikistan, Bakhtiyor Saidov, Minister of Foreign Affairs of Uzbekistan, and Parahat Durdyev, Turkmenistan's "
    "Ambassador to China attended the meeting."
)
CLAUSE = "Parahat Durdyev, Turkmenistan's Ambassador to China"
GOLD = GoldQuestion(
    id="seed-turkmenistan",
    question="Who represented Turkmenistan at the Sixth China-Central Asia Foreign Ministers' Meeting?",
    answers=["Parahat Durdyev"],
    facts=["Parahat Durdyev"],
    sources=[SEED],
    evidence=[EVIDENCE],
)


def cite(quote: str, origin: str = SEED_ORIGIN, release_id: str = "sha256:seed") -> Citation:
    return Citation(n=1, release_id=release_id, title="t", origin=origin, quote=quote, start=0, end=len(quote))


def answer(text: str, *citations: Citation, short: str | None = None) -> Answer:
    return Answer(answer=text, abstained=False, short_answer=short, citations=list(citations))


def test_right_release_right_quote_precise_answer_passes():
    r = score_question(GOLD, answer(f"{CLAUSE} [1].", cite(CLAUSE)))
    assert r.passed and r.lenient_passed and r.metrics["provenance"] == 1.0 and r.metrics["strict_fact_recall"] == 1.0


def test_wrong_release_fails():
    r = score_question(GOLD, answer("Parahat Durdyev [1].", cite(CLAUSE, origin=OTHER_ORIGIN, release_id="sha256:other")))
    assert r.lenient_passed and not r.passed
    assert "no citation of a gold source release" in r.reason
    assert r.metrics["lenient_fact_recall"] == 1.0 and r.metrics["strict_fact_recall"] == 0.0
    assert r.metrics["citation_precision"] == 0.0


def test_no_citation_fails():
    r = score_question(GOLD, answer("Parahat Durdyev."))
    assert r.lenient_passed and not r.passed and "no citation" in r.reason


def test_quote_from_another_release_fails():
    # The citation claims the gold release, but its quote is another release's sentence.
    other_sentence = "President Biden spoke today with Justin Trudeau, Prime Minister of Canada."
    r = score_question(GOLD, answer("Parahat Durdyev [1].", cite(other_sentence)))
    assert r.lenient_passed and not r.passed
    assert "quote is not the gold evidence" in r.reason and r.metrics["provenance"] == 0.0


def test_dump_answer_with_six_names_fails():
    r = score_question(GOLD, answer(f"{EVIDENCE} [1]", cite(EVIDENCE)))
    assert r.lenient_passed and r.metrics["provenance"] == 1.0 and not r.passed
    assert r.reason.startswith("imprecise answer")
    # A dump short answer fails the same way; a precise short answer with the sentence as context passes.
    assert not score_question(GOLD, answer(f"{EVIDENCE} [1]", cite(EVIDENCE), short=EVIDENCE)).passed
    assert score_question(GOLD, answer(f"{EVIDENCE} [1]", cite(EVIDENCE), short="Parahat Durdyev")).passed


def test_restating_the_question_fits_the_word_budget():
    text = "Turkmenistan was represented at the meeting by Parahat Durdyev, its Ambassador to China [1]."
    assert score_question(GOLD, answer(text, cite(CLAUSE))).passed
    padding = " ".join(f"word{i}" for i in range(MAX_EXTRA_WORDS + 1))
    assert not score_question(GOLD, answer(f"Parahat Durdyev {padding} [1].", cite(CLAUSE))).passed


def test_negated_answer_fails():
    for text in ("It was not Parahat Durdyev [1].", "Parahat Durdyev didn't represent Turkmenistan [1]."):
        r = score_question(GOLD, answer(text, cite(CLAUSE)))
        assert r.lenient_passed and not r.passed and "negated answer" in r.reason, text


def test_quote_alignment_needs_five_tokens_or_the_whole_evidence():
    assert quote_aligns(CLAUSE, EVIDENCE)  # 6 tokens inside the evidence
    assert quote_aligns("Before. " + EVIDENCE + " After.", EVIDENCE)  # holds the whole evidence
    assert not quote_aligns("Parahat Durdyev", EVIDENCE)  # 2 tokens: too short to locate the evidence
    assert quote_aligns("Parahat Durdyev", "Parahat Durdyev")  # ... unless it is the whole evidence
    # Token-aligned: the same words in another order, or straddling the evidence's end, do not align.
    assert not quote_aligns("Ambassador to China Parahat Durdyev Turkmenistan's", EVIDENCE)


def test_answered_unanswerable_fails_and_its_citations_lower_precision():
    unanswerable = GoldQuestion(id="u", question="In which city was the meeting held?", answerable=False)
    answered = score_question(unanswerable, answer("Astana [1].", cite(CLAUSE)))
    assert not answered.passed and answered.reason == "answered an unanswerable question"
    good = score_question(GOLD, answer(f"{CLAUSE} [1].", cite(CLAUSE)))
    summary = summarize([good, answered])
    assert summary["citation_precision"] == 0.5
    assert summary["hasans_pass_rate"] == 1.0 and summary["abstention_accuracy"] == 0.0 and summary["pass_rate"] == 0.5
