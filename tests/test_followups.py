"""Chained follow-ups: each builds on the last standalone question, not on the previous (elliptical) turn."""

from service.condense import condense, last_standalone_question
from service.records import Message

TURKMENISTAN = "Who represented Turkmenistan at the Sixth China-Central Asia Foreign Ministers' Meeting?"
CHAINED = [
    Message(role="user", content=TURKMENISTAN),
    Message(role="assistant", content="Parahat Durdyev [1]"),
    Message(role="user", content="And Kyrgyzstan?"),
    Message(role="assistant", content="Jeenbek Kulubaev [1]"),
]


def test_the_base_of_a_chained_follow_up_is_the_last_standalone_question(embedder):
    base = last_standalone_question(CHAINED, embedder.encode)
    assert base == TURKMENISTAN.replace("Turkmenistan", "Kyrgyzstan")
    condensed = condense("And Kazakhstan?", CHAINED, embed=embedder.encode)
    assert condensed.rewritten
    assert condensed.standalone == TURKMENISTAN.replace("Turkmenistan", "Kazakhstan")


def test_a_new_standalone_question_starts_a_new_base(embedder):
    history = [*CHAINED, Message(role="user", content="How much direct budgetary aid did Biden promise Ukraine?"), Message(role="assistant", content="$500 million [1]")]
    assert last_standalone_question(history) == "How much direct budgetary aid did Biden promise Ukraine?"
    assert condense("And Poland?", history, embed=embedder.encode).standalone == "How much direct budgetary aid did Biden promise Poland?"
