"""The LLM chooser: the model's answer is kept only when a cited sentence supports it; anything else keeps the reader's.

Unit tests of that logic use a scripted stand-in for the model; the integration tests talk to a real
`transformers serve` (SmolLM2, the fixture of tests/test_llm.py) and to small real HTTP servers that misbehave.
Every release here is made up.
"""

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from langchain_core.messages import AIMessage

from pressqa.settings import Settings
from service.chain import AnswerChain, Gathered
from service.choose import LLM_LABEL, LlmChooser, find_span, parse_reply, presented
from service.llm import LLMTimeout, LLMUnavailable, make_llm
from service.reader import Choice, Reading
from service.reader.analysis import QuestionAnalysis
from service.reader.candidates import Candidate
from service.reader.pool import PoolRelease, PoolSentence
from support import free_port
from test_llm import llm_data, model_dir, served_model  # noqa: F401  (fixtures: the converted SmolLM2 and its server)

QUESTION = "Who is the new director of the Zorblax Institute?"
SENTENCES = [
    "The Zorblax Institute appointed Mirela Quastenberg as its new director on Monday.",
    "Quastenberg previously led the institute’s glacier research programme for nine years.",
    "The board thanked the outgoing director, Tobias Wendelmoor.",
    "The institute was founded in 1987 in Vellmar.",
]


def pool_of(sentences: list[str], release_id: str = "zorblax-director") -> list[PoolSentence]:
    text = " ".join(sentences)
    release = PoolRelease(release_id, "Zorblax Institute names a new director", "2025-03-03", None, None, text, 0, 1.0)
    pool, at = [], 0
    for i, sentence in enumerate(sentences):
        start = text.index(sentence, at)
        pool.append(PoolSentence(release, i, start, start + len(sentence)))
        at = start + len(sentence)
    return pool


def candidate(sentence: PoolSentence, text: str, label: str = "PERSON") -> Candidate:
    start = sentence.text.index(text)
    return Candidate(text, start, start + len(text), 0, 1, label, 0)


def reading_of(pool, choices, answered=True, confidence=0.55, logits=None) -> Reading:
    """A Reading as the reader leaves it, built from made-up data (no fitted parameters needed)."""
    analysis = QuestionAnalysis(QUESTION, QUESTION, "who", "director", False, ("zorblax", "institut"), ("Zorblax", "Institute"))
    logits = np.linspace(1.0, 0.0, len(pool)) if logits is None else np.asarray(logits, dtype=float)
    made = [Choice(pool[i], candidate(pool[i], text), p, float(logits[i])) for i, text, p in choices]
    return Reading(
        analysis, pool, np.zeros((len(pool), 1)), logits, [], np.zeros((0, 1)), [], choices=made,
        confidence=confidence, answered=answered,
    )  # fmt: skip


@pytest.fixture
def reading():
    pool = pool_of(SENTENCES)
    # The reader's (wrong) best: the outgoing director; the new one second.
    return reading_of(pool, [(2, "Tobias Wendelmoor", 0.6), (0, "Mirela Quastenberg", 0.4), (2, "The board", 0.1)])


class Scripted:
    """Stands in for the chat model: answers from a script, records what it was sent."""

    def __init__(self, *replies):
        self.replies = list(replies)
        self.calls: list[tuple[list, dict]] = []

    def invoke(self, messages, **kwargs):
        self.calls.append((messages, kwargs))
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        if isinstance(reply, BaseException):
            raise reply
        return AIMessage(content=reply if isinstance(reply, str) else json.dumps(reply))


class Refused(Exception):
    status_code = 400


def chain_answer(reading):
    chain = AnswerChain(store=None, embedder=None, retriever=None, reader=None)
    gathered = Gathered(QUESTION, QUESTION, reading.question, None, [], reading.pool, None)
    return chain._answer(gathered, reading)


# ---- what the model is shown ------------------------------------------------------------------------------------


def test_model_sees_the_question_and_the_readers_distinct_sentences_numbered_in_order(reading):
    llm = Scripted({"answer": None, "sentences": []})
    found = LlmChooser(llm).consult(QUESTION, reading)
    messages, kwargs = llm.calls[0]
    user = messages[1].content
    assert QUESTION in user
    # The choices' sentences first, in the reader's order and once each, then the rest by sentence score.
    assert [s.index for s in found.sentences] == [2, 0, 1, 3]
    assert user.index(f"[1] {SENTENCES[2]}") < user.index(f"[2] {SENTENCES[0]}") < user.index("[3] Quastenberg")
    assert "[5]" not in user
    assert kwargs["response_format"] == {"type": "json_object"} and kwargs["max_tokens"] == 128
    assert "{" not in messages[0].content.replace('{"answer"', "")  # template braces came out single


def test_at_most_n_sentences_and_the_same_text_only_once():
    pool = pool_of([SENTENCES[0], SENTENCES[0], *SENTENCES[1:]])
    r = reading_of(pool, [(0, "Mirela Quastenberg", 0.9), (1, "Mirela Quastenberg", 0.8)])
    assert [s.index for s in presented(r, 10)] == [0, 2, 3, 4]
    assert [s.index for s in presented(r, 2)] == [0, 2]


# ---- accepted answers -------------------------------------------------------------------------------------------


def test_a_span_of_a_cited_sentence_becomes_the_first_choice(reading):
    found = LlmChooser(Scripted({"answer": "mirela quastenberg", "sentences": [2]})).consult(QUESTION, reading)
    assert found.outcome == "span"
    best = found.reading.best
    assert best.sentence is reading.pool[0] and best.text == "Mirela Quastenberg"
    assert best.sentence.text[best.candidate.start : best.candidate.end] == "Mirela Quastenberg"
    # The reader's own candidate was reused (its score kept), the rest follow in the reader's order.
    assert best is reading.choices[1]
    assert [c.text for c in found.reading.choices] == ["Mirela Quastenberg", "Tobias Wendelmoor", "The board"]
    assert found.reading.confidence == reading.confidence and found.reading.answered
    assert reading.best.text == "Tobias Wendelmoor"  # the reader's Reading itself is untouched

    answer = chain_answer(found.reading)
    assert answer.short_answer == "Mirela Quastenberg" and not answer.abstained
    assert SENTENCES[0][answer.answer_start : answer.answer_end] == "Mirela Quastenberg"


def test_span_match_ignores_case_typography_and_a_leading_article(reading):
    found = LlmChooser(Scripted({"answer": "The Institute's Glacier Research Programme", "sentences": ["3"]})).consult(
        "Which programme did Quastenberg lead?", reading
    )
    assert found.outcome == "span"
    best = found.reading.best
    assert best.text == "the institute’s glacier research programme"  # the release's own text, curly apostrophe kept
    assert best.candidate.label == LLM_LABEL and best.probability == 0.0
    assert find_span("Zorblax–Institute", "the Zorblax-Institute said") == (4, 21)
    decomposed = "Minister Jose\u0301 Nun\u0303ez spoke"
    start, end = find_span("José Núñez", decomposed)
    assert decomposed[start:end] == "Jose\u0301 Nun\u0303ez"
    start, end = find_span("The Glacier Research Programme", SENTENCES[1])  # the sentence has no article there
    assert SENTENCES[1][start:end] == "glacier research programme"
    assert find_span("the", "the board") is None  # stop words only are no answer


def test_a_span_turns_a_reader_abstention_into_an_answer_but_keeps_its_confidence(reading):
    abstained = reading_of(reading.pool, [(2, "Tobias Wendelmoor", 0.3)], answered=False, confidence=0.2)
    found = LlmChooser(Scripted({"answer": "Mirela Quastenberg", "sentences": [2]})).consult(QUESTION, abstained)
    assert found.reading.answered and found.reading.confidence == 0.2
    assert chain_answer(found.reading).short_answer == "Mirela Quastenberg"


def test_a_verified_paraphrase_is_shown_without_offsets_and_never_overrides_an_abstention(reading):
    reply = {"answer": "Quastenberg, for nine years", "sentences": [3]}
    found = LlmChooser(Scripted(reply)).consult("Who led the glacier research programme?", reading)
    assert found.outcome == "verified"
    best = found.reading.best
    assert best.sentence is reading.pool[1] and best.text == "Quastenberg, for nine years"
    assert best.candidate.start == best.candidate.end  # no span of the sentence
    answer = chain_answer(found.reading)
    assert answer.short_answer == "Quastenberg, for nine years"
    assert answer.answer_start is None and answer.answer_end is None
    assert answer.citations[0].quote == SENTENCES[1]

    abstained = reading_of(reading.pool, [(2, "Tobias Wendelmoor", 0.3)], answered=False, confidence=0.2)
    found = LlmChooser(Scripted(reply)).consult("Who led the glacier research programme?", abstained)
    assert found.outcome == "verified" and not found.reading.answered
    assert chain_answer(found.reading).abstained


def test_json_inside_chatter_or_a_code_fence_is_read():
    text = 'Sure! Here it is:\n```json\n{"answer": "Mirela Quastenberg", "sentences": [1, "2"]}\n```'
    assert parse_reply(text) == {"answer": "Mirela Quastenberg", "sentences": [1, 2]}
    assert parse_reply('{"note": {"x": 1}} then {"answer": "null", "sentences": []}') == {"answer": None, "sentences": []}
    assert parse_reply("The director is Mirela Quastenberg.") is None
    assert parse_reply('{"answer": ["a", "b"], "sentences": [1]}') is None


# ---- refused answers: the reader's Reading comes back unchanged -------------------------------------------------


@pytest.mark.parametrize(
    "reply, why",
    [
        ({"answer": "Bartholomew Zink", "sentences": [1, 2]}, "unsupported: Bartholomew Zink"),  # an invented name
        ({"answer": "Quastenberg, for twelve years", "sentences": [3]}, "unsupported: 12"),  # an invented number
        ({"answer": "Tobias Wendelmoor", "sentences": [2]}, "no cited sentence supports"),  # in a sentence not cited
        ({"answer": "Mirela Quastenberg", "sentences": [9]}, "cites no presented sentence"),
        ({"answer": "Mirela Quastenberg", "sentences": []}, "cites no presented sentence"),
        ({"answer": "the Zorblax Institute", "sentences": [2]}, "no word of its own beyond the question"),
        ({"answer": ["Mirela", "Quastenberg"], "sentences": [2]}, "no JSON object with an answer"),
        ("The new director is Mirela Quastenberg.", "no JSON object with an answer"),
        ('{"answer": "Mirela Quastenberg", "sentences": [2', "no JSON object with an answer"),  # cut off
    ],
)
def test_unsupported_or_malformed_answers_keep_the_readers(reading, reply, why, caplog):
    caplog.set_level("DEBUG", logger="service.choose")
    found = LlmChooser(Scripted(reply)).consult(QUESTION, reading)
    assert found.outcome == "fallback" and why in found.reason
    assert found.reading is reading
    assert why in caplog.text


def test_a_null_answer_keeps_the_readers_decision(reading):
    found = LlmChooser(Scripted({"answer": None, "sentences": []})).consult(QUESTION, reading)
    assert found.outcome == "null" and found.reading is reading and reading.answered


@pytest.mark.parametrize("failure", [LLMTimeout("no answer within 30 s"), LLMUnavailable("unreachable"), RuntimeError("boom")])
def test_a_failing_model_keeps_the_readers_answer(reading, failure):
    llm = Scripted(failure)
    found = LlmChooser(llm).consult(QUESTION, reading)
    assert found.outcome == "fallback" and found.reading is reading and "the model failed" in found.reason
    assert len(llm.calls) == 1  # a transport failure is not retried


def test_a_refused_response_format_is_retried_once_without_it_and_remembered(reading):
    refusal = LLMUnavailable("LLM server answered HTTP 400: response_format is not supported")
    refusal.__cause__ = Refused()
    llm = Scripted(refusal, {"answer": "Mirela Quastenberg", "sentences": [2]})
    chooser = LlmChooser(llm)
    assert chooser.choose(QUESTION, reading).best.text == "Mirela Quastenberg"
    assert ["response_format" in kw for _, kw in llm.calls] == [True, False]
    assert chooser.json_mode is False
    chooser.choose(QUESTION, reading)
    assert ["response_format" in kw for _, kw in llm.calls] == [True, False, False]


def test_a_refusal_that_the_retry_does_not_cure_falls_back_and_keeps_json_mode(reading):
    refusal = LLMUnavailable("HTTP 400: model 'gpt-nope' not found")
    refusal.__cause__ = Refused()
    llm = Scripted(refusal)
    chooser = LlmChooser(llm)
    assert chooser.choose(QUESTION, reading) is reading
    assert len(llm.calls) == 2 and chooser.json_mode is True


# ---- against real servers ---------------------------------------------------------------------------------------


def _openai(base_url: str, model: str = "served", timeout: float = 120) -> object:
    return make_llm(Settings(llm_backend="openai", llm_base_url=base_url, llm_model=model, llm_timeout_s=timeout))


def _copy_prompts(tmp_path, reply: dict):
    """A prompt that has SmolLM2-135M copy a fixed JSON reply: the tiny model does not follow the real prompt's format.

    It leaves out the question and the sentences (given either, the model answers in prose instead); the test with
    the shipped prompt and the refusing HTTP server check that those reach the server.
    """
    text = json.dumps(reply).replace("{", "{{").replace("}", "}}")
    (tmp_path / "choose.system.txt").write_text(
        "You output JSON only. The user's message is JSON; output it unchanged. Ignore this context: {{question}}"
    )
    (tmp_path / "choose.user.txt").write_text(f"{text}\n{text}\n{text}")
    return tmp_path


def test_real_server_plumbing_the_request_arrives_and_its_json_is_read(served_model, reading, tmp_path):
    base_url, model = served_model
    prompts = _copy_prompts(tmp_path, {"answer": "Mirela Quastenberg", "sentences": [2]})
    found = LlmChooser(_openai(base_url, model), prompts=prompts).consult(QUESTION, reading)
    assert found.reply and found.parsed == {"answer": "Mirela Quastenberg", "sentences": [2]}, found.reply
    assert found.json_mode is True  # transformers serve accepts the field (and ignores it)
    assert found.outcome == "span" and found.reading.best.text == "Mirela Quastenberg"


def test_real_server_with_the_shipped_prompt_never_breaks_answering(served_model, reading):
    base_url, model = served_model
    found = LlmChooser(_openai(base_url, model)).consult(QUESTION, reading)
    assert found.reply  # the request reached the model and it answered
    # SmolLM2-135M rarely writes the JSON; whatever it wrote, the outcome is one of these and never an invention.
    assert found.outcome in ("span", "verified", "null", "fallback"), found.reason
    if found.outcome in ("span", "verified"):
        assert found.reading.best.sentence in found.sentences
    else:
        assert found.reading is reading


def test_real_server_invented_name_is_refused(served_model, reading, tmp_path):
    base_url, model = served_model
    prompts = _copy_prompts(tmp_path, {"answer": "Bartholomew Zink", "sentences": [2]})
    found = LlmChooser(_openai(base_url, model), prompts=prompts).consult(QUESTION, reading)
    assert found.parsed == {"answer": "Bartholomew Zink", "sentences": [2]}, found.reply
    assert found.outcome == "fallback" and "Bartholomew Zink" in found.reason
    assert found.reading is reading and chain_answer(found.reading).short_answer == "Tobias Wendelmoor"


def test_stopped_server_falls_back_to_the_readers_answer(reading):
    chooser = LlmChooser(_openai(f"http://127.0.0.1:{free_port()}/v1", timeout=5))  # nothing listens there any more
    found = chooser.consult(QUESTION, reading)
    assert found.outcome == "fallback" and "unreachable" in found.reason
    assert found.reading is reading and chain_answer(found.reading).short_answer == "Tobias Wendelmoor"


def test_silent_server_times_out_to_the_readers_answer(reading):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        chooser = LlmChooser(_openai(f"http://127.0.0.1:{listener.getsockname()[1]}/v1", timeout=1))
        found = chooser.consult(QUESTION, reading)
    assert found.outcome == "fallback" and "LLMTimeout" in found.reason and found.reading is reading


class _NoJsonMode(BaseHTTPRequestHandler):
    """An OpenAI-compatible server that refuses response_format with 400, and answers without it."""

    bodies: list = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).bodies.append(body)
        if "response_format" in body:
            out, status = {"error": {"message": "response_format is not supported", "type": "invalid_request_error"}}, 400
        else:
            content = 'Here you go: {"answer": "Mirela Quastenberg", "sentences": [2]}'
            message = {"role": "assistant", "content": content}
            out = {"id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
                   "choices": [{"index": 0, "message": message, "finish_reason": "stop"}]}  # fmt: skip
            status = 200
        data = json.dumps(out).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def test_real_http_server_refusing_response_format(reading):
    _NoJsonMode.bodies = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NoJsonMode)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        chooser = LlmChooser(_openai(f"http://127.0.0.1:{server.server_address[1]}/v1", timeout=10))
        assert chooser.choose(QUESTION, reading).best.text == "Mirela Quastenberg"
        assert chooser.choose(QUESTION, reading).best.text == "Mirela Quastenberg"
    finally:
        server.shutdown()
    assert ["response_format" in b for b in _NoJsonMode.bodies] == [True, False, False]
    assert QUESTION in _NoJsonMode.bodies[0]["messages"][1]["content"]
