"""What a question names, and whether a release mentions it: matched as releases refer to people and things."""

from service.reader.analysis import analyze
from service.reader.lexicon import content_stems
from service.reader.names import Name, mentioned, question_names, text_acronyms
from service.reader.nlp import parse


def names_of(question: str):
    return analyze(question, parse([question])[0]).names


def release(text: str):
    return frozenset(content_stems(text)), text_acronyms(text)


def missing(question: str, text: str) -> list[tuple[str, ...]]:
    stems, acronyms = release(text)
    return [n for n in names_of(question) if not mentioned(n, stems, acronyms)]


def test_a_person_is_mentioned_by_the_surname_alone():
    question = "What did President Biden discuss with Prime Minister Edvard Kallumaa of Zorblax?"
    assert not missing(question, "President Biden met Prime Minister Kallumaa. The leaders discussed Zorblaxian trade.")
    # … and a release about someone else does not mention him
    assert missing(question, "President Biden met Prime Minister Ostrova. The leaders discussed Zorblaxian trade.")


def test_a_title_before_a_name_names_nobody():
    names = {stem for name in names_of("Which port did Secretary Okafor visit in Quellport?") for stem in name.words}
    assert "okafor" in names and "quellport" in names
    assert "secretari" not in names


def test_an_acronym_and_its_long_form_mention_each_other():
    question = "What did the ZTU pledge to the Quellport harbour?"
    assert not missing(question, "The Zorblax Trade Union pledged ten tugboats to the Quellport harbour.")
    assert missing(question, "The Zorblax Fishing Guild pledged ten tugboats to the Quellport harbour.")
    question = "What did the Zorblax Trade Union pledge to the Quellport harbour?"
    assert not missing(question, "The ZTU pledged ten tugboats to the Quellport harbour.")


def test_a_name_the_release_lacks_is_missing():
    question = "Who represented Drumlia at the Quellport Harbour Summit?"
    text = "The Quellport Harbour Summit met on Monday. Zorblax was represented by its envoy, Mira Olsen."
    assert missing(question, text) == [Name(("drumlia",))]


def test_initials_come_from_runs_of_capitalized_words_and_their_endings():
    assert {"teu", "eu", "bca"} <= text_acronyms("The European Union met the Bureau of Consular Affairs.")
    assert "ca" in text_acronyms("the Bureau of Consular Affairs")  # its ending
    assert not text_acronyms("no capitals here")


def test_dates_are_no_names():
    doc = parse(["Which envoy visited Quellport on June 3, 2024?"])[0]
    stems = {s for name in question_names(doc) for s in name.words}
    assert "quellport" in stems and not {"june", "3", "2024"} & stems


def test_a_name_no_release_of_the_pool_mentions():
    from service.reader.answerability import lacks_a_name
    from service.reader.pool import PoolRelease

    def made_up(text: str) -> PoolRelease:
        return PoolRelease("r-" + text[:8], "Harbour news", None, None, None, text, 0, 1.0)

    summit = made_up("The Quellport Harbour Summit met on Monday. Zorblax sent its envoy, Mira Olsen.")
    other = made_up("Drumlia announced new ferry routes to Lowmoor.")
    names = names_of("Who represented Drumlia at the Quellport Harbour Summit?")
    assert lacks_a_name(names, [summit])  # the release chosen does not mention Drumlia …
    assert not lacks_a_name(names, [summit, other])  # … but another release read does
    assert lacks_a_name(names_of("Who represented Vostrania at the Quellport Harbour Summit?"), [summit, other])
