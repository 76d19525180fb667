"""OpenAI parameters honoured or refused, and chained follow-ups, through the official openai SDK against a real
`pressqa serve` (no LLM: the answer is the quoted clause "Parahat Durdyev, Turkmenistan's Ambassador to China")."""

import httpx
import openai
import pytest

from pressqa.settings import REPO_ROOT
from real_serve import start_serve, stop, wait_ready

SEED = REPO_ROOT / "corpus/seed/china-central-asia-foreign-ministers-meeting.txt"
TURKMENISTAN = "Who represented Turkmenistan at the Sixth China-Central Asia Foreign Ministers' Meeting?"
ASK = [{"role": "user", "content": TURKMENISTAN}]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("conformance")
    server = start_serve(root / "data", root / "serve.log")
    try:
        wait_ready(server)
        up = httpx.post(f"{server.url}/api/releases", files={"files": (SEED.name, SEED.read_bytes(), "text/plain")}, timeout=120)
        assert up.status_code == 200, up.text
        yield server
    finally:
        stop(server)


@pytest.fixture(scope="module")
def client(served):
    return openai.OpenAI(base_url=f"{served.url}/v1", api_key="unused", max_retries=0, timeout=300)


@pytest.mark.parametrize(
    "param, extra",
    [
        ("n", {"n": 2}),
        ("tools", {"tools": [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object", "properties": {}}}}], "tool_choice": "required"}),
        ("tools", {"tools": [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object", "properties": {}}}}]}),
        ("response_format", {"response_format": {"type": "json_object"}}),
        ("logprobs", {"logprobs": True}),
    ],
    ids=["n=2", "tools-required", "tools-auto", "json_object", "logprobs"],
)
def test_what_an_extractive_answer_cannot_do_is_refused_naming_the_parameter(client, param, extra):
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="pressqa", messages=ASK, **extra)
    assert caught.value.param == param
    assert param in caught.value.message or param.rstrip("s") in caught.value.message


def test_tools_with_tool_choice_none_and_text_format_are_answered(client):
    done = client.chat.completions.create(
        model="pressqa", messages=ASK, tool_choice="none", response_format={"type": "text"}, n=1,
        tools=[{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object", "properties": {}}}}],
    )
    assert "Parahat Durdyev" in done.choices[0].message.content


def test_stop_ends_the_answer_before_the_stop_sequence(client):
    done = client.chat.completions.create(model="pressqa", messages=ASK, stop=["Durdyev"])
    content = done.choices[0].message.content
    assert "Parahat" in content and "Durdyev" not in content
    assert done.choices[0].finish_reason == "stop"
    streamed = client.chat.completions.create(model="pressqa", messages=ASK, stop="Durdyev", stream=True)
    chunks = list(streamed)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == content


def test_max_tokens_truncates_with_finish_reason_length(client):
    done = client.chat.completions.create(model="pressqa", messages=ASK, max_tokens=1)
    assert done.choices[0].finish_reason == "length"
    assert 0 < len(done.choices[0].message.content) <= 4
    assert done.usage.completion_tokens <= 1
    assert done.choices[0].message.model_extra["citations"] == []  # no [n] marker survives in four characters
    streamed = list(client.chat.completions.create(model="pressqa", messages=ASK, max_tokens=3, stream=True, stream_options={"include_usage": True}))
    text = "".join(c.choices[0].delta.content or "" for c in streamed if c.choices)
    finals = [c.choices[0].finish_reason for c in streamed if c.choices and c.choices[0].finish_reason]
    assert finals == ["length"] and 0 < len(text) <= 12
    assert streamed[-1].usage.completion_tokens <= 3
    full = client.chat.completions.create(model="pressqa", messages=ASK, max_tokens=500)
    assert full.choices[0].finish_reason == "stop" and "Parahat Durdyev" in full.choices[0].message.content


def test_the_listed_model_can_be_retrieved(client):
    assert [m.id for m in client.models.list()] == ["pressqa"]
    assert client.models.retrieve("pressqa").id == "pressqa"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("gpt-4o")


def test_streamed_citations_have_the_same_shape_as_plain_ones(served):
    plain = httpx.post(f"{served.url}/v1/chat/completions", json={"messages": ASK}, timeout=300).json()
    cited = plain["choices"][0]["message"]["citations"]
    assert cited and "url" in cited[0] and cited[0]["url"] is None  # the seed release has no URL
    final = None
    with httpx.stream("POST", f"{served.url}/v1/chat/completions", json={"messages": ASK, "stream": True}, timeout=300) as response:
        for line in response.iter_lines():
            if line.startswith("data: {") and '"finish_reason": "stop"' in line:
                final = httpx.Response(200, content=line[len("data: "):]).json()
    assert final is not None
    assert final["choices"][0]["citations"] == cited
    assert final["choices"][0]["delta"]["citations"] == cited
    assert final["pressqa"].keys() == plain["pressqa"].keys()


def test_a_chained_follow_up_builds_on_the_last_standalone_question(served):
    history = [
        {"role": "user", "content": TURKMENISTAN},
        {"role": "assistant", "content": "Parahat Durdyev [1]"},
        {"role": "user", "content": "And Kyrgyzstan?"},
        {"role": "assistant", "content": "Jeenbek Kulubaev [1]"},
    ]
    got = httpx.post(f"{served.url}/api/ask", json={"question": "And Kazakhstan?", "history": history}, timeout=300).json()
    assert got["standalone_question"] == TURKMENISTAN.replace("Turkmenistan", "Kazakhstan")
    assert got["abstained"] is False and "Murat Nurtleu" in got["answer"], got["answer"]
