"""Gold files: the dev set loads, and malformed records fail with the file, line and id."""

import json

import pytest

from eval.gold import GoldError, GoldSource, load_gold
from eval.squad import load_squad
from pressqa.settings import REPO_ROOT


def test_dev_set_loads():
    questions = load_gold(REPO_ROOT / "eval/gold/dev.yaml")
    assert len(questions) == len({q.id for q in questions}) >= 40
    by_id = {q.id: q for q in questions}
    multi = by_id["multi-tajik-fm-muhriddin"]
    assert multi.sources == [
        GoldSource("seed/china-central-asia-foreign-ministers-meeting.txt", None),
        GoldSource("state-dept/press-releases.rss", "https://www.state.gov/secretary-blinkens-meeting-with-tajikistan-foreign-minister-muhriddin/"),
    ]
    assert len(multi.evidence) == 2
    assert [m.role for m in by_id["seed-kazakhstan"].history] == ["user", "assistant"]
    assert by_id["seed-turkmenistan"].answerable and not by_id["unans-seed-meeting-city"].answerable
    assert by_id["wh-switzerland-protecting-power"].answers == ["40 years", "40"]


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("id: a\n", "expected a non-empty YAML list"),
        ("- id: a\n  question: Q?\n- question: no id\n", ":3: missing or empty `id`"),
        ("- id: a\n  question: ''\n", "id=a: missing or empty `question`"),
        ("- id: a\n  question: Q?\n  answerable: maybe\n", "`answerable` must be true or false"),
        ("- id: a\n  question: Q?\n  source: [x.md, y.md]\n  source_url: [u]\n", "must be aligned"),
        ("- id: a\n  question: Q?\n  history: [{role: bot, content: hi}]\n", "`history[0]`"),
        ("- id: a\n  question: Q?\n  facts: [{x: 1}]\n", "`facts` must be a string or a list"),
        ("- id: a\n  question: Q?\n- id: a\n  question: R?\n", ":3: id=a: duplicate id"),
        ("- id: a\n  question: [unclosed\n", "not valid YAML"),
    ],
)
def test_malformed_records_are_rejected_with_their_line(tmp_path, text, error):
    path = tmp_path / "g.yaml"
    path.write_text(text)
    with pytest.raises(GoldError) as info:
        load_gold(path)
    assert error in str(info.value) and str(path) in str(info.value)


def test_strings_or_lists_and_defaults(tmp_path):
    path = tmp_path / "g.yaml"
    path.write_text("- id: a\n  question: Q?\n  answers: Souda Bay\n  source_url: https://x/\n  evidence: E.\n  tags: where\n")
    (q,) = load_gold(path)
    assert q.answers == ["Souda Bay"] and q.evidence == ["E."] and q.tags == ["where"]
    assert q.sources == [GoldSource(None, "https://x/")] and q.answerable and q.facts == [] and q.line == 1


def test_every_written_reading_set_is_squad2_with_its_spans_at_their_offsets():
    # The fits load these with eval.squad.load_squad (which rejects malformed files and repeated ids) and find each
    # answer by its text in its paragraph (eval.fit_pointer._locate): an answer that is not its paragraph's words is
    # never located, and its question silently teaches nothing. Offsets are what the SQuAD format promises besides.
    files = sorted((REPO_ROOT / "eval/gold/reading").rglob("*.json"))
    assert len(files) >= 30
    ids = set()
    for path in files:
        squad = load_squad(path)
        assert not ids & {q.id for q in squad.questions}, path.name  # unique across files too
        ids |= {q.id for q in squad.questions}
        data = json.loads(path.read_text(encoding="utf-8"))
        assert data["version"] == "v2.0", path
        for article in data["data"]:
            for paragraph in article["paragraphs"]:
                context = paragraph["context"]
                for qa in paragraph["qas"]:
                    spans = qa.get("plausible_answers", []) if qa["is_impossible"] else qa["answers"]
                    assert spans or qa["is_impossible"], (path.name, qa["id"])
                    assert not (qa["is_impossible"] and qa["answers"]), (path.name, qa["id"])
                    for span in spans:
                        start = span["answer_start"]
                        assert context[start : start + len(span["text"])] == span["text"], (path.name, qa["id"])
