"""Verification rejects drafts that state what the quote does not."""

from service.verify import verify

QUOTE = (
    "Murat Nurtleu, deputy prime minister and minister of foreign affairs of Kazakhstan, Jeenbek Kulubaev, "
    "Minister of Foreign Affairs of Kyrgyzstan, and Parahat Durdyev, Turkmenistan's Ambassador to China attended the meeting."
)
QUESTION = "Who represented Turkmenistan at the Sixth China-Central Asia Foreign Ministers' Meeting?"


def test_supported_draft_passes():
    verdict = verify("Parahat Durdyev, Turkmenistan's Ambassador to China, represented Turkmenistan.", [QUOTE], QUESTION)
    assert verdict.supported, verdict


def test_invented_person_is_rejected():
    verdict = verify("Yuliy Yelena represented Turkmenistan at the meeting.", [QUOTE], QUESTION)
    assert not verdict.supported
    assert any("Yuliy" in claim for claim in verdict.unsupported)


def test_changed_number_is_rejected():
    quote = "In addition, President Biden informed President Zelenskyy that the United States intends to provide the Ukrainian government with $500 million in direct budgetary aid."
    assert verify("The United States intends to provide $500 million in direct budgetary aid.", [quote]).supported
    verdict = verify("The United States intends to provide $600 million in direct budgetary aid.", [quote])
    assert not verdict.supported
    assert "600" in verdict.unsupported


def test_number_words_match_digits():
    quote = "The President expressed his condolences for the thirteen Guatemalan migrants who were killed in Northern Mexico."
    assert verify("He offered condolences for thirteen Guatemalan migrants.", [quote]).supported
    assert not verify("He offered condolences for 14 Guatemalan migrants.", [quote]).supported


def test_off_topic_draft_is_rejected():
    verdict = verify("The weather in the region will improve considerably next summer.", [QUOTE], QUESTION)
    assert not verdict.supported
