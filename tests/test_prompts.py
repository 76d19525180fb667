"""The prompt files use exactly the variables the chain passes, and a missing prompt fails clearly."""

import pytest

from service.prompts import PROMPT_VARIABLES, PROMPTS_DIR, PromptNotFound, load_prompt, load_text, prompt_variables


@pytest.mark.parametrize("name", sorted(PROMPT_VARIABLES))
def test_prompt_variables_match_what_the_chain_passes(name):
    assert prompt_variables(name) == set(PROMPT_VARIABLES[name])


def test_every_prompt_file_is_documented():
    names = {p.name.split(".")[0] for p in PROMPTS_DIR.glob("*.txt")}
    assert names == set(PROMPT_VARIABLES)


def test_choose_prompt_formats_into_system_and_user_messages():
    messages = load_prompt("choose").format_messages(question="Who chairs the Zorblax Institute?", sentences="[1] Mirela Quastenberg chairs it.")
    assert [m.type for m in messages] == ["system", "human"]
    assert "Who chairs the Zorblax Institute?" in messages[1].content
    assert "Mirela Quastenberg" in messages[1].content


def test_condense_prompt_carries_history_and_question():
    messages = load_prompt("condense").format_messages(history="user: Who represented Turkmenistan?", question="And Kyrgyzstan?")
    text = "\n".join(m.content for m in messages)
    assert "Who represented Turkmenistan?" in text and "And Kyrgyzstan?" in text


def test_plain_text_prompt_formats():
    assert "{scope}" in load_text("abstain")
    assert "{" not in load_text("abstain").format(scope=" (June 2021)")


def test_unknown_prompt_fails_clearly():
    with pytest.raises(PromptNotFound, match="no prompt 'nope'.*condense"):
        load_prompt("nope")
    with pytest.raises(PromptNotFound, match="no prompt 'nope'"):
        prompt_variables("nope")


def test_prompt_in_another_folder(tmp_path):
    (tmp_path / "greet.system.txt").write_text("Be brief. Literal braces: {{x}}\n")
    (tmp_path / "greet.user.txt").write_text("Hello {name}\n")
    assert prompt_variables("greet", tmp_path) == {"name"}
    messages = load_prompt("greet", tmp_path).format_messages(name="Ada")
    assert messages[0].content == "Be brief. Literal braces: {x}" and messages[1].content == "Hello Ada"
