"""The answer chain over the bundled corpus and over made-up releases, with the real MiniLM, Chroma, spaCy and SmolLM2."""

import pytest

from service.condense import condense
from service.records import Message

TURKMENISTAN = "Who represented Turkmenistan at the Sixth China-Central Asia Foreign Ministers' Meeting?"


def _check_citations(runtime, answer):
    assert answer.citations, answer
    for citation in answer.citations:
        text = runtime.store.release_text(citation.release_id)
        assert text[citation.start : citation.end] == citation.quote
        assert f"[{citation.n}]" in answer.answer


def test_turkmenistan_is_answered_from_the_seed_sentence(bundled_runtime):
    answer = bundled_runtime.chain.ask(TURKMENISTAN)
    assert not answer.abstained
    assert "Parahat Durdyev" in answer.answer
    _check_citations(bundled_runtime, answer)
    first = answer.citations[0]
    assert first.origin.endswith("seed/china-central-asia-foreign-ministers-meeting.txt")
    assert "Parahat Durdyev, Turkmenistan's Ambassador to China attended the meeting." in first.quote
    text = bundled_runtime.store.release_text(first.release_id)
    assert text.index("Murat Nurtleu") == first.start


@pytest.mark.parametrize(
    "question",
    [
        "who represented turkmenistan?",  # typed as the mission writes it
        "Who represented Turkmenistan at the Sixth China\u2013Central Asia Foreign Ministers\u2019 Meeting?",  # en dash, curly apostrophe
    ],
)
def test_the_missions_question_however_it_is_typed(bundled_runtime, question):
    answer = bundled_runtime.chain.ask(question)
    assert not answer.abstained, answer.answer
    assert "Parahat Durdyev" in answer.short_answer
    assert answer.citations[0].origin.endswith("seed/china-central-asia-foreign-ministers-meeting.txt")
    _check_citations(bundled_runtime, answer)
    quote = answer.citations[0].quote
    assert quote[answer.answer_start : answer.answer_end] == answer.short_answer
    assert 0.0 < answer.confidence <= 1.0


def test_a_country_that_was_not_there_is_an_abstention(bundled_runtime):
    answer = bundled_runtime.chain.ask("Who represented Mongolia at the China-Central Asia Foreign Ministers' Meeting?")
    assert answer.abstained, answer.answer
    assert not answer.citations
    assert "do not say" in answer.answer
    assert answer.related, "an abstention lists the closest releases"


def test_follow_up_is_rewritten_and_answered(bundled_runtime):
    history = [
        Message(role="user", content=TURKMENISTAN),
        Message(role="assistant", content="Parahat Durdyev, Turkmenistan's Ambassador to China [1]."),
    ]
    answer = bundled_runtime.chain.ask("And Kyrgyzstan?", history)
    assert answer.standalone_question == TURKMENISTAN.replace("Turkmenistan", "Kyrgyzstan")
    assert "Jeenbek Kulubaev" in answer.answer


def test_condense_without_a_model_keeps_context_for_retrieval():
    history = [Message(role="user", content="What did Biden tell the Amir of Qatar on January 31, 2022?"), Message(role="assistant", content="...")]
    condensed = condense("And how much was the Boeing deal?", history)
    assert condensed.standalone == "And how much was the Boeing deal?"
    assert "Amir of Qatar" in condensed.retrieval_query
    assert condense("Who is he?", []).retrieval_query == "Who is he?"


def test_streaming_says_what_it_does_then_yields_the_answer_in_pieces(bundled_runtime):
    from service.records import ChainStatus

    events = list(bundled_runtime.chain.stream(TURKMENISTAN))
    statuses = [e for e in events if isinstance(e, ChainStatus)]
    pieces, final = [e for e in events[:-1] if isinstance(e, str)], events[-1]
    assert [s.stage for s in statuses][:2] == ["retrieve", "read"]
    assert events.index(statuses[-1]) < events.index(pieces[0])
    assert len(pieces) > 1
    assert "".join(pieces) == final.answer


def test_citations_follow_an_updated_release(tmp_path):
    """After a release changes, its quote and offsets come from the new text, not a cached old one."""
    from pressqa.settings import Settings
    from pressqa.runtime import Runtime

    release = tmp_path / "corpus" / "envoy.md"
    release.parent.mkdir()
    front = "---\ntitle: The United States Welcomes a New Envoy to Ruritania\ndate: '2021-08-06'\nsource_url: https://example.org/envoy\n---\n\n"
    release.write_text(front + "The United States welcomes the appointment of Tomasz Oberhauser as the new Special Envoy to Ruritania.\n")
    runtime = Runtime(Settings(data=tmp_path / "data", llm_backend="none"))
    runtime.indexer.ingest([release.parent])
    question = "Whose appointment as the new Special Envoy to Ruritania did the United States welcome?"
    assert "Tomasz Oberhauser" in runtime.chain.ask(question).answer

    release.write_text(front + "Ruritania has many rivers.\n\nThe United States welcomes the appointment of Ada Lovelace as the new Special Envoy to Ruritania.\n")
    assert runtime.indexer.ingest([release.parent]).updated == 1
    answer = runtime.chain.ask(question)
    assert "Ada Lovelace" in answer.answer
    _check_citations(runtime, answer)
