"""Evidence selection: answer types, clauses inside long enumerations, coverage of the question's names."""

from service.evidence import best_clause, release_coverage, typed_spans
from service.question import AnswerType, profile

SEED_LIST = (
    "Murat Nurtleu, deputy prime minister and minister of foreign affairs of Kazakhstan, Wang Yi, a member of the "
    "Political Bureau of the Communist Party of China Central Committee and Minister of Foreign Affairs, Jeenbek "
    "Kulubaev, Minister of Foreign Affairs of Kyrgyzstan, Sirojiddin Muhriddin, Minister of Foreign Affairs of "
    "Tajikistan, Bakhtiyor Saidov, Minister of Foreign Affairs of Uzbekistan, and Parahat Durdyev, Turkmenistan's "
    "Ambassador to China attended the meeting."
)


def test_answer_types():
    assert profile("Who represented Turkmenistan?").answer_type == AnswerType.PERSON
    assert profile("Which journalist was arrested in Minsk?").answer_type == AnswerType.PERSON
    assert profile("How much direct budgetary aid did he pledge?").answer_type == AnswerType.MONEY
    assert profile("How many vaccines did Biden donate?").answer_type == AnswerType.NUMBER
    assert profile("By what date would the teams finish?").answer_type == AnswerType.DATE
    assert profile("In which city was the meeting held?").answer_type == AnswerType.PLACE
    assert profile("What gift did Trudeau send?").answer_type == AnswerType.OTHER


def test_clause_of_a_long_enumeration():
    for country, name in [("Turkmenistan", "Parahat Durdyev"), ("Kyrgyzstan", "Jeenbek Kulubaev"), ("Tajikistan", "Sirojiddin Muhriddin")]:
        question = profile(f"Who represented {country} at the Sixth China-Central Asia Foreign Ministers' Meeting?")
        weights = {t: 1.0 for t in question.terms}
        start, end = best_clause(SEED_LIST, question, weights)
        clause = SEED_LIST[start:end]
        assert name in clause and country in clause, clause
        assert len(clause) < len(SEED_LIST) / 2


def test_numbers_must_count_what_is_asked():
    sentence = "The President and the Amir welcomed the signing of a $20 billion deal between Boeing and Qatar Airways Group, which will support tens of thousands of U.S. manufacturing jobs."
    aircraft = profile("How many aircraft are covered by the $20 billion Boeing deal?")
    assert typed_spans(sentence, aircraft.answer_type, aircraft) == []
    migrants = profile("How many Guatemalan migrants killed in Northern Mexico did Biden mourn?")
    text = "The President expressed his condolences for the thirteen Guatemalan migrants who were killed in Northern Mexico."
    assert typed_spans(text, migrants.answer_type, migrants) == ["thirteen"]


def test_a_person_answer_must_be_a_new_name():
    question = profile("Who carried out the attack on the helicopter that prompted Biden's call with President Ivan Duque?")
    sentence = "President Joseph R. Biden Jr. spoke today with President Ivan Duque of Colombia to express U.S. support following the attack."
    spans = typed_spans(sentence, question.answer_type, question)
    assert "Ivan Duque" not in " ".join(spans)


def test_release_coverage_needs_the_question_names():
    question = profile("What did Biden and Putin discuss in their phone call in August 2021?")
    assert release_coverage(question, "Readout of President Biden's Call with President Putin", "They talked.") == 1.0
    assert release_coverage(question, "Readout of President Biden's Call with President Macron", "They talked.") < 0.6
