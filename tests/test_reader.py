"""The reader on made-up releases, with the real spaCy model, MiniLM and the fitted parameters.

No gold question appears here: each case is a small invented release and a question about it.
"""

from __future__ import annotations

import numpy as np
import pytest

from service.reader import Reader
from service.reader.analysis import analyze
from service.reader.candidates import candidates
from service.reader.lexicon import fold
from service.reader.model import LinearModel, ReaderParams
from service.reader.nlp import check_meta, load_nlp, parse, NlpModelMissing
from service.reader.pointer import load_pointer
from service.reader.pool import PoolRelease, build_pool

HARBOUR = """The port authorities of Rotterdam and Antwerp met in Ghent on Tuesday to coordinate their response to oil spills.
The meeting was chaired by Harbour Master Ilse Vandermeer of Antwerp.
The delegates agreed to a joint drill in September 2024.
They also pledged 4.5 million euros for new containment booms.
Rotterdam was represented by its Deputy Harbour Master, Joris Haakma."""

ORCHARD = """The Quellport Orchard Cooperative announced its annual harvest figures.
Members picked 12,400 tonnes of apples this season, a record for the cooperative.
The cooperative's chair, Benedikt Armistead, thanked the pickers.
Next year's harvest festival will take place in Lowmoor."""


def _pool(*texts: str, published: str | None = "2024-05-01"):
    from core.chunking import split_sentences

    releases = [
        PoolRelease(f"r{i}", text.split("\n")[0][:60], published, None, f"made-up-{i}.txt", text, i, 1.0 / (1 + i))
        for i, text in enumerate(texts)
    ]
    return build_pool(releases, [split_sentences(r.text) for r in releases])


@pytest.fixture(scope="module")
def reader(embedder):
    return Reader(ReaderParams.load(), embedder.encode, encode_tokens=embedder.encode_tokens, pointer=load_pointer())


def _read(reader, embedder, question: str, *texts: str):
    analysis = reader.analyze(question)
    return reader.read(analysis, _pool(*texts), embedder.encode_query(question))


def test_the_model_is_upstreams_en_core_web_sm():
    meta = load_nlp().meta
    assert meta["version"] == "3.8.0"
    assert round(meta["performance"]["ents_f"], 3) == 0.843
    assert round(meta["performance"]["dep_uas"], 3) == 0.918
    with pytest.raises(NlpModelMissing):
        check_meta({**meta, "version": "3.7.1"})


@pytest.mark.parametrize(
    "question, wh, focus, plural",
    [
        ("who chaired the meeting?", "who", None, False),
        ("Which city hosted the meeting?", "which", "city", False),
        ("What type of booms did they pledge money for?", "what", "booms", True),
        ("How many tonnes of apples were picked?", "how_many", "tonnes", False),  # the unit counted; one number
        ("How much money did the cooperative pledge?", "how_much", "money", False),
        ("How many did they send?", "how_many", None, False),
        ("When will the drill take place?", "when", None, False),
        ("What did the delegates agree to?", "what", None, False),
    ],
)
def test_question_analysis(question, wh, focus, plural):
    analysis = analyze(question, parse([fold(question)])[0])
    assert (analysis.wh, analysis.focus, analysis.focus_plural) == (wh, focus, plural)
    assert "the" not in analysis.terms


def test_typographic_forms_read_like_plain_ones():
    plain = analyze("Who chaired the Rotterdam-Antwerp meeting's session?", parse([fold("Who chaired the Rotterdam-Antwerp meeting's session?")])[0])
    curly = "Who chaired the Rotterdam–Antwerp meeting’s session?"
    typographic = analyze(curly, parse([fold(curly)])[0])
    assert typographic.terms == plain.terms and typographic.wh == plain.wh


def test_candidates_come_from_spacy_entities_and_noun_phrases():
    doc = parse(["The meeting was chaired by Harbour Master Ilse Vandermeer of Antwerp."])[0]
    found = {(c.text, c.label) for c in candidates(doc)}
    assert any(text.endswith("Ilse Vandermeer") for text, _ in found)
    assert any(label not in ("NP", "PHRASE") for _, label in found)
    assert ("Antwerp", "GPE") in found
    assert all(not text.lower().startswith("the ") for text, _ in found)


def test_a_candidate_starts_after_a_possessive_determiner():
    doc = parse(["Rotterdam was represented by its Deputy Harbour Master, Joris Haakma."])[0]
    texts = {c.text for c in candidates(doc)}
    assert "Deputy Harbour Master" in texts
    assert not any(text.startswith("its ") for text in texts)


@pytest.mark.parametrize(
    "question, expected",
    [
        ("Who chaired the meeting of the port authorities?", "Ilse Vandermeer"),
        ("who represented rotterdam?", "Joris Haakma"),
        ("When will the port authorities of Rotterdam and Antwerp hold their joint drill?", "September 2024"),
        ("How much did the port authorities pledge for containment booms?", "4.5 million"),
        ("Where did the port authorities of Rotterdam and Antwerp meet?", "Ghent"),
        ("How many tonnes of apples did the Quellport cooperative's members pick?", "12,400"),
        ("Who is the chair of the Quellport Orchard Cooperative?", "Benedikt Armistead"),
    ],
)
def test_short_answers_from_made_up_releases(reader, embedder, question, expected):
    # The release retrieval would rank first comes first; the other is a distractor.
    releases = (ORCHARD, HARBOUR) if "Quellport" in question else (HARBOUR, ORCHARD)
    reading = _read(reader, embedder, question, *releases)
    assert reading.best is not None
    assert expected in reading.best.text, [(c.text, round(c.probability, 2)) for c in reading.choices[:5]]
    assert expected.split()[0] in reading.best.sentence.text


def test_an_unasked_fact_is_less_certain_than_a_stated_one(reader, embedder):
    stated = _read(reader, embedder, "Who chaired the meeting of the port authorities in Ghent?", HARBOUR, ORCHARD)
    unstated = _read(reader, embedder, "Who chaired the meeting of the port authorities of Hamburg in Kiel?", ORCHARD)
    assert stated.confidence > unstated.confidence


def test_answerability_knows_a_dated_release_from_other_text(reader, embedder):
    from service.reader.answerability import ANSWERABLE_FEATURES

    question = "Who chaired the meeting of the port authorities?"
    dated_index = ANSWERABLE_FEATURES.index("chosen_release_dated")
    rows = {}
    for published in ("2024-05-01", None):
        reading = reader.read(reader.analyze(question), _pool(HARBOUR, ORCHARD, published=published), embedder.encode_query(question))
        assert "Ilse Vandermeer" in reading.best.text  # the same choice either way: only how sure it is may differ
        rows[published] = reading.answerable_row
    assert rows["2024-05-01"][dated_index] == 1.0 and rows[None][dated_index] == 0.0
    others = [i for i in range(len(ANSWERABLE_FEATURES)) if i != dated_index]
    assert np.allclose(rows["2024-05-01"][others], rows[None][others])


def test_a_learned_model_ranks_by_its_weights():
    model = LinearModel(("a", "b"), np.zeros(2), np.ones(2), np.array([2.0, -1.0]), 0.0)
    rows = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert model.probability(rows)[0] > 0.5 > model.probability(rows)[1]
    assert LinearModel.from_dict(model.to_dict()).logit(rows).tolist() == model.logit(rows).tolist()


def test_missing_parameters_fail_with_the_refit_command(tmp_path):
    with pytest.raises(FileNotFoundError, match="python -m eval.fit_reader"):
        ReaderParams.load(tmp_path / "absent.json")


def test_a_ranker_orders_rows_and_survives_a_save(tmp_path):
    from service.reader.model import RankerModel, fit_ranker

    rng = np.random.default_rng(0)
    rows = rng.normal(size=(400, 2))
    labels = (rows[:, 0] > 1.0).astype(int)  # only the first feature says which row answers
    owners = np.repeat(np.arange(40), 10)
    ranker = fit_ranker(rows, labels, owners, ("useful", "noise"))
    scores = ranker.logit(np.array([[2.0, 0.0], [-2.0, 0.0]]))
    assert scores[0] > scores[1]
    params = ReaderParams.load()
    saved = ReaderParams(ranker, params.span, params.answerable, params.type_table, params.threshold, params.meta)
    saved.save(tmp_path / "reader.json")
    loaded = ReaderParams.load(tmp_path / "reader.json")
    assert isinstance(loaded.sentence, RankerModel)
    assert loaded.sentence.logit(rows[:5]).tolist() == ranker.logit(rows[:5]).tolist()


def test_a_stacked_span_model_is_a_calibrated_probability_and_survives_a_save(tmp_path):
    from service.reader.model import StackedSpanModel, fit_linear, fit_ranker, stack

    rng = np.random.default_rng(1)
    rows = rng.normal(size=(600, 2))
    labels = (rows[:, 0] + 0.3 * rng.normal(size=600) > 1.2).astype(int)
    owners = np.repeat(np.arange(60), 10)
    features = ("useful", "noise")
    ranker, linear = fit_ranker(rows, labels, owners, features), fit_linear(rows, labels, features)
    model = stack(ranker, linear, ranker.logit(rows), linear.logit(rows), labels)
    p = model.probability(rows)
    assert ((0 < p) & (p < 1)).all()
    # calibrated: the mean probability is the rate of positives, within a few points
    assert abs(p.mean() - labels.mean()) < 0.03
    assert model.probability(np.array([[2.5, 0.0]]))[0] > 0.5 > model.probability(np.array([[-2.5, 0.0]]))[0]
    params = ReaderParams.load()
    ReaderParams(params.sentence, model, params.answerable, params.type_table, params.threshold,
                 params.meta).save(tmp_path / "reader.json")
    loaded = ReaderParams.load(tmp_path / "reader.json").span
    assert isinstance(loaded, StackedSpanModel)
    assert loaded.probability(rows[:5]).tolist() == pytest.approx(p[:5].tolist(), abs=1e-5)

def test_every_release_gets_its_best_sentences_read(reader, embedder):
    # However the sentence model ranks them, the last release's best sentences are parsed and their candidates
    # scored: a vague question can have its answer in a release retrieved low.
    question = "who represented rotterdam?"
    analysis = reader.analyze(question)
    pool = _pool(ORCHARD, ORCHARD.replace("Quellport", "Westmoor"), HARBOUR)
    narrow = Reader(reader.params, embedder.encode, read_sentences=1, read_per_release=1, encode_tokens=embedder.encode_tokens,
                    pointer=reader.pointer)
    reading = narrow.featurize(analysis, pool, embedder.encode_query(question))
    read_releases = {pool[r.pool_index].release.release_id for r in reading.readings}
    assert read_releases == {"r0", "r1", "r2"}
    assert len(reading.readings) == 3


def test_a_candidates_neighbours_are_compared_with_the_question(embedder):
    # The words around a name, not the name itself, tell which of several people a question asks for: "chef" beside
    # one name answers "who cooked …" better than "ambassador" beside the other, though the question says neither.
    from service.reader.spans import context_similarities

    text = "Mira Olsen, the ambassador of the republic, and Tomas Berg, the chef of the city canteen, attended the dinner."
    doc = parse([text])[0]
    names = [c for c in candidates(doc) if c.text in ("Mira Olsen", "Tomas Berg")]
    assert [c.text for c in names] == ["Mira Olsen", "Tomas Berg"]
    vectors, states = embedder.encode_tokens([text])
    assert np.allclose(vectors, embedder.encode([text]), atol=1e-4)  # the same pass gives the sentence vector

    def similarities(question):
        return context_similarities(doc, names, states[0], embedder.encode_query(question), fallback=-1.0)

    ambassador, chef = similarities("Who cooked the food at the dinner?")
    assert chef > ambassador > -1.0
    ambassador, chef = similarities("Who represented the republic?")
    assert ambassador > chef


def test_a_questions_dates_are_not_names_it_needs_a_release_to_spell():
    question = "Which envoy visited Quellport on June 3, 2024?"
    names = {stem for name in analyze(question, parse([question])[0]).names for stem in name.words}
    assert "quellport" in names
    assert not {"june", "3", "2024"} & names


def test_a_name_is_found_in_the_forms_derived_from_it():
    from service.reader.names import name_in

    assert name_in("zorblax", {"the", "zorblaxian", "envoy"})  # the people's adjective of a made-up country
    assert name_in("zorblaxian", {"zorblax"})
    assert not name_in("austria", {"australia"})  # sharing a beginning is not enough
    assert not name_in("zorblax", {"quellport"})


def test_an_unanswerable_twin_names_what_its_releases_do_not(reader, embedder):
    # The fit's SQuAD 2.0-style twins: one entity of an answerable question is swapped for one of the same type
    # from another question that no release of the pool names, and the pool is kept.
    from eval.fit_reader import Example, unanswerable_twins
    from service.chain import Gathered
    from service.retrieval import Filters

    def example(question, *texts):
        gathered = Gathered(question, question, reader.analyze(question), Filters(), [], _pool(*texts), None)
        return Example(question, question, ["x"], [], True, gathered)

    harbour = example("Who represented Rotterdam at the meeting in Ghent?", HARBOUR)
    orchard = example("How many tonnes of apples did the pickers in Paris and Madrid pick?", ORCHARD)
    twins = unanswerable_twins([harbour, orchard], reader, embedder.encode_query)
    by_source = {t.gathered.pool[0].release.text: t for t in twins}
    twin = by_source[HARBOUR]
    assert not twin.answerable and twin.synthetic and twin.group == harbour.group
    assert twin.gathered.pool is harbour.gathered.pool
    asked = twin.gathered.standalone
    assert asked != harbour.gathered.standalone
    assert "Paris" in asked or "Madrid" in asked  # a place no harbour sentence names
    assert twin.gathered.analysis.text == asked and twin.gathered.question_vector.shape == (embedder.dimension,)


def test_a_sentence_is_told_apart_by_what_the_question_asks_beyond_its_releases_topic():
    # A release's title says what all of its sentences are about: a question's terms that the title lacks ("agree",
    # "reopen") are what pick its answer out of the sentences that repeat the topic's names.
    from service.reader.sentences import SENTENCE_FEATURES, sentence_features

    text = """The Zorblax trade minister spoke with the mayor of Quellport today.
The trade minister and the mayor agreed that the ferry link would reopen in May.
The mayor thanked the minister for the call."""
    pool = _pool(text)
    pool[0].release.title = "Call of the Zorblax trade minister with the mayor of Quellport"
    question = "In the Zorblax trade minister's call with the Quellport mayor, what did they agree would reopen?"
    rows = sentence_features(analyze(question, parse([question])[0]), pool)
    detail = rows[:, SENTENCE_FEATURES.index("detail_coverage")]
    window = rows[:, SENTENCE_FEATURES.index("detail_window_coverage")]
    assert detail[1] == pytest.approx(1.0)  # both of the question's other terms
    assert detail[0] == detail[2] == 0.0  # the topic's names and "call", all in the title
    assert window[0] == window[2] == pytest.approx(1.0)  # beside the answer
