"""Truecasing a question typed without capitals, from how made-up releases spell its words."""

from service.reader.lexicon import fold
from service.reader.nlp import parse
from service.reader.analysis import analyze
from service.reader.names import Name
from service.reader.truecase import needs_truecasing, truecase

RELEASE = """Kelvar Ostrand, Drumlia's Envoy to Pellmark, attended the summit.
The envoy of Drumlia thanked the hosts. The summit praised the partnership with Drumlia.
The OSPRA delegation met the envoy. President Quillon spoke at the summit."""


def test_only_a_question_typed_without_case_is_truecased():
    assert needs_truecasing("who represented drumlia?")
    assert needs_truecasing("WHO REPRESENTED DRUMLIA?")
    assert not needs_truecasing("Who represented Drumlia?")
    assert not needs_truecasing("who met the envoy of Drumlia?")  # its writer chose a capital: left as typed
    assert truecase("Who met the envoy of Drumlia?", [RELEASE]) == "Who met the envoy of Drumlia?"


def test_words_take_their_usual_mid_sentence_spelling():
    assert truecase("who represented drumlia?", [RELEASE]) == "who represented Drumlia?"
    assert truecase("WHO MET THE OSPRA DELEGATION?", [RELEASE]) == "Who met the OSPRA delegation?"
    # "envoy" is capitalized once (a title before a name) and lower-case twice: it stays lower-case; "summit"
    # starts no sentence and is never capitalized; a word the releases lack is left alone.
    assert truecase("who was the envoy at the summit in zarn?", [RELEASE]) == "who was the envoy at the summit in zarn?"
    # a capital at the start of a sentence says nothing about the word; the name after it is the name's own
    assert truecase("what did president quillon say?", ["President Quillon spoke. President Quillon left."]) == (
        "what did president Quillon say?"
    )


def test_a_truecased_question_names_what_it_asks_about():
    lower = "who represented drumlia?"
    assert not analyze(lower, parse([fold(lower)])[0]).names
    cased = truecase(lower, [RELEASE])
    assert analyze(lower, parse([cased])[0]).names == (Name(("drumlia",)),)
