"""The eval runner: end to end on a tiny corpus with the real chain, the error path, and the HTTP path."""

import json
import shutil
import threading
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from rich.console import Console

from eval.gold import GoldQuestion, load_gold
from eval.reports import write_json, write_junit, write_markdown
from eval.runner import ensure_index, eval_cli, run_eval
from pressqa.settings import REPO_ROOT, Settings
from service.records import Answer, Citation, RelatedRelease

CORPUS = REPO_ROOT / "corpus"
TINY_FILES = [
    "seed/china-central-asia-foreign-ministers-meeting.txt",
    "whitehouse/statements-releases/2021-08/2021-08-02-readout-of-president-joseph-r-biden-jr-call-with-prime-minister-justin-trudeau-of-canada-2.md",
    "whitehouse/statements-releases/2021-01/2021-01-26-readout-of-president-joseph-r-biden-jr-call-with-president-vladimir-putin-of-russia.md",
]
GOLD_IDS = ["seed-turkmenistan", "wh-trudeau-smoked-meats", "unans-seed-meeting-city"]


@pytest.fixture
def gold_file(tmp_path) -> Path:
    """Three questions of the dev set: two answerable (a .txt and a .md release) and one unanswerable."""
    records = [r for r in yaml.safe_load((REPO_ROOT / "eval/gold/dev.yaml").read_text()) if r["id"] in GOLD_IDS]
    path = tmp_path / "gold.yaml"
    path.write_text(yaml.safe_dump(records, sort_keys=False, allow_unicode=True))
    return path


@pytest.fixture
def tiny_corpus(tmp_path) -> Path:
    root = tmp_path / "corpus"
    for rel in TINY_FILES:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(CORPUS / rel, root / rel)
    return root


def check_report_files(json_path: Path, junit_path: Path, md_path: Path, ids: list[str]) -> dict:
    report = json.loads(json_path.read_text())
    for name in ("fact_recall", "exact_match", "answer_contains", "f1", "citation_precision", "citation_recall",
                 "quote_match", "retrieval_recall_at_5", "mrr", "abstention_accuracy", "false_abstention_rate",
                 "latency_p50_s", "latency_p95_s", "by_tag", "questions"):
        assert name in report, name
    assert [q["id"] for q in report["questions"]] == ids
    suite = ET.parse(junit_path).getroot().find("testsuite")
    assert [c.get("name") for c in suite.findall("testcase")] == ids
    failing = {c.get("name") for c in suite.findall("testcase") if c.find("failure") is not None or c.find("error") is not None}
    assert failing == {q["id"] for q in report["questions"] if not q["passed"]}
    md = md_path.read_text()
    assert md.startswith("# pressqa eval") and "| fact_recall |" in md
    return report


def test_end_to_end_with_the_real_chain(tmp_path, gold_file, tiny_corpus):
    from pressqa.runtime import Runtime

    settings = Settings(data=tmp_path / "data", llm_backend="none", corpus=tiny_corpus)
    out = tmp_path / "out"
    thresholds = tmp_path / "t.yaml"
    thresholds.write_text("min: {retrieval_recall_at_5: 1.0}\n")
    rc = eval_cli(settings, gold=[gold_file], json_out=out / "e.json", junit=out / "e.xml", markdown=out / "e.md", gate=thresholds)
    report = check_report_files(out / "e.json", out / "e.xml", out / "e.md", GOLD_IDS)
    assert report["run"]["index"]["releases"] == 3 and report["run"]["index"]["added"] == 3
    assert all(q["error"] is None for q in report["questions"]), [q["error"] for q in report["questions"]]
    # Three releases in the index: the gold release is always among the top 5, so origins and URLs match.
    assert report["retrieval_recall_at_5"] == 1.0
    assert rc == 0 and report["gate"]["passed"]

    # A second run reuses the up-to-date index.
    again = ensure_index(Runtime(settings), tiny_corpus, Console(stderr=True))
    assert again["added"] == 0 and again["updated"] == 0 and again["unchanged"] == 3


class ScriptedChain:
    """Answers from a table; raises for one question."""

    def __init__(self, answers: dict[str, Answer | Exception]) -> None:
        self.answers = answers
        self.histories: dict[str, list] = {}

    def ask(self, question, history=None, **_filters):
        self.histories[question] = history
        reply = self.answers[question]
        if isinstance(reply, Exception):
            raise reply
        return reply


SEED_ORIGIN = "/somewhere/corpus/seed/china-central-asia-foreign-ministers-meeting.txt"
SEED_QUOTE = "and Parahat Durdyev, Turkmenistan's Ambassador to China attended the meeting."


def scripted_answers(questions: list[GoldQuestion]) -> dict:
    by_id = {q.id: q for q in questions}
    return {
        by_id["seed-turkmenistan"].question: Answer(
            answer="Parahat Durdyev, Turkmenistan's Ambassador to China [1].",
            abstained=False,
            citations=[Citation(n=1, release_id="sha256:seed", title="t", origin=SEED_ORIGIN, quote=SEED_QUOTE, start=0, end=len(SEED_QUOTE))],
            related=[RelatedRelease(release_id="sha256:seed", title="t", origin=SEED_ORIGIN)],
        ),
        by_id["wh-trudeau-smoked-meats"].question: RuntimeError("model crashed"),
        by_id["unans-seed-meeting-city"].question: Answer(answer="The releases do not say.", abstained=True),
    }


def test_a_raising_question_is_recorded_as_failed_and_the_others_still_scored(tmp_path, gold_file):
    questions = load_gold(gold_file)
    report = run_eval(questions, chain=ScriptedChain(scripted_answers(questions)))
    by_id = {q.id: q for q in report.questions}
    assert [q.id for q in report.questions] == GOLD_IDS
    crashed = by_id["wh-trudeau-smoked-meats"]
    assert not crashed.passed and crashed.error == "RuntimeError: model crashed"
    assert by_id["seed-turkmenistan"].passed and by_id["seed-turkmenistan"].metrics["citation_precision"] == 1.0
    assert by_id["unans-seed-meeting-city"].passed
    assert report.summary["errors"] == 1 and report.summary["passed"] == 2
    assert report.summary["fact_recall"] == 0.5  # the crashed question counts as 0
    assert report.summary["abstention_accuracy"] == 1.0

    write_json(report, tmp_path / "e.json")
    write_junit(report, tmp_path / "e.xml")
    write_markdown(report, tmp_path / "e.md")
    check_report_files(tmp_path / "e.json", tmp_path / "e.xml", tmp_path / "e.md", GOLD_IDS)
    case = next(c for c in ET.parse(tmp_path / "e.xml").iter("testcase") if c.get("name") == "wh-trudeau-smoked-meats")
    assert "model crashed" in case.find("error").get("message")


def test_follow_up_history_reaches_the_chain(tmp_path):
    gold = tmp_path / "g.yaml"
    gold.write_text(
        "- id: follow\n  question: And Kazakhstan?\n  facts: [Murat Nurtleu]\n"
        "  history:\n  - {role: user, content: 'Who represented Turkmenistan?'}\n"
        "  - {role: assistant, content: Parahat Durdyev.}\n"
    )
    chain = ScriptedChain({"And Kazakhstan?": Answer(answer="Murat Nurtleu.", abstained=False)})
    report = run_eval(load_gold(gold), chain=chain)
    assert [m.content for m in chain.histories["And Kazakhstan?"]] == ["Who represented Turkmenistan?", "Parahat Durdyev."]
    assert report.questions[0].passed


@pytest.fixture
def service_url(gold_file):
    """A real HTTP server speaking POST /api/ask with scripted answers (a stand-in for `pressqa serve`)."""
    answers = scripted_answers(load_gold(gold_file))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            reply = answers.get(body["question"]) if self.path == "/api/ask" else None
            if isinstance(reply, Answer):
                status, payload = 200, reply.model_dump_json().encode()
            else:
                status, payload = 500, b'{"detail": "internal error"}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_cli_over_http_writes_reports_diffs_a_baseline_and_gates(tmp_path, gold_file, service_url):
    settings = Settings(data=tmp_path / "data")
    out = tmp_path / "out"
    lenient, strict = tmp_path / "lenient.yaml", tmp_path / "strict.yaml"
    lenient.write_text("min: {fact_recall: 0.5}\nmax: {errors: 1}\n")
    strict.write_text("min: {fact_recall: 0.9, abstention_accuracy: 1.0}\n")

    rc = eval_cli(settings, gold=[gold_file], url=service_url, json_out=out / "a.json", junit=out / "a.xml",
                  markdown=out / "a.md", gate=lenient)
    report = check_report_files(out / "a.json", out / "a.xml", out / "a.md", GOLD_IDS)
    assert rc == 0 and report["gate"]["passed"]
    assert report["errors"] == 1 and "HTTP 500" in report["questions"][1]["error"]
    assert report["run"]["target"] == f"service {service_url}"

    # Pretend the crashed question passed last time and the first one failed.
    previous = json.loads((out / "a.json").read_text())
    previous["questions"][0]["passed"], previous["questions"][1]["passed"] = False, True
    (out / "prev.json").write_text(json.dumps(previous))
    rc = eval_cli(settings, gold=[gold_file], url=service_url, json_out=out / "b.json", markdown=out / "b.md",
                  baseline=out / "prev.json", gate=strict)
    report = json.loads((out / "b.json").read_text())
    assert rc == 1 and not report["gate"]["passed"]
    assert report["gate"]["missed"] == ["fact_recall = 0.5 < minimum 0.9"]
    assert report["baseline"]["newly_failing"] == ["wh-trudeau-smoked-meats"]
    assert report["baseline"]["newly_passing"] == ["seed-turkmenistan"]
    assert "Newly failing: `wh-trudeau-smoked-meats`" in (out / "b.md").read_text()


def test_cli_rejects_a_bad_gold_file(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("- id: a\n  question: Q?\n- id: a\n  question: Again?\n")
    assert eval_cli(Settings(data=tmp_path / "data"), gold=[bad], url="http://127.0.0.1:9") == 2
    assert "duplicate id" in capsys.readouterr().err
